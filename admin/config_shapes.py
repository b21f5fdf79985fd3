"""The shape of a configuration file (admin.config_file): places in the file, problems found
at those places, and checks that a part of the file is the mapping or list it should be.

These check only the file's structure (keys, types, duplicates); what a value may be (a code,
a prefix, a name) is checked by the same domain functions as the admin's pages and commands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from frontyard.exceptions import ValidationFailed
from frontyard.i18n import gettext as _

#: A place in the file: mapping keys (str) and list positions (int), e.g. ("offices", 0, "code").
Path = tuple[str | int, ...]



@dataclass(frozen=True)
class Problem:
    """What is wrong, and where in the file."""

    path: Path
    message: str


class ConfigRejected(ValidationFailed):
    """A configuration file that cannot be imported; nothing of it was written."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the configuration file")


def at(prefix: Path, problems: Iterable[Problem]) -> list[Problem]:
    """The problems of a part of the file, placed under `prefix`."""
    return [Problem(prefix + problem.path, problem.message) for problem in problems]


def describe_path(path: Path) -> str:
    """A place as a reader finds it: offices[0].services[2].prefix."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or _("(the whole file)")


def expected(kind: type | tuple[type, ...]) -> str:
    """The problem of a value that is not of the type a key needs, as a whole sentence."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if kinds == (str, int):
        return _("expected text or a whole number")
    sentences = {str: lambda: _("expected text"), int: lambda: _("expected a whole number"),
                 bool: lambda: _("expected true or false"), list: lambda: _("expected a list"),
                 dict: lambda: _("expected a mapping (key: value)")}
    return sentences[kinds[0]]()


def is_a(value: Any, kind: type | tuple[type, ...]) -> bool:
    """Whether a YAML value has this type (a YAML true is not a whole number)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if object in kinds:
        return True
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def check_mapping(value: Any, path: Path, keys: Mapping[str, type | tuple[type, ...]],
                  required: Iterable[str], problems: list[Problem]) -> dict[str, Any]:
    """A mapping with only the known keys, each of its type; the good part of it."""
    if not isinstance(value, dict):
        problems.append(Problem(path, expected(dict)))
        return {}
    clean: dict[str, Any] = {}
    for key, item in value.items():
        if str(key) not in keys:
            problems.append(Problem((*path, str(key)), _(
                "unknown key (known keys: %(keys)s)") % {"keys": ", ".join(keys)}))
        elif not is_a(item, keys[str(key)]):
            problems.append(Problem((*path, str(key)), expected(keys[str(key)])))
        else:
            clean[str(key)] = item
    for key in required:
        if key not in value:
            problems.append(Problem(path, _("'%(key)s' is missing") % {"key": key}))
    return clean


def check_names(value: Any, path: Path, problems: list[Problem]) -> dict[str, str]:
    """Names per language: a mapping of language codes to texts."""
    if not isinstance(value, dict):
        problems.append(Problem(path, _("expected a mapping of languages to names (ja: …)")))
        return {}
    clean = {}
    for locale, text in value.items():
        if not isinstance(text, str):
            problems.append(Problem((*path, str(locale)), expected(str)))
        else:
            clean[str(locale)] = text
    return clean


def check_list(value: Any, path: Path, problems: list[Problem]) -> list[Any]:
    """A list (None, an empty YAML value, is an empty list)."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Problem(path, expected(list)))
        return []
    return value


def check_texts(value: Any, path: Path, problems: list[Problem]) -> list[str]:
    """A list of texts (codes)."""
    items = check_list(value, path, problems)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            problems.append(Problem((*path, index), expected(str)))
    return [item for item in items if isinstance(item, str)]


def duplicates(keys: Iterable[tuple[int, str]], path: Path, what: str,
               problems: list[Problem]) -> None:
    """A problem for each repeated key in a list (the second and later ones)."""
    seen: set[str] = set()
    for index, key in keys:
        if key in seen:
            problems.append(Problem((*path, index), _("%(field)s %(value)s appears twice") % {
                "field": what, "value": repr(key)}))
        seen.add(key)


def field_problems(error: ValidationFailed, path: Path,
                   renames: Mapping[str, str] | None = None) -> list[Problem]:
    """A domain function's refusal as problems at the refused fields' places."""
    if isinstance(error, ConfigRejected):
        return at(path, error.problems)
    if not error.fields:
        return [Problem(path, str(error))]
    return [Problem((*path, (renames or {}).get(field, field)), str(message))
            for field, message in error.fields.items()]


def nul_characters(value: Any, path: Path = ()) -> list[Problem]:
    """A problem for each text holding a NUL character (YAML can write one as "\\0"; the
    database refuses it, and it would fail the whole import at its first write)."""
    if isinstance(value, str):
        return [Problem(path, _("the text contains a NUL character"))] if "\x00" in value else []
    if isinstance(value, dict):
        return [problem for key, item in value.items()
                for problem in nul_characters(item, (*path, str(key)))]
    if isinstance(value, list):
        return [problem for index, item in enumerate(value)
                for problem in nul_characters(item, (*path, index))]
    return []


def line_numbers(text: str) -> tuple[dict[Path, int], list[Problem]]:
    """The line of every key and list item of a YAML text, and the keys written twice
    (YAML would silently keep the last one)."""
    lines: dict[Path, int] = {}
    problems: list[Problem] = []

    def walk(node: yaml.Node, path: Path) -> None:
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                name = str(key.value)
                lines.setdefault((*path, name), key.start_mark.line + 1)
                if name in seen:
                    problems.append(Problem((*path, name), _("this key is written twice")))
                seen.add(name)
                walk(value, (*path, name))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                walk(item, (*path, index))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return lines, problems


def line_of(lines: Mapping[Path, int], path: Path) -> int | None:
    """The line of a place, or of the nearest enclosing place the file has."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None
