"""The procedure navigator: life-event questions, procedures, online alternatives, best time.

Pages (all GET, public, bookmarkable; the answers live in the query, see `navigator.link`):

- `/navigator`: the offices (straight to the only one);
- `/navigator/{office}`: the life events, as on the kiosk;
- `/navigator/{office}/questions?event=…`: the questions the rules still need; the form sends
  the answers so far back here and, once nothing is left to ask, goes on to
- `/navigator/{office}/procedures?event=…&answers…`: the result, the link to share and print.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from counter.appointments.slots import is_bookable
from counter.waits import wait_words
from frontyard import i18n
from frontyard.database import utcnow
from frontyard.exceptions import ValidationFailed
from frontyard.i18n import gettext as _
from kiosk.guide import Guide
from navigator import link, when_words
from navigator.figures import FiguresCache, visit_figures
from navigator.link import BadLink, Choices
from navigator.routes.page import (
    NO_CACHE,
    OfficeGuide,
    load_office,
    navigator_page,
    offices,
    public_page,
    query_pairs,
    reading,
    route_or_none,
)


def _go(path: str) -> Response:
    """A redirect to another navigator page (a GET, so 303 keeps it one)."""
    return RedirectResponse(path, status_code=303, headers=NO_CACHE)


def _base(code: str) -> str:
    return f"/navigator/{code}"


@public_page
async def navigator_home(request: Request) -> Response:
    """Choose the office (the only one: straight to it)."""
    found = await reading(request, offices)
    if len(found) == 1:
        return _go(_base(found[0].code))
    return navigator_page(request, "navigator/offices.html", {"offices": found})


def _events_page(request: Request, place: OfficeGuide, chosen: tuple[str, ...],
                 error: str | None = None) -> Response:
    return navigator_page(request, "navigator/events.html", {
        "office": place.office, "events": place.catalog.life_events, "chosen": chosen,
        "error": error}, status_code=422 if error else 200)


@public_page
async def navigator_events(request: Request) -> Response:
    """The life events of the office, those of the address already ticked."""
    pairs = query_pairs(request)
    place = await load_office(request)
    choices = link.read_choices(place.catalog, pairs)
    return _events_page(request, place, choices.events)


def _read(place: OfficeGuide, pairs: list[tuple[str, str]]) -> tuple[Choices | None,
                                                                        dict[str, str]]:
    """The choices of the address; with answers the form must show again, their messages."""
    try:
        return link.read_choices(place.catalog, pairs), {}
    except ValidationFailed as error:
        return None, {key: i18n.as_text(value) for key, value in error.fields.items()}


@public_page
async def navigator_questions(request: Request) -> Response:
    """The questions the rules still need for the chosen life events; with none left, the
    procedures. Answers the form just sent that are not valid are shown again in place."""
    pairs = query_pairs(request)
    code = request.path_params["office"]
    place = await load_office(request)
    choices, errors = _read(place, pairs)
    if choices is None:
        asked = {value for key, value in pairs if key == link.ASKED}
        if not set(errors) <= asked:
            raise BadLink(_("This link holds an answer that is not valid. Please answer the "
                            "questions again."))
        # The form's own answers were wrong: keep the other, valid ones and ask again.
        kept = [(key, value) for key, value in pairs if key not in errors]
        choices = link.read_choices(place.catalog, kept)
        return _questions_page(request, place, choices, errors, pairs)
    if not choices.events:
        return _events_page(request, place, (), error=_("Choose at least one life event."))
    guide = link.guide_of(place.catalog, choices)
    pending = {question.id for question in guide.pending_questions}
    unanswered = [qid for qid in choices.asked if qid in pending]
    if unanswered:
        message = _("Please answer this question.")
        return _questions_page(request, place, choices, dict.fromkeys(unanswered, message),
                               pairs)
    query = link.query_of(place.catalog, choices)
    if guide.complete:
        return _go(f"{_base(code)}/procedures?{query}")
    if choices.asked or request.url.query != query:
        return _go(f"{_base(code)}/questions?{query}")  # a tidy address to bookmark
    return _questions_page(request, place, choices, {}, pairs)


def _questions_page(request: Request, place: OfficeGuide, choices: Choices,
                    errors: dict[str, str], pairs: list[tuple[str, str]]) -> Response:
    guide = link.guide_of(place.catalog, choices)
    catalog = place.catalog
    pending = [question for question in guide.pending_questions]
    asked_ids = {question.id for question in pending}
    # What the form carries along: the life events and the answers given on earlier screens.
    carried = [(link.EVENT, event) for event in choices.events] + [
        (key, value) for key, value in link.answer_pairs(
            catalog, link.relevant_answers(catalog, choices)) if key not in asked_ids]
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        if key in asked_ids:
            values.setdefault(key, []).append(value)
    events_query = link.query_of(catalog, choices, answers=False)
    return navigator_page(request, "navigator/questions.html", {
        "office": place.office, "questions": pending, "errors": errors, "values": values,
        "carried": carried, "events": guide.life_events,
        "back": f"{_base(place.office.code)}?{events_query}",
    }, status_code=422 if errors else 200)


def _steps_by_service(place: OfficeGuide, guide: Guide) -> list[tuple[int, str]]:
    services = []
    for step in guide.steps:
        service = place.services.get(step.service)
        if service is not None and service.id is not None:
            services.append((service.id, service.code))
    return list(dict.fromkeys(services))


@public_page
async def navigator_procedures(request: Request) -> Response:
    """The result: each procedure with where, what to bring, how long, whether it can be done
    online; the wait now and the best time to come; the link to share and print."""
    pairs = query_pairs(request)
    code = request.path_params["office"]
    settings = request.app.state.settings
    cache = _figures_cache(request)

    place = await load_office(request)
    try:
        choices = link.read_choices(place.catalog, pairs)
    except ValidationFailed:
        raise BadLink(_("This link holds an answer that is not valid. Please answer the "
                        "questions again.")) from None
    if not choices.events:
        raise BadLink(_("This link names no life event. Please choose again."))
    guide = link.guide_of(place.catalog, choices)
    query = link.query_of(place.catalog, choices)
    if not guide.complete:
        return _go(f"{_base(code)}/questions?{query}")
    services = _steps_by_service(place, guide)

    def read(session: Any) -> tuple[Any, set[str]]:
        figures = visit_figures(session, cache, office_id=place.office.id, services=services,
                                now=utcnow(), tz=settings.tz)
        return figures, {code for service_id, code in services
                         if is_bookable(session, service_id)}

    figures, bookable = await reading(request, read)
    return navigator_page(request, "navigator/procedures.html", {
        **_result_context(request, place, choices, guide, figures, query, bookable)})


def _result_context(request: Request, place: OfficeGuide, choices: Choices, guide: Guide,
                    figures: Any, query: str, bookable_services: set[str]) -> dict[str, Any]:
    """What the result page shows, in the page's language; `bookable_services` (codes) get a
    "Book a visit time" link to their booking page."""
    code = place.office.code
    services = place.services
    waits = [(services[service_code], wait_words(wait.shown), wait.waiting)
             for service_code, wait in figures.waits.items()]
    bookable = {step.service: route_or_none(request, "booking_book", office=code,
                                            service=step.service)
                for step in guide.steps if step.service in bookable_services}
    details = route_or_none(request, "at_home", office=code)
    base_url = str(request.app.state.settings.base_url or "").rstrip("/") or \
        str(request.base_url).rstrip("/")
    path = f"{_base(code)}/procedures?{query}"
    return {
        "office": place.office, "guide": guide, "service_names": {
            service_code: service.names for service_code, service in services.items()},
        "minutes": figures.handling_minutes,
        "total_minutes": sum(figures.handling_minutes.get(step.service,
                                                          step.procedure.duration_minutes)
                             for step in guide.steps),
        "waits": waits, "busiest": when_words.span_words(figures.best.busiest),
        "quieter": when_words.span_words(figures.best.quieter),
        "online_steps": [step for step in guide.steps if step.procedure.online],
        "booking": {service: url for service, url in bookable.items() if url},
        "details_link": f"{details}?{query}" if details else None,
        "share_url": base_url + path, "canonical": path,
        "change_answers": f"{_base(code)}/questions?"
                          f"{urlencode([(link.EVENT, event) for event in choices.events])}",
        "today": utcnow().astimezone(request.app.state.settings.tz).date(),
    }


def _figures_cache(request: Request) -> FiguresCache:
    """The app's cache of analytics figures (made on first use)."""
    state = request.app.state
    cache = getattr(state, "navigator_figures", None)
    if cache is None:
        cache = state.navigator_figures = FiguresCache()
    return cache  # type: ignore[no-any-return]


routes: list[BaseRoute] = [
    Route("/navigator", navigator_home, methods=["GET"], name="navigator_home"),
    Route("/navigator/{office}", navigator_events, methods=["GET"], name="navigator_events"),
    Route("/navigator/{office}/questions", navigator_questions, methods=["GET"],
          name="navigator_questions"),
    Route("/navigator/{office}/procedures", navigator_procedures, methods=["GET"],
          name="navigator_procedures"),
]
