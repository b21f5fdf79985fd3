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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalog file."""

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


def read_yaml(path: Path, label: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Parse a YAML file safely; returns the data, the line of each place, and problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, {}, [Problem(label, None, "", f"cannot read the file: {error}")]
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark else None
        return None, {}, [Problem(label, line, "", f"YAML syntax: {error.problem}")]
    except yaml.YAMLError as error:
        return None, {}, [Problem(label, None, "", f"YAML syntax: {error}")]
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    duplicates: list[tuple[Loc, str]] = []
    if node is not None:
        _walk_nodes(node, (), lines, duplicates)
    problems = [Problem(label, lines[loc], format_place(loc[:-1]), f"duplicate key '{key}'")
                for loc, key in duplicates]
    if not isinstance(data, dict):
        problems.append(Problem(label, 1, "", "the catalog must be a YAML mapping"))
    return data, lines, problems
