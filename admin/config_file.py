"""The whole city's set-up as one YAML file: export it, and import it into another
installation (staging → production) or back (a backup), with a readable list of changes.

The file holds the offices (code, names, address) and, per office, one entry for each
registered section (`SECTIONS`): services, counters, staff's services, and whatever other
features register. User accounts, passwords and devices are never in it.

Importing matches existing things by code, creates the missing ones, changes the changed ones
and never deletes: what the database has and the file lacks is reported (and services can be
switched off with `deactivate_missing`). The caller runs an import in one transaction and
commits it, or rolls it back for a dry run: every problem raises FileRejected before anything
is committed. Values are checked by the admin's own functions (same rules, same audit log).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlmodel import Session

from admin import boards, config_sections, hours_config, kiosk_setup
from admin import offices as office_domain
from admin.config_shapes import (
    Problem,
    check_list,
    check_mapping,
    check_names,
    describe_path,
    duplicates,
    field_problems,
    line_numbers,
    line_of,
    nul_characters,
)
from counter.models import Office
from frontyard import audit
from frontyard.exceptions import DomainError, ValidationFailed
from frontyard.i18n import gettext as _
from kiosk import catalog_config

FORMAT = 1
HEADER = ("# Frontyard configuration: offices, services, counters, staff's services, boards.\n"
          "# Not included: user accounts, passwords, devices. Check before importing:\n"
          "#   frontyard config import FILE --dry-run\n")


@dataclass(frozen=True)
class ConfigSection:
    """One part of an office's set-up in the file, under the key `name`.

    `export(session, office)` gives plain YAML-able data (codes, never ids);
    `import_(session, office, data)` validates it (ValidationFailed) and applies it, flushing
    only. `key` names the identity of the items of a list section (for the report of things
    the file lacks); `retire(session, office, keys)` switches such things off on request."""

    name: str
    export: Callable[[Session, Office], Any]
    import_: Callable[[Session, Office, Any], None]
    key: str | None = None
    retire: Callable[[Session, Office, list[str]], None] | None = None


#: Every section of an office, in the order they are imported (counters name services).
#: Another feature's section is one more line: ConfigSection(CONFIG_SECTION, export_config,
#: import_config).
SECTIONS: list[ConfigSection] = [
    ConfigSection("services", config_sections.export_services, config_sections.import_services,
                  key="code", retire=config_sections.switch_off_services),
    ConfigSection("counters", config_sections.export_counters, config_sections.import_counters,
                  key="number"),
    ConfigSection("staff", config_sections.export_staff, config_sections.import_staff),
    ConfigSection(boards.CONFIG_SECTION, boards.export_config, boards.import_config),
    ConfigSection(kiosk_setup.CONFIG_SECTION, kiosk_setup.export_config,
                  kiosk_setup.import_config),
    ConfigSection(hours_config.CONFIG_SECTION, hours_config.export_config,
                  hours_config.import_config),
    # Last: the catalog is checked against the services and kiosk languages imported above.
    ConfigSection(catalog_config.CONFIG_SECTION, catalog_config.export_config,
                  catalog_config.import_config),
]

OFFICE_KEYS: dict[str, type | tuple[type, ...]] = {"code": str, "names": dict, "address": str}


class FileRejected(ValidationFailed):
    """A file that cannot be imported, with one line per problem; nothing was written."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(f"{len(messages)} problem(s); nothing was changed.")


@dataclass
class ImportReport:
    """What an import changed (or, in a dry run, would change), and what the file lacks."""

    changes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


# --- export --------------------------------------------------------------------------------

def export_document(session: Session) -> dict[str, Any]:
    """The city's set-up as plain data: every office with every section."""
    offices = []
    for office in office_domain.offices(session):
        entry: dict[str, Any] = {"code": office.code, "names": config_sections._names(
            office.names), "address": office.address}
        for section in SECTIONS:
            entry[section.name] = section.export(session, office)
        offices.append(entry)
    return {"format": FORMAT, "offices": offices}


def dump(document: dict[str, Any]) -> str:
    """The document as YAML, the same text for the same set-up."""
    return HEADER + yaml.safe_dump(document, allow_unicode=True, sort_keys=False,
                                   default_flow_style=False, width=100)


def export_text(session: Session) -> str:
    """The city's set-up as a YAML file."""
    return dump(export_document(session))


# --- import --------------------------------------------------------------------------------

def _reject(problems: list[Problem], lines: dict[Any, int]) -> FileRejected:
    """Every problem as one line in the reader's language: its line, its place, what is wrong."""
    messages = []
    for problem in problems:
        line = line_of(lines, problem.path)
        place = describe_path(problem.path)
        messages.append(_("line %(line)d: %(place)s: %(message)s") % {
            "line": line, "place": place, "message": problem.message} if line
            else f"{place}: {problem.message}")
    return FileRejected(messages)


def _first_alias(text: str) -> int | None:
    """The line of the file's first anchor or alias, if any (a set-up file needs none)."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            return int(event.start_mark.line) + 1
    return None


def parse(text: str) -> tuple[list[dict[str, Any]], dict[Any, int]]:
    """The file's offices and the line of every place; FileRejected if it is not a
    configuration file's shape."""
    try:
        alias = _first_alias(text)
        if alias is not None:  # a "billion laughs" file grows exponentially when walked
            raise FileRejected([_("line %(line)d: anchors and aliases (& and *) are not "
                                  "allowed in a configuration file") % {"line": alias}])
        lines, problems = line_numbers(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reason = getattr(error, "problem", None) or str(error)
        message = (_("line %(line)d: not a YAML file: %(reason)s") % {
            "line": mark.line + 1, "reason": reason} if mark is not None
            else _("not a YAML file: %(reason)s") % {"reason": reason})
        raise FileRejected([message]) from None
    except (RecursionError, ValueError) as error:
        # A value YAML cannot make (2026-02-30, a 5,000-digit number) or nesting too deep.
        reason = _("the YAML is nested too deeply") if isinstance(error, RecursionError) \
            else str(error)
        raise FileRejected([_("not a YAML file: %(reason)s") % {"reason": reason}]) from None
    if data is None:
        raise FileRejected([_("the file is empty")])
    problems += nul_characters(data)
    top = check_mapping(data, (), {"format": int, "offices": list}, ["offices"], problems)
    if top.get("format", FORMAT) != FORMAT:
        problems.append(Problem(("format",), _("this version reads format %(format)d") % {
            "format": FORMAT}))
    known = OFFICE_KEYS | {section.name: object for section in SECTIONS}
    offices = []
    for index, entry in enumerate(check_list(top.get("offices"), ("offices",), problems)):
        found: list[Problem] = []
        office = check_mapping(entry, ("offices", index), known, ["code"], found)
        if "names" in office:
            office["names"] = check_names(office["names"], ("offices", index, "names"), found)
        problems.extend(found)
        offices.append(office)
    duplicates([(index, office["code"]) for index, office in enumerate(offices)
                if "code" in office], ("offices",), "code", problems)
    if problems:
        raise _reject(problems, lines)
    return offices, lines


def _apply_office(session: Session, entry: dict[str, Any], path: tuple[str | int, ...],
                  problems: list[Problem]) -> Office | None:
    """The office the entry names, created or changed; None (and problems) if refused."""
    try:
        office = office_domain.office_by_code(session, entry["code"])
    except DomainError:
        office = None
    wanted = office_domain.input_of(office) if office else office_domain.OfficeInput(
        code=entry["code"])
    for key in OFFICE_KEYS:
        if key in entry:
            setattr(wanted, key, entry[key])
    if office is not None and wanted == office_domain.input_of(office):
        return office
    try:
        return office_domain.save_office(session, None, wanted, office)
    except ValidationFailed as error:
        problems.extend(field_problems(error, path))
        return None


def _missing(session: Session, office: Office, entry: dict[str, Any], before: dict[str, Any],
             deactivate: bool) -> list[str]:
    """What the database has of the office and the file lacks (kept; services switched off
    with `deactivate`)."""
    report = []
    for section in SECTIONS:
        if section.key is None or section.name not in entry or section.name not in before:
            continue
        named = {str(item.get(section.key)) for item in entry[section.name] or []
                 if isinstance(item, dict)}
        lacking = [str(item[section.key]) for item in before[section.name]
                   if str(item[section.key]) not in named]
        what = section.name.removesuffix("s")
        for key in lacking:
            if deactivate and section.retire:
                report.append(f"office {office.code}: {what} {key} is not in the file: "
                              "switched off")
            else:
                hint = " (--deactivate-missing switches it off)" if section.retire else ""
                report.append(f"office {office.code}: {what} {key} is not in the file: "
                              f"kept{hint}")
        if deactivate and section.retire and lacking:
            section.retire(session, office, lacking)
    return report


def import_text(session: Session, text: str, deactivate_missing: bool = False,
                user_id: int | None = None) -> ImportReport:
    """Apply a configuration file in the caller's transaction; FileRejected (every problem,
    with its line) if anything is wrong, after which the caller must roll back. `user_id`
    (the admin on the page; none on the command line) signs the import's audit entry."""
    offices, lines = parse(text)
    before = {office["code"]: office for office in export_document(session)["offices"]}
    problems: list[Problem] = []
    report = ImportReport()
    for index, entry in enumerate(offices):
        path: tuple[str | int, ...] = ("offices", index)
        office = _apply_office(session, entry, path, problems)
        if office is None:
            continue
        for section in SECTIONS:
            if section.name not in entry:
                continue
            try:
                section.import_(session, office, entry[section.name])
            except ValidationFailed as error:
                problems.extend(field_problems(error, (*path, section.name)))
            except DomainError as error:
                problems.append(Problem((*path, section.name), str(error)))
        if not problems:
            report.missing += _missing(session, office, entry, before.get(office.code, {}),
                                       deactivate_missing)
    if problems:
        raise _reject(problems, lines)
    named = {entry["code"] for entry in offices}
    report.missing += [f"office {code} is not in the file: kept" for code in before
                       if code not in named]
    after = export_document(session)["offices"]
    report.changes = describe_changes(list(before.values()), after,
                                      {entry["code"]: set(entry) for entry in offices})
    if report.changes:
        audit.record(session, user_id, "config_imported", None, changes=len(report.changes))
    return report


# --- the readable list of changes ----------------------------------------------------------

_NONE = object()
IDENTITIES = ("code", "number", "device")


def _show(value: Any) -> str:
    if value is _NONE:
        return "(none)"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(str(item) if isinstance(item, str) else _show(item)
                               for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _identity(items: Any) -> str | None:
    """The key that identifies the items of a list of mappings (code, number, a board's
    device), if any."""
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return None
    for key in IDENTITIES:
        if all(key in item for item in items):
            return key
    return None


def _diff(old: Any, new: Any, where: str, path: str, out: list[str]) -> None:
    """Lines for what differs between two values of the document at `where`/`path`."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(key for key in old if key not in new)]:
            _diff(old.get(key, _NONE), new.get(key, _NONE), where,
                  f"{path}.{key}" if path else str(key), out)
        return
    if isinstance(new, list) and (old is _NONE or isinstance(old, list)):
        old_items = [] if old is _NONE else old
        key = _identity(new + old_items) if new or old_items else None
        if key:
            what = path.removesuffix("s")
            earlier = {str(item[key]): item for item in old_items}
            for item in new:
                label = f"{what} {item[key]}"
                if str(item[key]) not in earlier:
                    out.append(f"{where}: + {label}")
                else:
                    _diff(earlier[str(item[key])], item, f"{where}: {label}", "", out)
            out.extend(f"{where}: - {what} {name}" for name in earlier
                       if name not in {str(item[key]) for item in new})
            return
    if old != new:
        out.append(f"{where}: {path}: {_show(old)} → {_show(new)}")


def describe_changes(before: list[dict[str, Any]], after: list[dict[str, Any]],
                     given: dict[str, set[str]] | None = None) -> list[str]:
    """One line per change between two exports' offices, e.g.
    "office city-hall: service pension: names.en: 'Pension' → 'Pensions'". For a new office,
    only the sections its file entry gives (`given`, by office code) are listed: the others
    are the defaults every new office has."""
    out: list[str] = []
    old = {office["code"]: office for office in before}
    for office in after:
        where = f"office {office['code']}"
        if office["code"] not in old:
            out.append(f"+ {where}")
            for section in SECTIONS:
                if given is not None and section.name not in given.get(office["code"], set()):
                    continue
                value = office.get(section.name)
                if isinstance(value, dict):  # a new office's empty settings are no change
                    value = {key: item for key, item in value.items() if item not in ({}, [])}
                empty = [] if isinstance(value, list) else {} if isinstance(value, dict) else _NONE
                _diff(empty, value, where, section.name, out)
        else:
            _diff(old[office["code"]], office, where, "", out)
    return out
