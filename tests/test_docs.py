"""Documentation that must keep up with the code."""

from __future__ import annotations

import re
from pathlib import Path

from frontyard import PROJECT_ROOT
from frontyard.settings import Settings


def test_every_setting_is_documented_in_the_readme():
    """Each FRONTYARD_* setting has a row in README's settings table, and no row is stale."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(FRONTYARD_[A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))
    expected = {f"FRONTYARD_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_the_realtime_topics_in_the_docs_are_the_ones_the_code_announces_on():
    """Every hub topic the docs name (`office:<id>`, `office:{office_id}`…) is `topic_of`'s."""
    from counter.topics import topic_of

    prefix = topic_of(12345).removesuffix("12345")
    topic = re.compile(r"[`\"]([a-z_]+:)(?:<[a-z_]+>|\{[a-z_.]+\}|\d+)[`\"]")
    named = {}
    for name in ("queue.md", "realtime.md", "architecture.md"):
        text = (PROJECT_ROOT / "docs" / name).read_text(encoding="utf-8")
        named[name] = set(topic.findall(text))
    assert all(named.values()), named  # each page names the topic at least once
    assert all(found == {prefix} for found in named.values()), named


DOCUMENTS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
PACKAGES = "frontyard|kiosk|counter|analytics|admin|composition"
#: Dotted names that are files (`frontyard.sqlite3`, `frontyard.css`), not Python.
FILE_SUFFIXES = {"css", "js", "sqlite3", "yaml", "html", "md", "py", "json"}


def test_every_path_the_docs_name_exists():
    """A moved or renamed file updates the docs: `counter/queue/eventlog.py` must be there."""
    path = re.compile(rf"`((?:{PACKAGES}|tests|benchmarks|scripts|static|templates|docs)"
                      r"/[A-Za-z0-9_./\-]+)(?:::[A-Za-z0-9_]+)?`")
    missing = [f"{doc.name}: {found}" for doc in DOCUMENTS
               for found in path.findall(doc.read_text(encoding="utf-8"))
               if not (PROJECT_ROOT / found).exists()]
    assert not missing, missing


def _defines(module: str, attributes: list[str]) -> bool:
    """Whether `module`'s source defines the attribute path (read with ast, never imported: a
    module such as `composition.asgi` builds an app when imported)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return not attributes
    body: list[ast.stmt] = ast.parse(Path(spec.origin).read_text(encoding="utf-8")).body
    for attribute in attributes:
        found = None
        for node in body:
            names: list[str] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = [(alias.asname or alias.name).split(".")[0] for alias in node.names]
            if attribute in names:
                found = node
                break
        if found is None:
            return False
        if not isinstance(found, ast.ClassDef):
            return True  # an imported or assigned name: its attributes are not read further
        body = found.body
    return True


def test_every_module_and_name_the_docs_name_imports():
    """`counter.events.recorded`, `composition.wiring`…: each is a module or a name it defines."""
    import importlib.util

    dotted = re.compile(rf"`((?:{PACKAGES})(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
    broken = []
    for doc in DOCUMENTS:
        for name in set(dotted.findall(doc.read_text(encoding="utf-8"))):
            parts = name.split(".")
            if FILE_SUFFIXES & set(parts[1:]):
                continue
            for split in range(len(parts), 0, -1):
                try:
                    spec = importlib.util.find_spec(".".join(parts[:split]))
                except ModuleNotFoundError:
                    spec = None
                if spec is not None:
                    if not _defines(".".join(parts[:split]), parts[split:]):
                        broken.append(f"{doc.name}: {name}")
                    break
    assert not broken, broken


def test_every_command_is_documented_in_the_readme():
    """Each `frontyard` command (and subcommand) has a row in README's command table."""
    import click

    from composition.cli import main

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(frontyard [a-z][a-z -]*?)(?: [A-Z\[]|`)", readme))

    def names(group: click.Group, prefix: str) -> set[str]:
        found = set()
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                found |= names(command, f"{prefix} {name}")
            else:
                found.add(f"{prefix} {name}")
        return found

    assert names(main, "frontyard") <= documented
