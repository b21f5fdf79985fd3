"""Reading a catalog file: YAML with the line of every place, and the problems found on the way.

Separate from the checks because knowing *where* something is in a file (its place and line)
is one concern, used by every check; what is wrong with the catalog is another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from frontyard.i18n import deferred


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalog file; `message` is English as a string and
    `frontyard.i18n.translated(message)` on a page (checks are cached for every reader)."""

    file: str
    line: int | None
    place: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        place = f" {self.place}:" if self.place else ""
        return f"{where}:{place} {self.message}"


Loc = tuple[str | int, ...]


def format_place(loc: Iterable[str | int]) -> str:
    """A path such as life_events[2].rules[0].when[1]."""
    place = ""
    for part in loc:
        place += f"[{part}]" if isinstance(part, int) else (f".{part}" if place else str(part))
    return place


def _walk_nodes(node: yaml.Node, loc: Loc, lines: dict[Loc, int],
                duplicates: list[tuple[Loc, str]]) -> None:
    """Record the 1-based line of every mapping value and sequence item, and duplicate keys."""
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                lines[(*loc, key, "#dup")] = key_node.start_mark.line + 1
                duplicates.append(((*loc, key, "#dup"), key))
            seen.add(key)
            _walk_nodes(value_node, (*loc, key), lines, duplicates)
            lines[(*loc, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk_nodes(item, (*loc, index), lines, duplicates)


def line_of(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest part of `loc` present in the file."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


#: A catalog's YAML may not hold more nodes than this (the bundled one has about 20,000).
MAX_NODES = 500_000


def _shape_problem(text: str) -> tuple[int, str] | None:
    """Refuse what would make composing the YAML explode: anchors and aliases (`&x`, `*x`:
    a "billion laughs" file grows exponentially when walked) and absurd node counts."""
    for count, event in enumerate(yaml.parse(text, Loader=yaml.SafeLoader)):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            return (event.start_mark.line + 1,
                    deferred("anchors and aliases (& and *) are not allowed in a catalog"))
        if count > MAX_NODES:
            return event.start_mark.line + 1, deferred("the catalog is too large")
    return None


def read_yaml(path: Path, label: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Parse a YAML file safely; returns the data, the line of each place, and problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, {}, [Problem(label, None, "", deferred("cannot read the file: %(error)s",
                                                              error=str(error)))]
    return read_yaml_text(text, label)


def read_yaml_text(text: str, label: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Parse a catalog's YAML text safely; returns the data, the line of each place, and
    problems (no anchors or aliases, a mapping at the root)."""
    if not text.strip():
        return None, {}, [Problem(label, None, "", deferred("the catalog is empty"))]
    if "\x00" in text:
        return None, {}, [Problem(label, None, "", deferred(
            "the file is not text (it holds NUL bytes)"))]
    loader = yaml.SafeLoader(text)
    try:
        shape = _shape_problem(text)
        if shape is not None:
            return None, {}, [Problem(label, shape[0], "", shape[1])]
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark else None
        return None, {}, [Problem(label, line, "", deferred("YAML syntax: %(problem)s",
                                                              problem=str(error.problem)))]
    except yaml.YAMLError as error:
        return None, {}, [Problem(label, None, "", deferred("YAML syntax: %(problem)s",
                                                              problem=str(error)))]
    except RecursionError:
        return None, {}, [Problem(label, None, "", deferred("the YAML is nested too deeply"))]
    except ValueError as error:  # a value YAML cannot make: 2026-02-30, a 5,000-digit number
        return None, {}, [Problem(label, None, "", deferred("YAML syntax: %(problem)s",
                                                              problem=str(error)))]
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    duplicates: list[tuple[Loc, str]] = []
    if node is not None:
        try:
            _walk_nodes(node, (), lines, duplicates)
        except RecursionError:
            return None, {}, [Problem(label, None, "",
                                      deferred("the YAML is nested too deeply"))]
    problems = [Problem(label, lines[loc], format_place(loc[:-1]),
                        deferred("duplicate key '%(key)s'", key=str(key)))
                for loc, key in duplicates]
    if not isinstance(data, dict):
        problems.append(Problem(label, 1, "", deferred("the catalog must be a YAML mapping")))
    return data, lines, problems
