"""Admin pages for opening hours: an office's weekly hours and holiday switch, its closures,
and a service's own hours and ticket cut-off. Thin: the rules live in admin/hours.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin import checks
from admin import hours as hours_domain
from admin import offices as office_domain
from admin import services as service_domain
from admin.pages import _field, _form_page, _in_session, _user_id
from counter import hours
from counter.models import Office, Service
from frontyard import i18n
from frontyard.auth import Role
from frontyard.guards import require_role
from frontyard.i18n import gettext as _

#: Rows of occurrence rules a form may send (the page shows the existing ones and two blank).
MAX_RULE_ROWS = 20
BLANK_ROWS = 2


def _form_fields(week: hours_domain.Hours, cutoff: int | None, holidays: bool | None
                 ) -> dict[str, Any]:
    """A form's values from stored hours: a field per weekday, a row per occurrence rule."""
    text = hours_domain.as_text(week)
    data: dict[str, Any] = {f"day_{key}": text.get(key, "") for key in hours_domain.WEEKDAY_KEYS}
    occurrences = [key for key in text if "#" in key]
    for index, key in enumerate(occurrences):
        weekday, nth = hours_domain.parse_key(key)  # type: ignore[misc]
        data |= {f"nth_{index}": str(nth), f"weekday_{index}": hours_domain.WEEKDAY_KEYS[weekday],
                 f"ranges_{index}": text[key]}
    data["rows"] = len(occurrences) + BLANK_ROWS
    if cutoff is not None:
        data["cutoff"] = str(cutoff)
    if holidays is not None:
        data["holidays"] = "on" if holidays else ""
    return data


def _posted_rows(form: FormData) -> int:
    return min(MAX_RULE_ROWS, sum(1 for key in form if key.startswith("ranges_")))


def _read_week(form: FormData) -> tuple[dict[str, str], dict[str, str], checks.Problems]:
    """Rule key → ranges text from a form, the form field of each key, and row problems."""
    texts: dict[str, str] = {}
    fields: dict[str, str] = {}
    problems: checks.Problems = {}
    for key in hours_domain.WEEKDAY_KEYS:
        texts[key], fields[key] = _field(form, f"day_{key}"), f"day_{key}"
    for index in range(_posted_rows(form)):
        ranges = _field(form, f"ranges_{index}")
        if not ranges.strip():
            continue
        key = f"{_field(form, f'weekday_{index}')}#{_field(form, f'nth_{index}')}"
        if hours_domain.parse_key(key) is None:
            problems[f"ranges_{index}"] = _("Choose the day and which one in the month.")
            continue
        texts[key] = f"{texts[key]}, {ranges}" if texts.get(key) else ranges
        fields.setdefault(key, f"ranges_{index}")
    return texts, fields, problems


def _save_week(session: Session, request: Request, form: FormData, office: Office,
               service: Service | None) -> None:
    """Check the whole form (every problem at once), then store it."""
    texts, fields, problems = _read_week(form)
    _week, found = hours_domain.validate_hours(texts)
    problems |= {fields.get(key, "day_mon"): message for key, message in found.items()}
    if service is not None:
        checks.number(_field(form, "cutoff") or "0", "cutoff", 0, hours.MAX_CUTOFF, problems)
    checks.raise_if(problems)
    user_id = _user_id(request)
    hours_domain.set_hours(session, user_id, office, texts, service)
    if service is None:
        hours_domain.set_holiday_switch(session, user_id, office, form.get("holidays") == "on")
    else:
        hours_domain.set_cutoff(session, user_id, service, _field(form, "cutoff") or "0")


def weekday_name(index: int) -> str:
    """A weekday's name in the page's language (Monday is 0)."""
    return str(i18n.current_language().babel.days["format"]["wide"][index])


def _context(session: Session, office: Office, service: Service | None,
             saved: bool) -> dict[str, Any]:
    week = hours_domain.hours_of(session, office, service)
    if service is None:
        data = _form_fields(week, None, hours.calendar(session, office.id)  # type: ignore[arg-type]
                            .closed_on_national_holidays)
    else:
        data = _form_fields(week, hours.cutoff_minutes(session, service.id), None)  # type: ignore[arg-type]
    return {"office": office, "service": service, "data": data, "saved": saved,
            "weekday_keys": hours_domain.WEEKDAY_KEYS, "max_nth": hours.MAX_NTH,
            "max_rows": MAX_RULE_ROWS, "weekday_name": weekday_name}


async def _hours_page(request: Request, service_code: str | None) -> Response:
    code = request.path_params["code"]

    def objects(session: Session) -> tuple[Office, Service | None]:
        office = office_domain.office_by_code(session, code)
        service = service_domain.service_by_code(session, office, service_code) \
            if service_code else None
        return office, service

    def read(session: Session) -> dict[str, Any]:
        return _context(session, *objects(session),
                        saved=request.query_params.get("saved") == "1")

    def save(session: Session, form: FormData) -> str:
        office, service = objects(session)
        _save_week(session, request, form, office, service)
        return f"/admin/offices/{office.code}/" + (
            f"services/{service.code}/hours?saved=1" if service else "hours?saved=1")

    return await _form_page(request, "admin/hours.html", read, save)


@require_role(Role.ADMIN)
async def office_hours(request: Request) -> Response:
    """An office's weekly hours, occurrence rules and national-holiday switch."""
    return await _hours_page(request, None)


@require_role(Role.ADMIN)
async def service_hours(request: Request) -> Response:
    """A service's own hours (none: the office's) and its ticket cut-off."""
    return await _hours_page(request, request.path_params["service"])


def _closures_read(session: Session, code: str, now: datetime) -> dict[str, Any]:
    office = office_domain.office_by_code(session, code)
    today = now.date()
    return {"office": office, "closures": hours.closures(session, office.id),  # type: ignore[arg-type]
            "holidays": hours_domain.upcoming_holidays(today), "today": today,
            "closed_on_holidays": hours.calendar(session, office.id)  # type: ignore[arg-type]
            .closed_on_national_holidays,
            "status": hours.office_status(session, office.id, now, now.tzinfo)}  # type: ignore[arg-type]


@require_role(Role.ADMIN)
async def office_closures(request: Request) -> Response:
    """The office's closures, the form to add one, and the next national holidays."""
    code = request.path_params["code"]
    now = datetime.now(request.app.state.settings.tz)

    def save(session: Session, form: FormData) -> str:
        office = office_domain.office_by_code(session, code)
        hours_domain.add_closure(session, _user_id(request), office, _field(form, "first_day"),
                                 _field(form, "last_day"), _field(form, "name"))
        return f"/admin/offices/{office.code}/closures"

    return await _form_page(request, "admin/closures.html",
                            lambda session: _closures_read(session, code, now), save)


@require_role(Role.ADMIN)
async def remove_closure(request: Request) -> Response:
    """Remove one closure (a button on the closures page)."""
    code = request.path_params["code"]
    try:
        closure_id = int(request.path_params["closure"])
    except ValueError:
        closure_id = -1

    def work(session: Session) -> str:
        office = office_domain.office_by_code(session, code)
        hours_domain.remove_closure(session, _user_id(request), office, closure_id)
        return f"/admin/offices/{office.code}/closures"

    return RedirectResponse(await run_in_threadpool(_in_session, request, work), status_code=303)


routes = [
    Route("/admin/offices/{code}/hours", office_hours, methods=["GET", "POST"],
          name="admin_office_hours"),
    Route("/admin/offices/{code}/closures", office_closures, methods=["GET", "POST"],
          name="admin_office_closures"),
    Route("/admin/offices/{code}/closures/{closure}/remove", remove_closure, methods=["POST"],
          name="admin_remove_closure"),
    Route("/admin/offices/{code}/services/{service}/hours", service_hours,
          methods=["GET", "POST"], name="admin_service_hours"),
]
