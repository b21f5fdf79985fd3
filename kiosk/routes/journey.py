"""The resident's journey on the kiosk: life events, questions, guide, details, consent, ticket.

Each step loads the kiosk session's state in one transaction and sends a resident who is on the
wrong screen to the right one (`load`, `_misplaced`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from counter import hours, queue
from counter.models import Office, Service, Visit
from counter.topics import topic_of
from frontyard import i18n, realtime
from frontyard.auth import DeviceKind
from frontyard.database import utcnow
from frontyard.errors import NotFound, ValidationFailed
from frontyard.guards import require_device
from frontyard.i18n import gettext as _
from frontyard.ratelimit import limit_ticket_issuing
from frontyard.transactions import in_transaction
from kiosk import entry, flow, offer
from kiosk.catalog import Catalog
from kiosk.details import FIELD_LABELS, MEMBER_FIELDS, DetailsSource, ManualEntry, validate_details
from kiosk.guide import Guide
from kiosk.models import KioskSession
from kiosk.routes.common import UNREADABLE_FORM, city_today, go, read_form
from kiosk.routes.screens import KIOSK_ID, kiosk_page


@dataclass
class Flow:
    """A kiosk request's state, loaded in one transaction."""

    office: Office
    catalog: Catalog
    kiosk: KioskSession
    guide: Guide | None
    #: Each service's name by code: residents see one name per service and language, the
    #: one phones, boards and terminals show (the catalog's section name only seeds it).
    service_names: dict[str, dict[str, str]]
    #: The office's kiosk settings (its privacy notice).
    settings: offer.KioskSettings


def _load_flow(session: Session, request: Request, *, for_update: bool = False) -> Flow | None:
    kiosk_session = flow.load_session(session, request.session.get(KIOSK_ID),
                                      for_update=for_update)
    if kiosk_session is None:
        return None
    office = flow.kiosk_office(session, kiosk_session.office_id)
    catalog = flow.office_catalog(session, office)
    names = dict(session.exec(select(Service.code, Service.names)
                              .where(Service.office_id == office.id)).all())
    return Flow(office, catalog, kiosk_session, flow.guide_for(catalog, kiosk_session), names,
                offer.settings_of(session, office.id))  # type: ignore[arg-type]


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



def details_source(request: Request) -> DetailsSource:
    """Where pre-filled details come from: manual entry until a card reader is configured."""
    source: DetailsSource = getattr(request.app.state, "details_source", None) or ManualEntry()
    return source


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
    form = await read_form(request)
    if form is None:
        return await unreadable(request, "events")
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
                    errors: dict[str, str] | None = None, form_error: Any = None) -> Response:
    return kiosk_page(request, "kiosk/questions.html", {
        "questions": guide.pending_questions, "values": values, "errors": errors or {},
        "events": guide.life_events, "form_error": form_error},
        status_code=422 if errors or form_error else 200)


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
    form = await read_form(request)
    if form is None:
        return await unreadable(request, "questions")
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
    codes = [step.service for step in state.guide.steps]
    closed = await in_transaction(request, lambda session: flow.closed_services(
        session, state.office.id, codes, utcnow(), request.app.state.settings.tz))  # type: ignore[arg-type]
    return kiosk_page(request, "kiosk/guide.html", {
        "closed_services": closed,
        "guide": state.guide, "office": state.office, "today": city_today(request),
        "service_names": state.service_names,
        "has_details": state.kiosk.details is not None,
        "asks_details": bool(state.guide.detail_fields)})


def _details_page(request: Request, state: Flow, values: dict[str, Any],
                  errors: dict[str, str] | None = None, extra_rows: int = 1,
                  form_error: Any = None) -> Response:
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
        "date_fields": entry.DATE_FIELDS, "form_error": form_error,
    }, status_code=422 if errors or form_error else 200)


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
    form = await read_form(request)
    if form is None:
        return await unreadable(request, "details")
    raw = entry.raw_from_form(form.multi_items())
    adding_row = form.get("action") == "add_row"
    today = city_today(request)

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
        "retention_hours": request.app.state.settings.retention_hours, "error": error,
        "privacy": offer.privacy_notice(state.settings, state.kiosk.locale)},
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
    form = await read_form(request)
    if form is None:
        return await unreadable(request, "confirm")
    without_details = form.get("without_details") == "1"
    consent = form.get("consent") == "yes"
    hub = request.app.state.hub
    rules = queue.QueueRules.from_settings(request.app.state.settings)

    def work(session: Session) -> tuple[Flow | None, str | hours.OutsideHours | None]:
        state = _load_flow(session, request, for_update=True)
        if state is None or _misplaced(state, "confirm"):
            return state, None
        if state.kiosk.details is not None and not without_details and not consent:
            return state, _("Tick the box to agree, or issue the ticket without your details.")
        # Counted only when a ticket is really about to be issued (a double tap is not);
        # a refusal rolls the transaction back and shows the 429 page with Retry-After.
        limit_ticket_issuing(request)
        try:
            visit = flow.issue_visit(session, state.kiosk, state.catalog,
                                     with_details=not without_details, rules=rules)
        except hours.OutsideHours as refusal:
            return state, refusal
        realtime.announce(session, hub, topic_of(visit.office_id),
                          {"office_id": visit.office_id})
        return state, None

    state, error = await in_transaction(request, work)
    if state is not None:
        i18n.set_locale(state.kiosk.locale)
    if state is not None and isinstance(error, hours.OutsideHours):
        return _confirm_page(request, state, error.explain())  # in the resident's language
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
        "service_names": state.service_names,
        "qr": flow.qr_data_url(url), "progress": progress})


async def unreadable(request: Request, step: str) -> Response:
    """A form that could not be read (a value of megabytes): its screen again, with the message
    in the resident's language; the kiosk session and what it holds are kept."""
    state, elsewhere = await load(request, step)
    if elsewhere or state is None:
        return go(elsewhere or "/kiosk")
    if step == "events":
        return _events_page(request, state, flow.chosen_events(state.kiosk),
                            error=i18n.as_text(UNREADABLE_FORM))
    if step == "questions" and state.guide is not None:
        return _questions_page(request, state, state.guide, {}, form_error=UNREADABLE_FORM)
    if step == "details":
        known = flow.stored_details(state.kiosk) or details_source(request).read()
        return _details_page(request, state, entry.form_values(known), form_error=UNREADABLE_FORM)
    return _confirm_page(request, state, error=i18n.as_text(UNREADABLE_FORM))
