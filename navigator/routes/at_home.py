"""Details entered at home: the kiosk's no-write form on the resident's phone, and its code.

`/navigator/{office}/details` walks the kiosk's own steps on one address: life events, then
the questions the rules still need (both plain GET forms: the address holds choices and
answers, never personal data, so the navigator can link here with `?event=moving_in&…`), then
the kiosk's details form (POST). Sent details are kept server-side (`kiosk.pre_entry`); the
resident's browser keeps only the entry's id in the signed session cookie and is sent to
`/navigator/{office}/details/code`, which shows the short code and its QR code. Every page is
`Cache-Control: no-store`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from sqlmodel import Session
from starlette.datastructures import FormData, MultiDict
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from counter.models import Office
from frontyard import i18n
from frontyard.exceptions import ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.qr import qr_data_url
from frontyard.ratelimit import client_address
from frontyard.templating import render
from frontyard.transactions import in_transaction
from kiosk import entry, pre_entry
from kiosk.catalog import KIOSK_LOCALES, Catalog, localized_html
from kiosk.details import validate_details
from kiosk.pre_entry_limits import limit_sending

NO_STORE = {"Cache-Control": "no-store"}
#: The signed session cookie's key for the resident's own entry (its id, not its code).
SESSION_KEY = "pre_entry"
#: Query and form fields that are not answers.
_NOT_ANSWERS = {"event", "asked", "action", "consent"}
FORM_PART_LIMIT = 64 * 1024


def _address(office: Office, suffix: str = "") -> str:
    return f"/navigator/{office.code}/details{suffix}"


def _locale() -> str:
    """The language the entry keeps: the page's, when the kiosk speaks it."""
    code = i18n.current_locale()
    return code if code in KIOSK_LOCALES else "ja"


def _answer_fields(answers: dict[str, Any]) -> list[tuple[str, str]]:
    """Answers as the (name, value) pairs of hidden inputs or a query string."""
    pairs: list[tuple[str, str]] = []
    for key, value in answers.items():
        for item in value if isinstance(value, list) else [value]:
            text = ("yes" if item else "no") if isinstance(item, bool) else str(item)
            pairs.append((key, text))
    return pairs


def _page(request: Request, name: str, office: Office, context: dict[str, Any],
          status_code: int = 200) -> Response:
    """A phone page of details at home: every kiosk language, nothing cached."""
    query = request.url.query
    here = request.url.path + (f"?{query}" if query else "")
    response = render(request, name, {
        "office": office, "office_name": i18n.translate_map(office.names),
        "offered": list(KIOSK_LOCALES), "chooser_link": "/locale/{code}?next=" + quote(here,
                                                                                     safe=""),
        "text": lambda value: localized_html(value, i18n.current_locale()) if value else "",
        **context}, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


def _choices(source: MultiDict | FormData, catalog: Catalog
             ) -> tuple[list[str], dict[str, Any], dict[str, str]]:
    """Events and answers from a query or form; errors per bad or missing answer."""
    events = [value for value in source.getlist("event") if isinstance(value, str)]
    raw = {key: [value for value in source.getlist(key) if isinstance(value, str)]
           for key in source if key not in _NOT_ANSWERS}
    errors: dict[str, str] = {}
    try:
        answers = pre_entry.parse_answers(catalog, raw)
    except ValidationFailed as error:
        errors = {key: i18n.as_text(value) for key, value in error.fields.items()}
        answers = pre_entry.parse_answers(catalog, {k: v for k, v in raw.items()
                                                    if k not in errors})
    return events, answers, errors


def _today(request: Request) -> Any:
    return datetime.now(request.app.state.settings.tz).date()


async def _office(request: Request) -> tuple[Office, Catalog]:
    code = str(request.path_params["office"])
    return await in_transaction(
        request, lambda session: pre_entry.office_and_catalog(session, code))


def _events_page(request: Request, office: Office, catalog: Catalog, chosen: list[str],
                 error: str | None = None) -> Response:
    return _page(request, "navigator/at_home_events.html", office, {
        "events": catalog.life_events, "chosen": chosen, "error": error},
        status_code=422 if error else 200)


def _details_page(request: Request, office: Office, guide: Any, events: list[str],
                  answers: dict[str, Any], values: dict[str, Any],
                  errors: dict[str, str] | None = None, extra_rows: int = 1,
                  consent_error: str | None = None, form_error: Any = None) -> Response:
    failed = bool(errors or consent_error or form_error)
    return _page(request, "navigator/at_home_details.html", office, {
        **entry.form_context(guide.detail_fields, pre_entry.required_details(guide), values,
                             errors, extra_rows, form_error),
        "guide": guide, "events": events, "answer_fields": _answer_fields(answers),
        "consent_error": consent_error,
        "back": _address(office) + "?" + urlencode([("event", event) for event in events]),
        "retention_days": request.app.state.settings.pre_entry_retention_days,
        "retention_hours": request.app.state.settings.retention_hours,
    }, status_code=422 if failed else 200)


async def at_home(request: Request) -> Response:
    """Life events, then the questions, then the kiosk's details form (GET forms until then)."""
    office, catalog = await _office(request)
    query = request.query_params
    events, answers, errors = _choices(query, catalog)
    if not events:
        return _events_page(request, office, catalog, [])
    try:
        guide = pre_entry.guide_from(catalog, events, answers)
    except ValidationFailed:
        return _events_page(request, office, catalog, [],
                            error=_("Choose at least one life event."))
    pending = {question.id for question in guide.pending_questions}
    for question_id in query.getlist("asked"):
        if question_id in pending and question_id not in answers:
            errors.setdefault(question_id, _("Please answer this question."))
    if errors or not guide.complete:
        values = {key: query.getlist(key) for key in query if key not in _NOT_ANSWERS}
        return _page(request, "navigator/at_home_questions.html", office, {
            "guide": guide, "questions": guide.pending_questions, "events": events,
            "answer_fields": [pair for pair in _answer_fields(answers)
                              if pair[0] not in pending],
            "values": values, "errors": errors}, status_code=422 if errors else 200)
    if not guide.detail_fields:
        return _page(request, "navigator/at_home_nothing.html", office, {"guide": guide})
    return _details_page(request, office, guide, events, answers, entry.form_values(None))


async def at_home_submit(request: Request) -> Response:
    """Check the details like the kiosk does; keep them and show the code, or say what is wrong
    in the page (nothing is kept then)."""
    office, catalog = await _office(request)
    try:
        form = await request.form(max_part_size=FORM_PART_LIMIT)
    except (HTTPException, MultiPartException):
        return RedirectResponse(_address(office), status_code=303, headers=NO_STORE)
    events, answers, errors = _choices(form, catalog)
    try:
        guide = pre_entry.guide_from(catalog, events, answers)
    except ValidationFailed:
        guide = None
    if guide is None or errors or not guide.complete or not guide.detail_fields:
        return RedirectResponse(_address(office), status_code=303, headers=NO_STORE)
    raw = entry.raw_from_form(form.multi_items())
    if form.get("action") == "add_row":
        return _details_page(request, office, guide, events, answers, entry.echo_values(raw),
                             extra_rows=2)
    try:
        details = validate_details(raw, required=pre_entry.required_details(guide),
                                   today=_today(request))
    except ValidationFailed as error:
        return _details_page(request, office, guide, events, answers, entry.echo_values(raw),
                             {key: i18n.as_text(value) for key, value in error.fields.items()})
    if form.get("consent") != "yes":
        return _details_page(request, office, guide, events, answers, entry.echo_values(raw),
                             consent_error=_("Tick the box to agree to the use of your "
                                             "details."))
    settings = request.app.state.settings
    limit_sending(request)
    locale, client = _locale(), client_address(request)

    def work(session: Session) -> int:
        created = pre_entry.create(
            session, office_id=office.id,  # type: ignore[arg-type]
            catalog=catalog, locale=locale, events=events, answers=answers, details=details,
            client=client, open_limit=settings.pre_entry_open_limit,
            retention_days=settings.pre_entry_retention_days)
        return created.id  # type: ignore[return-value]

    request.session[SESSION_KEY] = await in_transaction(request, work)
    return RedirectResponse(_address(office, "/code"), status_code=303, headers=NO_STORE)


async def at_home_code(request: Request) -> Response:
    """The resident's code and its QR code: no personal data, only what to show the kiosk."""
    office, catalog = await _office(request)
    settings = request.app.state.settings
    entry_id = request.session.get(SESSION_KEY)

    def work(session: Session) -> pre_entry.PreEntry | None:
        found = pre_entry.open_entry(session, entry_id, settings.pre_entry_retention_days)
        return found if found is not None and found.office_id == office.id else None

    found = await in_transaction(request, work)
    if found is None:
        return _page(request, "navigator/at_home_code.html", office, {"found": None})
    shown = pre_entry.format_code(found.code)
    procedures = [catalog.procedure(code) for code in found.procedures
                  if catalog.has("procedures", code)]
    return _page(request, "navigator/at_home_code.html", office, {
        "found": found, "code": shown, "qr": qr_data_url(shown), "procedures": procedures,
        "expires": pre_entry.expires_at(found, settings.pre_entry_retention_days)})


async def at_home_withdraw(request: Request) -> Response:
    """Delete one's own unused entry and its details now."""
    office, _catalog = await _office(request)
    entry_id = request.session.pop(SESSION_KEY, None)
    await in_transaction(request, lambda session: pre_entry.withdraw(session, entry_id))
    return RedirectResponse(_address(office, "/code"), status_code=303, headers=NO_STORE)


routes: list[BaseRoute] = [
    Route("/navigator/{office}/details", at_home, methods=["GET"], name="at_home"),
    Route("/navigator/{office}/details", at_home_submit, methods=["POST"]),
    Route("/navigator/{office}/details/code", at_home_code, methods=["GET"],
          name="at_home_code"),
    Route("/navigator/{office}/details/code/delete", at_home_withdraw, methods=["POST"],
          name="at_home_withdraw"),
]
