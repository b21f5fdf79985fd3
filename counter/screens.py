"""The live screens' audiences and how each renders: the HTTP page and its websocket updates
share the same fragment templates and context builders, so a screen looks the same on first
load and after every change.

Audiences (see `frontyard.live`): one rendering is sent to every socket of an audience.
- `BoardAudience(office, config)`: every board of the office that shows the same calls (all,
  some services', one zone's) in the same languages.
- `CrowdingAudience(office, locale)`: every public crowding page in that language.
- `TerminalAudience(office, counter, locale)`: the staff terminal of one counter.
- `StatusAudience(office, visit, locale)`: the status pages of one visit. Residents' phones
  are grouped by visit, not by office: a visit's page shows its own place in line, so an
  office-wide message would carry every visit's status to every phone (tens of kilobytes
  per change and per phone). All visits of an office are computed together in a fixed
  number of queries (`statuses.resident_statuses`); only their small fragments are rendered
  per visit, and a visit whose fragment did not change receives nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache, partial
from typing import Any, ClassVar, Protocol, TypeVar

from markupsafe import escape
from sqlmodel import Session

from counter import queue, statuses, views
from counter.board_settings import DEFAULT_BOARD, BoardConfig, for_board
from counter.board_view import BoardView, board_view
from counter.models import Counter, Service
from counter.topics import topic_of
from counter.waits import WaitRange, queue_wait_range, wait_range, wait_words
from frontyard import i18n, live
from frontyard.database import read_session, utcnow
from frontyard.i18n import lazy_gettext

ViewT = TypeVar("ViewT")

#: The board's fixed texts, shown in Japanese and the board's second language.
BOARD_LABELS: dict[str, Any] = {
    "title": lazy_gettext("Call board"),
    "calling": lazy_gettext("Now calling"),
    "counter": lazy_gettext("Counter"),
    "recent": lazy_gettext("Recent calls"),
    "waiting": lazy_gettext("Waiting now"),
    "nobody": lazy_gettext("No numbers are being called yet."),
    "people": lazy_gettext("people"),
    "go_to": lazy_gettext("Please go to the counter shown next to your number."),
}
SPOKEN_CALL = lazy_gettext("Ticket number %(number)s, please come to counter %(counter)s.")
SPOKEN_RECALL = lazy_gettext(
    "Calling again: ticket number %(number)s, please come to counter %(counter)s.")
JAPANESE = "ja"


def speech_lang(code: str) -> str:
    """The BCP 47 tag speech synthesis wants for one of our languages (ja-JP, zh-CN…)."""
    locale = i18n.BY_CODE[code].babel
    language = "fil" if code == "tl" else locale.language
    return f"{language}-{locale.territory}" if locale.territory else language


def spoken_number(ticket_number: str) -> str:
    """How a ticket number is read out: `A-007` → `A 7` (no dash, no leading zeros)."""
    prefix, _, digits = ticket_number.rpartition("-")
    spoken = str(int(digits)) if digits.isdigit() else digits
    return f"{prefix} {spoken}".strip()


def board_languages(rotating: Sequence[str]) -> list[str]:
    """The languages a board shows and speaks: Japanese first, then those that take turns on
    its second line (`lang-2`, `lang-3`… in the page)."""
    return [JAPANESE, *(code for code in rotating if code not in {JAPANESE, "ja_easy"})]


def _in_each(codes: Sequence[str], message: Any, **values: Any) -> list[tuple[str, str]]:
    """A text in each language, as (html lang, text) pairs."""
    result = []
    for code in codes:
        with i18n.use_locale(code):
            text = str(message) % values if values else str(message)
        result.append((i18n.BY_CODE[code].html_lang, text))
    return result


def _names_in_each(codes: Sequence[str], names: dict[str, str],
                   fallback: str) -> list[tuple[str, str]]:
    result = []
    for code in codes:
        with i18n.use_locale(code):
            result.append((i18n.BY_CODE[code].html_lang, i18n.translate_map(names) or fallback))
    return result


def render_fragment(app: Any, template: str, locale: str, context: dict[str, Any]) -> str:
    """Render a fragment template in a language, outside any request."""
    with i18n.use_locale(locale):
        env = app.state.templates.env
        return str(env.get_template(template).render(
            language=i18n.BY_CODE[locale], **context))


def state_message(parts: dict[str, str], **extra: Any) -> str:
    """The JSON text of a full-state message: HTML per element id, plus extra data."""
    return json.dumps({"type": "state", "parts": parts, **extra}, ensure_ascii=False,
                      separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# Board
# ---------------------------------------------------------------------------------------------


def board_context(view: BoardView, rotating: Sequence[str]) -> dict[str, Any]:
    """What the board fragment needs, with every text in Japanese and each rotating language."""
    codes = board_languages(rotating)

    def counter_names(counter: Counter | None, number: str) -> list[tuple[str, str]]:
        return _names_in_each(codes, counter.names if counter else {}, number)

    def service_names(service: Service) -> list[tuple[str, str]]:
        return _names_in_each(codes, service.names, service.code)

    return {
        "view": view,
        "labels": {key: _in_each(codes, label) for key, label in BOARD_LABELS.items()},
        "counter_names": counter_names,
        "service_names": service_names,
        "language_codes": codes,
    }


def board_calls(view: BoardView, rotating: Sequence[str]) -> list[dict[str, Any]]:
    """The calls a board may still announce, oldest first, with what to say in each language;
    `slot` is the utterance's place among the board's languages (1: Japanese, always spoken;
    the board speaks the rotating language its second line shows)."""
    codes = board_languages(rotating)
    calls = []
    for record in view.to_speak:
        phrase = SPOKEN_RECALL if record.recall else SPOKEN_CALL
        utterances = []
        for slot, code in enumerate(codes, start=1):
            with i18n.use_locale(code):
                text = str(phrase) % {"number": spoken_number(record.ticket_number),
                                      "counter": record.counter.number}
            utterances.append({"lang": speech_lang(code), "text": text, "slot": slot})
        calls.append({"id": record.event_id, "number": record.ticket_number,
                      "counter": record.counter.number, "utterances": utterances})
    return calls


class OfficeScreen:
    """An audience that follows everything announced in its office."""

    office_id: int

    @property
    def topic(self) -> str:
        """The office's topic."""
        return topic_of(self.office_id)


def read_per_office(session: Session, audiences: Sequence[OfficeScreen],
                    read: Callable[[Session, int, datetime], ViewT]) -> dict[int, ViewT]:
    """Read each office's view once, however many audiences (languages) share it."""
    now = utcnow()
    return {office_id: read(session, office_id, now)
            for office_id in dict.fromkeys(audience.office_id for audience in audiences)}


@dataclass(frozen=True)
class BoardAudience(OfficeScreen):
    """Every call board of one office that shows the same calls in the same languages."""

    render_priority: ClassVar[int] = 0  # the lobby watches the board first
    office_id: int
    config: BoardConfig = DEFAULT_BOARD

    @classmethod
    def render_many(cls, app: Any, audiences: Sequence[BoardAudience]) -> dict[Any, str]:
        """One board message per kind of board, from one reading of the office."""
        payloads: dict[Any, str] = {}
        with read_session(app.state.engine) as session:
            read = partial(board_view, tz=app.state.settings.tz)
            board_views = read_per_office(session, audiences, read)
            for audience in audiences:
                view = for_board(board_views[audience.office_id], audience.config.shows)
                languages = audience.config.languages
                html = render_fragment(app, "counter/_board_live.html", JAPANESE,
                                       board_context(view, languages))
                payloads[audience] = state_message(
                    {"board-live": html}, calls=board_calls(view, languages))
        return payloads


# ---------------------------------------------------------------------------------------------
# Crowding page
# ---------------------------------------------------------------------------------------------


def crowding_context(view: views.CrowdingView) -> dict[str, Any]:
    """What the crowding fragment needs."""
    return {"view": view, "Lamp": views.Lamp, "queue_wait_range": queue_wait_range,
            "wait_words": wait_words}


@dataclass(frozen=True)
class CrowdingAudience(OfficeScreen):
    """Every public crowding page of one office in one language."""

    render_priority: ClassVar[int] = 2
    office_id: int
    locale: str

    @classmethod
    def render_many(cls, app: Any, audiences: Sequence[CrowdingAudience]) -> dict[Any, str]:
        """One message per language, from one reading of the office."""
        payloads: dict[Any, str] = {}
        with read_session(app.state.engine) as session:
            crowding_views = read_per_office(session, audiences, partial(
                views.crowding_view, tz=app.state.settings.tz))
            for audience in audiences:
                html = render_fragment(app, "counter/_crowding_live.html", audience.locale,
                                       crowding_context(crowding_views[audience.office_id]))
                payloads[audience] = state_message({"crowding-live": html})
        return payloads


# ---------------------------------------------------------------------------------------------
# Staff terminal
# ---------------------------------------------------------------------------------------------


LANGUAGE_NAMES = {language.code: language.native_name for language in i18n.LANGUAGES}


def terminal_context(view: views.TerminalView, message: str | None = None) -> dict[str, Any]:
    """What the terminal fragment needs."""
    return {"view": view, "message": message, "services_by_id": view.services_by_id,
            "state_labels": queue.STATE_LABELS, "language_names": LANGUAGE_NAMES,
            "form_page": form_page}


class PresentedDetails(Protocol):
    """A visit's details as the terminal shows them: (label, value) rows, then tables, each
    with a `caption`, `columns` and `rows` (the household: one row per person)."""

    rows: Sequence[tuple[str, str]]
    tables: Sequence[Any]


@dataclass(frozen=True)
class PlainDetails:
    """Details shown by their keys, when no feature has said how to label them."""

    rows: Sequence[tuple[str, str]]
    tables: Sequence[Any] = ()


def plain_details(data: Mapping[str, Any]) -> PresentedDetails:
    """Each stored field as (readable key, value as text)."""
    return PlainDetails([(str(key).replace("_", " "), _plain_value(value))
                         for key, value in data.items()])


def _plain_value(value: Any) -> str:
    """A stored value as text: lists and mappings (household members) flattened."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain_value(v)}" for k, v in value.items()
                         if v not in (None, ""))
    if isinstance(value, list | tuple):
        return " / ".join(_plain_value(item) for item in value)
    return "" if value is None else str(value)


#: How stored details become labelled rows and tables. The kiosk, which asks for the details,
#: knows their labels and codes; the composition layer hands its presenter over
#: (`use_details_presenter`), so the queue needs no kiosk.
_presenter: list[Callable[[Mapping[str, Any]], PresentedDetails]] = [plain_details]
#: Where a visit's forms are printed (the kiosk's no-write form page), if anywhere.
_form_page: list[Callable[[str], str] | None] = [None]


def use_details_presenter(presenter: Callable[[Mapping[str, Any]], PresentedDetails],
                          form_page: Callable[[str], str] | None = None) -> None:
    """Show pre-filled details through this presenter, and link each visit to its form page
    (`form_page(visit.public_id)` is its URL: never the counted id), from now on."""
    _presenter[0] = presenter
    _form_page[0] = form_page


def form_page(public_id: str) -> str | None:
    """The URL of a visit's form page (by its public id), or None when no feature prints forms."""
    page = _form_page[0]
    return page(public_id) if page is not None else None


def present_details(data: Mapping[str, Any]) -> PresentedDetails:
    """A visit's stored details, labelled in the current language."""
    return _presenter[0](data)


def details_context(task: Any, details: Any, message: str | None,
                    visit_public_id: str | None = None) -> dict[str, Any]:
    """What the details fragment needs."""
    return {"task": task, "details": details, "message": message,
            "presented": present_details(details.data) if details is not None else None,
            "form_page": form_page(visit_public_id) if visit_public_id else None}


@dataclass(frozen=True)
class TerminalAudience(OfficeScreen):
    """The terminal of one counter, in the staff member's language."""

    render_priority: ClassVar[int] = 3  # the caller's terminal also gets its HTTP answer
    office_id: int
    counter_id: int
    locale: str

    @classmethod
    def render_many(cls, app: Any, audiences: Sequence[TerminalAudience]) -> dict[Any, str]:
        """One message per counter and language, from one reading of what counters share."""
        payloads: dict[Any, str] = {}
        with read_session(app.state.engine) as session:
            terminal_views = views.terminal_views(
                session, list(dict.fromkeys(audience.counter_id for audience in audiences)),
                utcnow())
            for audience in audiences:
                html = render_fragment(app, "counter/_terminal_live.html", audience.locale,
                                       terminal_context(terminal_views[audience.counter_id]))
                payloads[audience] = state_message({"terminal-live": html})
        return payloads


# ---------------------------------------------------------------------------------------------
# Residents' status pages
# ---------------------------------------------------------------------------------------------

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: What a status page gets when its visit no longer exists.
GONE = json.dumps({"type": "gone"})


def status_context(status: statuses.ResidentStatus) -> dict[str, Any]:
    """What the status fragment needs (nothing personal is in a ResidentStatus), in the
    current language."""
    return {"status": status, "wait_text": _wait_text(status)}


def _wait_range(status: statuses.ResidentStatus) -> WaitRange | None:
    """How the wait may be shown; None when the resident is not waiting."""
    if status.people_ahead is None or status.estimated_wait is None:
        return None
    return wait_range(status.estimated_wait, people_ahead=status.people_ahead,
                      counter_open=status.counter_open)


def _wait_text(status: statuses.ResidentStatus) -> str | None:
    shown = _wait_range(status)
    return None if shown is None else wait_words(shown)


# Stand-ins for what differs between visits that otherwise look the same (private-use
# characters: never in real text, untouched by HTML escaping).
_TICKET, _AHEAD, _WAIT, _CALL = "\ue000", "\ue001", "\ue002", "\ue003"


def _shape_of(status: statuses.ResidentStatus, locale: str) -> tuple[Any, ...]:
    """What decides a status fragment apart from the ticket, the place in line and the wait."""
    return (locale, status.closed, status.state, status.service.id if status.service else None,
            status.step_name, status.step_number, status.step_count, status.task_number,
            status.task_count, status.counter.id if status.counter else None,
            _procedure_key(status.procedure),
            tuple(_procedure_key(procedure) for procedure in status.remaining),
            status.people_ahead is None, status.call_key is None)


def _procedure_key(procedure: statuses.Procedure | None) -> tuple[Any, ...] | None:
    """What decides how a procedure is shown."""
    if procedure is None:
        return None
    return (procedure.code, procedure.service.id)


class StatusMessages:
    """Residents' status messages, each distinct shape of fragment rendered once.

    Two hundred residents waiting for one service differ only in their number, place and
    wait: their fragment is rendered once, as a whole JSON message, with stand-ins that are
    then replaced per visit (a string replace, no template, no JSON encoding per visit).
    """

    def __init__(self, app: Any, reading: statuses.StatusReading) -> None:
        self.app = app
        self.reading = reading
        self._statuses: dict[int, statuses.ResidentStatus | None] = {}
        self._shapes: dict[tuple[Any, ...], str] = {}

    def message(self, visit_id: int, locale: str) -> str:
        """The state message of one visit's status pages in one language."""
        if visit_id not in self._statuses:
            self._statuses[visit_id] = self.reading.status(visit_id)
        status = self._statuses[visit_id]
        if status is None:
            return GONE
        key = _shape_of(status, locale)
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = self._render_shape(status, locale)
        return (shape.replace(_TICKET, _in_json(status.ticket_number))
                .replace(_AHEAD, str(status.people_ahead))
                .replace(_WAIT, _wait_in_json(locale, _wait_range(status)))
                .replace(_CALL, _in_json(status.call_key or "")))

    def _render_shape(self, status: statuses.ResidentStatus, locale: str) -> str:
        stand_in = replace(status, ticket_number=_TICKET,
                           people_ahead=None if status.people_ahead is None else _AHEAD,
                           call_key=None if status.call_key is None else _CALL)
        html = render_fragment(self.app, "counter/_status_live.html", locale,
                               {"status": stand_in, "wait_text": _WAIT})
        return state_message({"status-live": html})


@lru_cache(maxsize=4096)
def _wait_in_json(locale: str, shown: WaitRange | None) -> str:
    """The wait's words ready for a message (`_in_json`): a few hundred residents share the
    few dozen ranges there are."""
    with i18n.use_locale(locale):
        return _in_json("" if shown is None else wait_words(shown))


#: Text that needs no escaping in HTML nor in JSON (ticket numbers, call keys, most waits).
_PLAIN = re.compile(r"[\w\-.: ]*")


def _in_json(text: str) -> str:
    """Text as it goes inside the HTML inside a JSON string: escaped for both."""
    if type(text) is str and _PLAIN.fullmatch(text):  # not Markup, nor text with readings
        return text
    return json.dumps(str(escape(text)), ensure_ascii=False)[1:-1]


@dataclass(frozen=True)
class StatusAudience(OfficeScreen):
    """The status pages of one visit in one language."""

    render_priority: ClassVar[int] = 1
    office_id: int
    visit_id: int
    locale: str

    @classmethod
    def render_many(cls, app: Any,
                    audiences: Sequence[StatusAudience]) -> dict[Any, live.Payload]:
        """Every watched visit of the office, read together in a fixed number of queries;
        each visit's status and message are made when they are sent (see `live.Payload`)."""
        with read_session(app.state.engine) as session:
            reading = statuses.StatusReading(
                session, sorted({audience.visit_id for audience in audiences}), utcnow())
        messages = StatusMessages(app, reading)
        payloads: dict[Any, live.Payload] = {}
        for audience in audiences:
            # A deleted visit: the page says so and stops.
            payloads[audience] = (partial(messages.message, audience.visit_id, audience.locale)
                                  if audience.visit_id in reading.tickets else GONE)
        return payloads
