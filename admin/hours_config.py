"""The `hours` section of the configuration file (`frontyard config export/import`): an
office's weekly hours, holiday switch, closures, and its services' own hours and cut-offs by
service code. Validated whole before anything is replaced, with the same rules and audit as
the admin's pages (admin/hours.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from admin import hours as hours_domain
from admin import services as service_domain
from counter import hours
from counter.models import Office
from frontyard.errors import DomainError, ValidationFailed
from frontyard.i18n import as_text
from frontyard.i18n import gettext as _

CONFIG_SECTION = "hours"
KEYS = ("closed_on_national_holidays", "weekly", "closures", "services")


def export_config(session: Session, office: Office) -> Any:
    """The office's hours as plain data: codes and ISO dates, in a stable order."""
    services: dict[str, Any] = {}
    for service in service_domain.services(session, office):
        own = hours_domain.as_text(hours_domain.hours_of(session, office, service))
        cutoff = hours.cutoff_minutes(session, service.id)  # type: ignore[arg-type]
        if own or cutoff:
            services[service.code] = {"weekly": own, "cutoff_minutes": cutoff}
    return {
        "closed_on_national_holidays": hours.calendar(
            session, office.id).closed_on_national_holidays,  # type: ignore[arg-type]
        "weekly": hours_domain.as_text(hours_domain.hours_of(session, office)),
        "closures": [{"name": closure.name, "first_day": closure.first_day.isoformat(),
                      "last_day": closure.last_day.isoformat()}
                     for closure in hours.closures(session, office.id)],  # type: ignore[arg-type]
        "services": services,
    }


def _fail(where: str, message: Any) -> None:
    text = f"hours.{where}: {as_text(message)}"
    raise ValidationFailed(text, **{f"hours.{where}": as_text(message)})


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail(where, _("expected a mapping"))
    return value  # type: ignore[no-any-return]


def _weekly(value: Any, where: str) -> dict[str, str]:
    week = {str(key): "" if text is None else str(text)
            for key, text in _mapping(value, where).items()}
    _clean, problems = hours_domain.validate_hours(week)
    if problems:
        key, message = next(iter(problems.items()))
        _fail(f"{where}.{key}", message)
    return week


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value or "")


def _check(session: Session, office: Office, data: Any) -> tuple[Any, ...]:
    """Every part of `data`, checked; ValidationFailed names where the first problem is."""
    data = _mapping(data, "")
    unknown = sorted(set(map(str, data)) - set(KEYS))
    if unknown:
        _fail(unknown[0], _("unknown key (known: %(keys)s)") % {"keys": ", ".join(KEYS)})
    switch = data.get("closed_on_national_holidays", True)
    if not isinstance(switch, bool):
        _fail("closed_on_national_holidays", _("expected true or false"))
    weekly = _weekly(data.get("weekly"), "weekly")
    closures = data.get("closures") or []
    if not isinstance(closures, list) or len(closures) > hours_domain.MAX_CLOSURES:
        _fail("closures", _("expected a list of at most %(max)d closures") % {
            "max": hours_domain.MAX_CLOSURES})
    checked = []
    for index, item in enumerate(closures):
        item = _mapping(item, f"closures[{index}]")
        try:
            checked.append(hours_domain.check_closure(
                _day(item.get("first_day")), _day(item.get("last_day")),
                str(item.get("name") or "")))
        except DomainError as error:
            field, message = next(iter(error.fields.items()), ("", error.message))
            _fail(f"closures[{index}].{field}", message)
    services = {}
    for code, item in _mapping(data.get("services"), "services").items():
        where = f"services.{code}"
        item = _mapping(item, where)
        try:
            service = service_domain.service_by_code(session, office, str(code))
        except DomainError as error:
            _fail(where, error.message)
        cutoff = item.get("cutoff_minutes", 0)
        if isinstance(cutoff, bool) or not isinstance(cutoff, int) or \
                not 0 <= cutoff <= hours.MAX_CUTOFF:
            _fail(f"{where}.cutoff_minutes", _("expected minutes from 0 to %(max)d") % {
                "max": hours.MAX_CUTOFF})
        services[service.id] = (service, _weekly(item.get("weekly"), f"{where}.weekly"), cutoff)
    return switch, weekly, checked, services


def import_config(session: Session, office: Office, data: Any) -> None:
    """Replace the office's hours, holiday switch, closures and services' hours with `data`
    (checked whole first: a problem changes nothing). Flushes, never commits."""
    switch, weekly, closures, services = _check(session, office, data)
    hours_domain.set_hours(session, None, office, weekly)
    hours_domain.set_holiday_switch(session, None, office, switch)
    for closure in hours.closures(session, office.id):  # type: ignore[arg-type]
        hours_domain.remove_closure(session, None, office, closure.id)  # type: ignore[arg-type]
    for first, last, name in closures:
        hours_domain.add_closure(session, None, office, first.isoformat(), last.isoformat(), name)
    for service in service_domain.services(session, office):
        _service, week, cutoff = services.get(service.id, (service, {}, 0))
        hours_domain.set_hours(session, None, office, week, service)
        hours_domain.set_cutoff(session, None, service, cutoff)
    session.flush()
