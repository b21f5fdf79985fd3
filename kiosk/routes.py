"""Kiosk pages (touch screens in the lobby) and the no-write counter's pages for staff.

Thin HTTP over `kiosk.flow` and `kiosk.forms`. The browser keeps only the kiosk session's
opaque id in the signed session cookie; choices and details stay in the database. Every kiosk
response is `Cache-Control: no-store`, so the browser's back button cannot bring a previous
resident's page back either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from counter import queue
from counter.api import QUEUE_TOPIC
from counter.models import Office, Visit
from frontyard import i18n, realtime
from frontyard.auth import DeviceKind, Role
from frontyard.database import session_scope
from frontyard.errors import NotFound, ValidationFailed
from frontyard.guards import current_device, current_user, require_device, require_role
from frontyard.i18n import gettext as _
from frontyard.i18n import lazy_gettext
from frontyard.ratelimit import limit_ticket_issuing
from frontyard.templating import render
from frontyard.web import safe_next
from kiosk import entry, flow, forms
from kiosk.catalog import KIOSK_LOCALES, Catalog, localized_html
from kiosk.details import FIELD_LABELS, MEMBER_FIELDS, DetailsSource, ManualEntry, validate_details
from kiosk.eras import format_era
from kiosk.guide import Guide
from kiosk.models import KioskSession

KIOSK_ID = "kiosk_id"
DISPLAY = "kiosk_display"
DISPLAY_CLASSES = {"large_text": "large-text", "high_contrast": "high-contrast"}
NO_STORE = {"Cache-Control": "no-store"}
#: Printed forms are official documents in Japanese, whatever the staff page's language.
FORM_LOCALE = "ja"
PRINT_TEMPLATES = {"resident_move": "kiosk/forms/resident_move.html",
                   "child_allowance": "kiosk/forms/child_allowance.html"}
#: Where a visit's details came from (`VisitDetails.source`), for staff.
SOURCE_LABELS = {"kiosk": lazy_gettext("the kiosk"), "manual": lazy_gettext("reception"),
                 "counter": lazy_gettext("the counter")}
T = TypeVar("T")


# --- helpers ---------------------------------------------------------------------------------


async def in_transaction(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in one committed transaction, in a worker thread (writers may wait)."""
    engine = request.app.state.engine

    def job() -> T:
        with session_scope(engine) as session:
            return work(session)

    return await run_in_threadpool(job)


def kiosk_languages() -> list[i18n.LanguageInfo]:
    """The kiosk's languages, in the order of the platform's list."""
    return [language for language in i18n.LANGUAGES if language.code in KIOSK_LOCALES]


def kiosk_page(request: Request, name: str, context: dict[str, Any] | None = None,
               status_code: int = 200) -> Response:
    """A kiosk screen: display preferences, idle timings, nothing cached."""
    settings = request.app.state.settings
    display = request.session.get(DISPLAY, [])
    locale = i18n.current_locale()
    full = {
        "html_class": " ".join(DISPLAY_CLASSES[key] for key in DISPLAY_CLASSES
                               if key in display),
        "display": display,
        "idle_seconds": settings.kiosk_idle_seconds,
        "countdown_seconds": settings.kiosk_countdown_seconds,
        "text": lambda value: localized_html(value, locale) if value else "",
        "kiosk_locale": locale,
        **(context or {}),
    }
    response = render(request, name, full, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


def go(path: str) -> Response:
    """A 303 redirect that is not cached either."""
    return RedirectResponse(path, status_code=303, headers=NO_STORE)


@dataclass
class Flow:
    """A kiosk request's state, loaded in one transaction."""

    office: Office
    catalog: Catalog
    kiosk: KioskSession
    guide: Guide | None


def _load_flow(session: Session, request: Request, *, for_update: bool = False) -> Flow | None:
    kiosk_session = flow.load_session(session, request.session.get(KIOSK_ID),
                                      for_update=for_update)
    if kiosk_session is None:
        return None
    office = flow.kiosk_office(session, kiosk_session.office_id)
    catalog = flow.office_catalog(session, office)
    return Flow(office, catalog, kiosk_session, flow.guide_for(catalog, kiosk_session))


def _misplaced(state: Flow | None, step: str) -> str | None:
    """Where to send a resident who is not (or no longer) allowed on `step`, else None."""
    if state is None:
        return "/kiosk"
    if state.kiosk.visit_id is not None:
        return None if step == "ticket" else "/kiosk/ticket"
    if step == "ticket":
        return "/kiosk/guide"
    if step == "events":
        return None
    if state.guide is None:
        return "/kiosk/events"
    if step == "questions" or state.guide.complete:
        return None
    return "/kiosk/questions"


async def load(request: Request, step: str) -> tuple[Flow | None, str | None]:
    """The flow state and, when the resident is on the wrong screen, where to send them."""
    state = await in_transaction(request, lambda session: _load_flow(session, request))
    if state is not None:
        i18n.set_locale(state.kiosk.locale)  # the kiosk session's language rules its screens
    return state, _misplaced(state, step)


def _form_lists(form: FormData) -> dict[str, list[str]]:
    """Every submitted field as a list of its values."""
    return {key: [value for value in form.getlist(key) if isinstance(value, str)]
            for key in form}


def _city_today(request: Request) -> Any:
    return datetime.now(request.app.state.settings.tz).date()


def details_source(request: Request) -> DetailsSource:
    """Where pre-filled details come from: manual entry until a card reader is configured."""
    source: DetailsSource = getattr(request.app.state, "details_source", None) or ManualEntry()
    return source


# --- start, language, display, reset ---------------------------------------------------------


@require_device(DeviceKind.KIOSK)
async def kiosk_start(request: Request) -> Response:
    """The kiosk's first screen: choose a language (or change it, keeping one's progress)."""
    keep = request.query_params.get("keep") == "1"
    return kiosk_page(request, "kiosk/start.html", {
        "kiosk_languages": kiosk_languages(), "keep": keep,
        "next": safe_next(request.query_params.get("next"), "/kiosk/events"),
        "in_session": KIOSK_ID in request.session})


@require_device(DeviceKind.KIOSK)
async def kiosk_begin(request: Request) -> Response:
    """A language was chosen: begin a fresh session (or switch the current one's language)."""
    form = await request.form()
    locale = str(form.get("locale", ""))
    keep = form.get("keep") == "1"
    device = current_device(request)
    old_id = request.session.get(KIOSK_ID)

    def work(session: Session) -> tuple[str, str]:
        current = flow.load_session(session, old_id, for_update=True) if keep else None
        if current is not None and current.visit_id is None:
            flow.change_locale(session, current, locale)
            return current.id, safe_next(str(form.get("next", "")), "/kiosk/events")
        flow.end_session(session, old_id)
        office = flow.kiosk_office(session, device.office_id if device else None)
        flow.office_catalog(session, office)  # refuse now, not after the language choice
        started = flow.start_session(session, office_id=office.id,  # type: ignore[arg-type]
                                     device_id=device.id if device else None, locale=locale)
        return started.id, "/kiosk/events"

    kiosk_id, target = await in_transaction(request, work)
    request.session[KIOSK_ID] = kiosk_id
    response = go(target)
    response.set_cookie(i18n.LOCALE_COOKIE, locale, samesite="lax", httponly=True,
                        secure=request.app.state.settings.secure_cookies)
    return response


@require_device(DeviceKind.KIOSK)
async def kiosk_display(request: Request) -> Response:
    """Toggle larger text or high contrast for this kiosk session (JS calls it in place)."""
    form = await request.form()
    toggle = str(form.get("toggle", ""))
    if toggle not in DISPLAY_CLASSES:
        raise ValidationFailed(_("Unknown display setting."))
    display = set(request.session.get(DISPLAY, []))
    display ^= {toggle}
    request.session[DISPLAY] = sorted(display)
    if request.headers.get("accept", "").startswith("application/json"):
        return Response(status_code=204, headers=NO_STORE)
    return go(safe_next(str(form.get("next", "")), "/kiosk"))


@require_device(DeviceKind.KIOSK)
async def kiosk_reset(request: Request) -> Response:
    """Start over: the session and everything in it is deleted, the screen goes back to start."""
    kiosk_id = request.session.pop(KIOSK_ID, None)
    request.session.pop(DISPLAY, None)
    await in_transaction(request, lambda session: flow.end_session(session, kiosk_id))
    response = go("/kiosk")
    response.delete_cookie(i18n.LOCALE_COOKIE, samesite="lax", httponly=True)
    return response


# --- life events and questions ---------------------------------------------------------------


def _events_page(request: Request, state: Flow, chosen: list[str],
                 error: str | None = None) -> Response:
    return kiosk_page(request, "kiosk/events.html", {
        "events": state.catalog.life_events, "chosen": chosen, "error": error},
        status_code=422 if error else 200)


@require_device(DeviceKind.KIOSK)
async def kiosk_events(request: Request) -> Response:
    """Choose one or several life events."""
    state, elsewhere = await load(request, "events")
    if elsewhere or state is None:
        return go(elsewhere or "/kiosk")
    return _events_page(request, state, flow.chosen_events(state.kiosk))


@require_device(DeviceKind.KIOSK)
async def kiosk_events_submit(request: Request) -> Response:
    """Record the chosen life events; none or unknown ones are refused in place."""
    form = await request.form()
    chosen = [value for value in form.getlist("event") if isinstance(value, str)]

    def work(session: Session) -> tuple[Flow | None, str | None]:
        state = _load_flow(session, request, for_update=True)
        if state is None or state.kiosk.visit_id is not None:
            return state, None
        try:
            flow.choose_events(session, state.kiosk, state.catalog, chosen)
        except ValidationFailed as error:
            return state, i18n.as_text(error.message)
        return state, None

    state, error = await in_transaction(request, work)
    if state is None:
        return go("/kiosk")
    i18n.set_locale(state.kiosk.locale)
    if error:
        return _events_page(request, state, chosen, error=_("Choose at least one life event."))
    return go("/kiosk/questions")


def _questions_page(request: Request, state: Flow, guide: Guide, values: dict[str, list[str]],
                    errors: dict[str, str] | None = None) -> Response:
    return kiosk_page(request, "kiosk/questions.html", {
        "questions": guide.pending_questions, "values": values, "errors": errors or {},
        "events": guide.life_events}, status_code=422 if errors else 200)


@require_device(DeviceKind.KIOSK)
async def kiosk_questions(request: Request) -> Response:
    """The questions the rules still need, all on one screen; none left → the guide."""
    state, elsewhere = await load(request, "questions")
    if elsewhere or state is None or state.guide is None:
        return go(elsewhere or "/kiosk")
    if state.guide.complete:
        return go("/kiosk/guide")
    return _questions_page(request, state, state.guide, {})


@require_device(DeviceKind.KIOSK)
async def kiosk_questions_submit(request: Request) -> Response:
    """Record the answers; an unanswered or invalid one is shown again with its message."""
    form = await request.form()
    values = _form_lists(form)
    asked = values.pop("asked", [])

    def work(session: Session) -> tuple[Flow | None, dict[str, str] | None]:
        state = _load_flow(session, request, for_update=True)
        if state is None or state.guide is None or state.kiosk.visit_id is not None:
            return state, None
        try:
            flow.answer_questions(session, state.kiosk, state.catalog, values, asked)
        except ValidationFailed as error:
            return state, {key: i18n.as_text(value) for key, value in error.fields.items()}
        return state, None

    state, errors = await in_transaction(request, work)
    if state is None or state.guide is None:
        return go("/kiosk")
    i18n.set_locale(state.kiosk.locale)
    if errors:
        return _questions_page(request, state, state.guide, values, errors)
    return go("/kiosk/questions")


@require_device(DeviceKind.KIOSK)
async def kiosk_questions_reset(request: Request) -> Response:
    """Answer the questions again from the start."""
    def work(session: Session) -> None:
        state = _load_flow(session, request, for_update=True)
        if state is not None and state.kiosk.visit_id is None:
            flow.clear_answers(session, state.kiosk)

    await in_transaction(request, work)
    return go("/kiosk/questions")


# --- the guide, details, consent, ticket -----------------------------------------------------


@require_device(DeviceKind.KIOSK)
async def kiosk_guide(request: Request) -> Response:
    """The result: procedures in visiting order, where to go, what to bring, how long."""
    state, elsewhere = await load(request, "guide")
    if elsewhere or state is None or state.guide is None:
        return go(elsewhere or "/kiosk")
    return kiosk_page(request, "kiosk/guide.html", {
        "guide": state.guide, "office": state.office, "today": _city_today(request),
        "has_details": state.kiosk.details is not None,
        "asks_details": bool(state.guide.detail_fields)})


def _details_page(request: Request, state: Flow, values: dict[str, Any],
                  errors: dict[str, str] | None = None, extra_rows: int = 1) -> Response:
    assert state.guide is not None
    fields = state.guide.detail_fields
    return kiosk_page(request, "kiosk/details.html", {
        "fields": [name for name in fields if name not in entry.FOREIGN_FIELDS
                   and name != entry.MEMBERS],
        "foreign_fields": [name for name in fields if name in entry.FOREIGN_FIELDS],
        "foreign_open": any(name in (errors or {}) or values.get(name)
                            for name in entry.FOREIGN_FIELDS),
        "with_members": entry.MEMBERS in fields,
        "member_fields": MEMBER_FIELDS,
        "rows": entry.member_rows(values, extra=extra_rows),
        "required": flow.required_details(state.guide),
        "labels": FIELD_LABELS, "values": values, "errors": errors or {},
        "options": entry.choice_options(i18n.current_language().babel),
        "date_fields": entry.DATE_FIELDS,
    }, status_code=422 if errors else 200)


@require_device(DeviceKind.KIOSK)
async def kiosk_details(request: Request) -> Response:
    """The optional once-only details form, pre-filled from the details source."""
    state, elsewhere = await load(request, "details")
    if elsewhere or state is None or state.guide is None:
        return go(elsewhere or "/kiosk")
    if not state.guide.detail_fields:
        return go("/kiosk/guide")
    known = flow.stored_details(state.kiosk) or details_source(request).read()
    return _details_page(request, state, entry.form_values(known))


@require_device(DeviceKind.KIOSK)
async def kiosk_details_submit(request: Request) -> Response:
    """Check the details: errors next to their fields (nothing stored), else on to consent."""
    form = await request.form()
    raw = entry.raw_from_form(form.multi_items())
    adding_row = form.get("action") == "add_row"
    today = _city_today(request)

    def work(session: Session) -> tuple[Flow | None, dict[str, str] | None]:
        state = _load_flow(session, request, for_update=True)
        if state is None or state.guide is None or state.kiosk.visit_id is not None:
            return state, None
        if adding_row or not state.guide.complete:
            return state, {}
        try:
            details = validate_details(raw, required=flow.required_details(state.guide),
                                       today=today)
        except ValidationFailed as error:
            return state, {key: i18n.as_text(value) for key, value in error.fields.items()}
        flow.store_details(session, state.kiosk, details)
        return state, None

    state, errors = await in_transaction(request, work)
    if state is None or state.guide is None:
        return go("/kiosk")
    i18n.set_locale(state.kiosk.locale)
    misplaced = _misplaced(state, "details")
    if misplaced:
        return go(misplaced)
    if errors is not None:
        # Typed values are sent back into the form only; they are not stored anywhere.
        return _details_page(request, state, entry.echo_values(raw), errors,
                             extra_rows=2 if adding_row else 1)
    return go("/kiosk/confirm")


def _confirm_page(request: Request, state: Flow, error: str | None = None) -> Response:
    details = flow.stored_details(state.kiosk)
    language = i18n.current_language().babel
    rows = []
    if details is not None:
        for name, value in details.to_data().items():
            if name == entry.MEMBERS:
                continue
            rows.append((FIELD_LABELS[name], entry.display_value(name, value, language)))
    return kiosk_page(request, "kiosk/confirm.html", {
        "guide": state.guide, "details": details, "rows": rows,
        "members": details.household_members if details else (),
        "member_labels": {name: FIELD_LABELS.get(name) for name in MEMBER_FIELDS},
        "show": lambda name, value: entry.display_value(name, value, language),
        "retention_hours": request.app.state.settings.retention_hours, "error": error},
        status_code=422 if error else 200)


@require_device(DeviceKind.KIOSK)
async def kiosk_confirm(request: Request) -> Response:
    """Check the details and agree to their use, or go on without them."""
    state, elsewhere = await load(request, "confirm")
    if elsewhere or state is None:
        return go(elsewhere or "/kiosk")
    return _confirm_page(request, state)


@require_device(DeviceKind.KIOSK)
async def kiosk_issue(request: Request) -> Response:
    """Issue the ticket with the guide's procedures (and the details, if agreed to)."""
    form = await request.form()
    without_details = form.get("without_details") == "1"
    consent = form.get("consent") == "yes"
    hub = request.app.state.hub
    rules = queue.QueueRules.from_settings(request.app.state.settings)

    def work(session: Session) -> tuple[Flow | None, str | None]:
        state = _load_flow(session, request, for_update=True)
        if state is None or _misplaced(state, "confirm"):
            return state, None
        if state.kiosk.details is not None and not without_details and not consent:
            return state, _("Tick the box to agree, or issue the ticket without your details.")
        # Counted only when a ticket is really about to be issued (a double tap is not);
        # a refusal rolls the transaction back and shows the 429 page with Retry-After.
        limit_ticket_issuing(request)
        visit = flow.issue_visit(session, state.kiosk, state.catalog,
                                 with_details=not without_details, rules=rules)
        realtime.announce(session, hub, QUEUE_TOPIC.format(office_id=visit.office_id),
                          {"office_id": visit.office_id})
        return state, None

    state, error = await in_transaction(request, work)
    if state is not None:
        i18n.set_locale(state.kiosk.locale)
    if state is not None and error:
        return _confirm_page(request, state, error)
    misplaced = _misplaced(state, "ticket")
    return go(misplaced or "/kiosk/ticket")


@require_device(DeviceKind.KIOSK)
async def kiosk_ticket(request: Request) -> Response:
    """The ticket: number, procedures, QR code to the status page; printable on 80 mm paper."""
    state, elsewhere = await load(request, "ticket")
    if elsewhere or state is None or state.kiosk.visit_id is None:
        return go(elsewhere or "/kiosk")
    visit_id = state.kiosk.visit_id

    def work(session: Session) -> tuple[Visit, Any]:
        visit = session.get(Visit, visit_id)
        if visit is None:
            raise NotFound(_("This ticket does not exist."))
        return visit, queue.visit_progress(session, visit)

    visit, progress = await in_transaction(request, work)
    url = flow.status_url(request.app.state.settings.base_url, visit.status_token)
    return kiosk_page(request, "kiosk/ticket.html", {
        "visit": visit, "guide": state.guide, "status_url": url,
        "qr": flow.qr_data_url(url), "progress": progress})


# --- the no-write counter (staff) ------------------------------------------------------------


def _user_id(request: Request) -> int | None:
    user = current_user(request)
    return user.id if user is not None else None


def _visit_id(request: Request) -> int:
    return int(request.path_params["visit_id"])


def _record(session: Session, visit_id: int) -> tuple[forms.VisitRecord, Catalog | None]:
    """The visit's record, with its office's catalog when that is usable."""
    visit = session.get(Visit, visit_id)
    office = session.get(Office, visit.office_id) if visit is not None else None
    catalog = None
    if office is not None:
        try:
            catalog = flow.office_catalog(session, office)
        except flow.KioskUnavailable:
            catalog = None  # the counter still shows the details without the catalog's names
    return forms.visit_record(session, visit_id, catalog), catalog


def _details_context(record: forms.VisitRecord) -> dict[str, Any]:
    language = i18n.current_language().babel
    return {
        "record": record, "labels": FIELD_LABELS, "member_fields": MEMBER_FIELDS,
        "data": record.details.to_data(),
        "show": lambda name, value: entry.display_value(name, value, language),
        "source_label": i18n.as_text(SOURCE_LABELS.get(record.source or "", record.source or "")),
    }


def _edit_context(request: Request, record: forms.VisitRecord, values: dict[str, Any],
                  errors: dict[str, str]) -> dict[str, Any]:
    return {
        "record": record, "fields": [name for name in record.detail_fields
                                     if name != entry.MEMBERS],
        "with_members": True, "member_fields": MEMBER_FIELDS,
        "rows": entry.member_rows(values, extra=1, minimum=1),
        "labels": FIELD_LABELS, "values": values, "errors": errors,
        "options": entry.choice_options(i18n.current_language().babel),
        "date_fields": entry.DATE_FIELDS, "required": (),
    }


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@require_role(Role.STAFF)
async def visit_forms(request: Request) -> Response:
    """A visit's procedures and once-only details, with its forms ready to print (audited)."""
    visit_id = _visit_id(request)
    user_id = _user_id(request)

    def work(session: Session) -> tuple[forms.VisitRecord, Catalog | None]:
        found = _record(session, visit_id)
        forms.record_view(session, user_id, visit_id, "details_viewed")
        return found

    record, catalog = await in_transaction(request, work)
    # Forms the visit's procedures do not use: staff may still need one of them.
    others = [form for form in (catalog.forms if catalog else [])
              if form.id not in {used.id for used in record.forms}]
    response = render(request, "kiosk/forms/visit.html", {
        **_details_context(record), "other_forms": others, "state_labels": queue.STATE_LABELS,
        "form_names": {form.id: i18n.translate_map(form.name)
                       for form in (catalog.forms if catalog else [])}})
    response.headers.update(NO_STORE)
    return response


@require_role(Role.STAFF)
async def visit_details_edit(request: Request) -> Response:
    """The details as an editable form (an htmx fragment, or a page without JavaScript)."""
    visit_id = _visit_id(request)
    record, _catalog = await in_transaction(request, lambda session: _record(session, visit_id))
    context = _edit_context(request, record, entry.form_values(record.details), {})
    name = "kiosk/forms/_edit.html" if _is_htmx(request) else "kiosk/forms/edit.html"
    response = render(request, name, context)
    response.headers.update(NO_STORE)
    return response


@require_role(Role.STAFF)
async def visit_details_save(request: Request) -> Response:
    """Save a correction (audited with the changed fields); errors shown in place, nothing saved."""
    visit_id = _visit_id(request)
    user_id = _user_id(request)
    form = await request.form()
    raw = entry.raw_from_form(form.multi_items())
    today = _city_today(request)

    def work(session: Session) -> tuple[forms.VisitRecord, dict[str, str]]:
        try:
            forms.correct_details(session, visit_id, raw, user_id, today)
        except ValidationFailed as error:
            return _record(session, visit_id)[0], {key: str(value)
                                                   for key, value in error.fields.items()}
        return _record(session, visit_id)[0], {}

    record, errors = await in_transaction(request, work)
    if errors:
        context = _edit_context(request, record, entry.echo_values(raw), errors)
        name = "kiosk/forms/_edit.html" if _is_htmx(request) else "kiosk/forms/edit.html"
        return render(request, name, context, status_code=422)
    if _is_htmx(request):
        response = render(request, "kiosk/forms/_details.html",
                          {**_details_context(record), "saved": True})
        response.headers.update(NO_STORE)
        return response
    return go(f"/forms/visit/{visit_id}")


@require_role(Role.STAFF)
async def visit_form_print(request: Request) -> Response:
    """One form of the visit, filled from the details, laid out for A4 (audited)."""
    visit_id = _visit_id(request)
    form_id = request.path_params["form_id"]
    user_id = _user_id(request)
    today = _city_today(request)

    def work(session: Session) -> tuple[forms.VisitRecord, Any]:
        record, catalog = _record(session, visit_id)
        if catalog is None or not catalog.has("forms", form_id):
            raise NotFound(_("This form does not exist."))
        forms.record_view(session, user_id, visit_id, "form_printed", form=form_id)
        return record, catalog.form(form_id)

    record, form = await in_transaction(request, work)
    details = record.details
    with i18n.use_locale(FORM_LOCALE):
        response = render(request, PRINT_TEMPLATES.get(form.id, "kiosk/forms/generic.html"), {
            "record": record, "form": form, "d": details, "today": today,
            "era": lambda value: format_era(value) if value else "",
            "labels": FIELD_LABELS, "move_kinds": record.move_kinds,
            "children": forms.children(details, today),
            "show": lambda name, value: entry.display_value(
                name, value, i18n.current_language().babel),
            "data": details.to_data(), "age_on": forms.age_on})
    response.headers.update(NO_STORE)
    return response


routes = [
    Route("/kiosk", kiosk_start, methods=["GET"], name="kiosk_start"),
    Route("/kiosk/start", kiosk_begin, methods=["POST"], name="kiosk_begin"),
    Route("/kiosk/display", kiosk_display, methods=["POST"], name="kiosk_display"),
    Route("/kiosk/reset", kiosk_reset, methods=["POST"], name="kiosk_reset"),
    Route("/kiosk/events", kiosk_events, methods=["GET"], name="kiosk_events"),
    Route("/kiosk/events", kiosk_events_submit, methods=["POST"]),
    Route("/kiosk/questions", kiosk_questions, methods=["GET"], name="kiosk_questions"),
    Route("/kiosk/questions", kiosk_questions_submit, methods=["POST"]),
    Route("/kiosk/questions/reset", kiosk_questions_reset, methods=["POST"],
          name="kiosk_questions_reset"),
    Route("/kiosk/guide", kiosk_guide, methods=["GET"], name="kiosk_guide"),
    Route("/kiosk/details", kiosk_details, methods=["GET"], name="kiosk_details"),
    Route("/kiosk/details", kiosk_details_submit, methods=["POST"]),
    Route("/kiosk/confirm", kiosk_confirm, methods=["GET"], name="kiosk_confirm"),
    Route("/kiosk/ticket", kiosk_ticket, methods=["GET"], name="kiosk_ticket"),
    Route("/kiosk/ticket", kiosk_issue, methods=["POST"]),
    Route("/forms/visit/{visit_id:int}", visit_forms, methods=["GET"], name="visit_forms"),
    Route("/forms/visit/{visit_id:int}/details/edit", visit_details_edit, methods=["GET"],
          name="visit_details_edit"),
    Route("/forms/visit/{visit_id:int}/details", visit_details_save, methods=["POST"],
          name="visit_details_save"),
    Route("/forms/visit/{visit_id:int}/print/{form_id}", visit_form_print, methods=["GET"],
          name="visit_form_print"),
]
