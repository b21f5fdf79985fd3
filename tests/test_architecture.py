"""The layers of docs/architecture.md hold: every import of every module is read with `ast`.

- The core (`frontyard/`) imports no feature and not the composition layer.
- A feature imports the core, itself and, of another feature, only the modules that feature
  lists as public (`PUBLIC_MODULES` in its `__init__.py`), along the allowed directions.
- Nothing but the composition layer's entry points imports `composition`.
- The core's modules import each other without a cycle.
- No module is over ~500 lines (migrations and tests aside).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = "frontyard"
FEATURES = ("kiosk", "counter", "analytics", "navigator", "admin")
COMPOSITION = "composition"
#: Which features a feature may use (through their public modules). Analytics follows the
#: queue; the queue knows neither the kiosk nor analytics; admin configures the others.
MAY_USE = {
    "kiosk": {"counter"},
    "counter": set(),
    "analytics": {"counter"},
    "navigator": {"counter", "kiosk", "analytics"},
    "admin": {"counter", "kiosk", "analytics"},
}
#: Alembic's environment needs the whole schema, which only the composition layer knows.
COMPOSITION_ENTRY_POINTS = {"frontyard/migrations/env.py"}
MAX_LINES = 520


def _python_files(top: str) -> Iterator[Path]:
    yield from sorted((ROOT / top).rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imported_modules(path: Path) -> set[str]:
    """Every project module `path` imports, at the top or inside a function (resolved to the
    deepest module: `from counter import queue` imports `counter.queue`)."""
    package = _module_name(path) if path.name == "__init__.py" else \
        _module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if _is_module(candidate) else base)
    tops = {CORE, COMPOSITION, *FEATURES}
    return {name for name in found if name.split(".")[0] in tops}


def public_modules(feature: str) -> set[str]:
    """The modules a feature offers to the others: `PUBLIC_MODULES` in its `__init__.py`."""
    tree = ast.parse((ROOT / feature / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "PUBLIC_MODULES" for t in targets):
                return set(ast.literal_eval(node.value))  # type: ignore[arg-type]
    return set()


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_core_imports_no_feature_and_not_the_composition_layer() -> None:
    """`frontyard/` can be read alone."""
    wrong = [f"{_relative(path)} imports {name}"
             for path in _python_files(CORE) if _relative(path) not in COMPOSITION_ENTRY_POINTS
             for name in sorted(imported_modules(path))
             if name.split(".")[0] != CORE]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("feature", FEATURES)
def test_a_feature_uses_only_the_core_and_public_modules_of_the_features_it_may(
        feature: str) -> None:
    """No reaching into another feature's internals, no import against the allowed direction."""
    wrong = []
    for path in _python_files(feature):
        for name in sorted(imported_modules(path)):
            top = name.split(".")[0]
            if top in (CORE, feature):
                continue
            if top == COMPOSITION:
                wrong.append(f"{_relative(path)} imports the composition layer ({name})")
            elif top not in MAY_USE[feature]:
                wrong.append(f"{_relative(path)} imports {name}: {feature} may not use {top}")
            elif name not in public_modules(top):
                wrong.append(f"{_relative(path)} imports {name}, not public in {top}/__init__.py")
    assert not wrong, "\n".join(wrong)


def test_public_modules_exist() -> None:
    """Every module a feature calls public is there (a rename updates the list)."""
    missing = [name for feature in FEATURES for name in public_modules(feature)
               if not _is_module(name) or name.split(".")[0] != feature]
    assert not missing


def test_only_entry_points_import_the_composition_layer() -> None:
    """Features and the core never reach up; only tests, benchmarks and the entry points do."""
    wrong = [f"{_relative(path)} imports {name}"
             for top in (CORE, *FEATURES) for path in _python_files(top)
             if _relative(path) not in COMPOSITION_ENTRY_POINTS
             for name in imported_modules(path) if name.split(".")[0] == COMPOSITION]
    assert not wrong, "\n".join(wrong)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (module → modules it imports), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_find_cycle_finds_one() -> None:
    """The checker itself: a → b → c → a is a cycle, a → b → c is not."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_core_has_no_import_cycle() -> None:
    """Core modules import each other in one direction (function-level imports count too)."""
    graph = {}
    for path in _python_files(CORE):
        if "migrations" in path.parts:
            continue
        name = _module_name(path)
        graph[name] = {other for other in imported_modules(path)
                       if other.startswith(CORE + ".") and other != name}
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph) or [])


def test_modules_are_small_enough_to_hold_in_ones_head() -> None:
    """About 500 lines at most; split along the seams before adding more."""
    tops = (CORE, COMPOSITION, *FEATURES, "benchmarks", "scripts")
    large = [f"{_relative(path)}: {lines} lines"
             for top in tops for path in _python_files(top)
             if "migrations" not in path.parts
             and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not large, "\n".join(large)
