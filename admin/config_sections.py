"""An office's own sections of a configuration file (admin.config_file): its services, its
counters with the services each may serve, and the services each staff member may serve.

Each section has `export_config(session, office)` (plain YAML-able data, codes not ids) and
`import_config(session, office, data)`, which matches existing things by code (services by
code, counters by number, people by user name), creates the missing ones, changes the changed
ones through the admin's own functions (same rules, same audit entries) and never deletes.
Problems are raised together as ConfigRejected, placed within the section.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from admin import counters as counter_domain
from admin import services as service_domain
from admin.config_shapes import (
    ConfigRejected,
    Problem,
    check_list,
    check_mapping,
    check_names,
    check_texts,
    duplicates,
    field_problems,
)
from counter.models import Office, ServiceKind
from frontyard.exceptions import DomainError, ValidationFailed
from frontyard.i18n import gettext as _

SERVICE_KEYS: dict[str, type | tuple[type, ...]] = {
    "code": str, "prefix": str, "names": dict, "order": int, "colour": str, "kind": str,
    "active": bool}
COUNTER_KEYS: dict[str, type | tuple[type, ...]] = {
    "number": (str, int), "names": dict, "zone": str, "services": list}
#: A service's file keys that the admin's functions call differently.
SERVICE_FIELDS = {"sort_order": "order"}


def _names(names: dict[str, str]) -> dict[str, str]:
    """Names in a stable order (Japanese first), so an export is the same every time."""
    return dict(sorted(names.items(), key=lambda item: (item[0] != "ja", item[0])))


def _items(data: Any, keys: dict[str, type | tuple[type, ...]], key: str,
           problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    """A section's list of mappings, each with its identity `key`; duplicates are problems."""
    items = []
    for index, value in enumerate(check_list(data, (), problems)):
        found: list[Problem] = []
        item = check_mapping(value, (index,), keys, [key], found)
        if "names" in item:
            item["names"] = check_names(item["names"], (index, "names"), found)
        problems.extend(found)
        if key in item and not found:
            item[key] = str(item[key])
            items.append((index, item))
    duplicates([(index, item[key]) for index, item in items], (), key, problems)
    first = {}
    for index, item in items:
        first.setdefault(item[key], index)
    return [(index, item) for index, item in items if first[item[key]] == index]


# --- services ------------------------------------------------------------------------------

def export_services(session: Session, office: Office) -> list[dict[str, Any]]:
    """The office's services in display order."""
    return [{"code": row.code, "prefix": row.prefix, "names": _names(row.names),
             "order": row.sort_order, "colour": row.colour, "kind": ServiceKind(row.kind).value,
             "active": row.active} for row in service_domain.services(session, office)]


def import_services(session: Session, office: Office, data: Any) -> None:
    """Create or change the office's services named in `data` (by code)."""
    problems: list[Problem] = []
    items = _items(data, SERVICE_KEYS, "code", problems)
    existing = {row.code: row for row in service_domain.services(session, office)}
    for index, item in items:
        row = existing.get(item["code"])
        wanted = service_domain.input_of(row) if row else service_domain.ServiceInput(
            code=item["code"], prefix="", sort_order=len(existing) + index)
        for key, value in item.items():
            setattr(wanted, {"order": "sort_order"}.get(key, key), value)
        if row is not None and wanted == service_domain.input_of(row):
            continue
        try:
            service_domain.save_service(session, None, office, wanted, row)
        except ValidationFailed as error:
            problems.extend(field_problems(error, (index,), SERVICE_FIELDS))
    if problems:
        raise ConfigRejected(problems)


def switch_off_services(session: Session, office: Office, codes: list[str]) -> None:
    """Switch off the office's services with these codes (audited like the pages' changes)."""
    for code in codes:
        row = service_domain.service_by_code(session, office, code)
        if row.active:
            wanted = service_domain.input_of(row)
            wanted.active = False
            service_domain.save_service(session, None, office, wanted, row)


# --- counters ------------------------------------------------------------------------------

def export_counters(session: Session, office: Office) -> list[dict[str, Any]]:
    """The office's counters by number, with the services each may serve ([]: every one)."""
    return [{"number": row.number, "names": _names(row.names), "zone": row.zone,
             "services": counter_domain.allowed_codes(session, row)}
            for row in counter_domain.counters(session, office)]


def import_counters(session: Session, office: Office, data: Any) -> None:
    """Create or change the office's counters named in `data` (by number)."""
    problems: list[Problem] = []
    items = _items(data, COUNTER_KEYS, "number", problems)
    existing = {row.number: row for row in counter_domain.counters(session, office)}
    for index, item in items:
        if "services" in item:
            found: list[Problem] = []
            item["services"] = sorted(check_texts(item["services"], (index, "services"), found))
            if found:
                problems.extend(found)
                continue
        row = existing.get(item["number"])
        current = counter_domain.input_of(session, row) if row else None
        wanted = counter_domain.input_of(session, row) if row else counter_domain.CounterInput(
            number=item["number"])
        for key, value in item.items():
            setattr(wanted, key, value)
        if current is not None and wanted == current:
            continue
        try:
            counter_domain.save_counter(session, None, office, wanted, row)
        except ValidationFailed as error:
            problems.extend(field_problems(error, (index,)))
    if problems:
        raise ConfigRejected(problems)


# --- staff's services ----------------------------------------------------------------------

def _staff_codes(session: Session, office: Office, user: Any) -> list[str]:
    """The codes of this office's services the person may serve ([]: every one)."""
    mine = f"{office.code}/"
    return sorted(code.removeprefix(mine)
                  for code in counter_domain.staff_service_codes(session, user)
                  if code.startswith(mine))


def export_staff(session: Session, office: Office) -> dict[str, list[str]]:
    """User name → the office's services the person may serve, for those limited to some."""
    from admin.users import list_users

    found = {user.username: _staff_codes(session, office, user)
             for user in list_users(session)}
    return {name: codes for name, codes in sorted(found.items()) if codes}


def import_staff(session: Session, office: Office, data: Any) -> None:
    """Set the office's services of each person named (an empty list: every service).
    People not named keep what they have; the accounts themselves must exist."""
    problems: list[Problem] = []
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigRejected([Problem((), _("expected a mapping of user names to service "
                                            "codes"))])
    for name, value in data.items():
        found: list[Problem] = []
        codes = sorted(check_texts(value, (str(name),), found))
        problems.extend(found)
        if found:
            continue
        try:
            user = counter_domain.user_by_name(session, str(name))
            if codes != _staff_codes(session, office, user):
                counter_domain.set_staff_services(session, None, user, office, codes)
        except DomainError as error:
            problems.append(Problem((str(name),), str(error.fields.get("services", error))))
    if problems:
        raise ConfigRejected(problems)

