"""What each call board shows: every call (the default), the calls of some services, or the
calls to the counters of one floor or zone; and its languages, Japanese first and then one or
more that take turns on the second line and in the spoken call.

Pure domain (no Starlette): the settings' tables, reading a board's settings, and narrowing
the office's board view (`counter.board_view`, read once per office) to what one board may
show. A board without settings, or a staff member's browser, shows everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, col, select

from counter.board_view import BoardView, recent_calls
from counter.models import Counter, CounterAllowedService, Service
from frontyard import i18n
from frontyard.database import enum_column

JAPANESE = "ja"
#: The languages a board may rotate after Japanese: every language but Japanese itself.
ROTATING_LANGUAGES: tuple[str, ...] = tuple(
    language.code for language in i18n.LANGUAGES if language.code not in {"ja", "ja_easy"})
#: A board without settings shows English after Japanese, as before boards had settings.
DEFAULT_LANGUAGES: tuple[str, ...] = ("en",)
#: Seconds each rotating language stays on the second line: long enough to read a number and
#: a counter name from across the lobby, short enough that everyone's language comes round.
ROTATE_SECONDS = 8


class BoardScope(StrEnum):
    """Which calls a board shows."""

    ALL = "all"
    SERVICES = "services"  # the calls of some services
    ZONE = "zone"  # the calls to the counters of one floor or zone


class BoardSetting(SQLModel, table=True):
    """The settings of one call board (a device of kind "board"); no row: it shows everything
    in Japanese and English (or the `?lang=` of its address)."""

    __tablename__ = "board_setting"

    device_id: int = Field(foreign_key="device.id", primary_key=True)
    scope: BoardScope = Field(default=BoardScope.ALL, sa_column=enum_column(BoardScope))
    #: The zone whose counters' calls it shows (scope "zone"), as the counters spell it.
    zone: str = Field(default="", max_length=64)
    #: The languages after Japanese, in the order they take turns.
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class BoardService(SQLModel, table=True):
    """A service whose calls a board shows (scope "services")."""

    __tablename__ = "board_service"

    device_id: int = Field(foreign_key="device.id", primary_key=True)
    service_id: int = Field(foreign_key="service.id", primary_key=True)


@dataclass(frozen=True)
class BoardShows:
    """Which calls and waiting lines one board shows (hashable: boards that show the same
    share one rendering)."""

    scope: BoardScope = BoardScope.ALL
    service_ids: frozenset[int] = frozenset()  # scope "services": the chosen services
    zone: str = ""  # scope "zone"
    #: Whose waiting line is listed; None: every service. A zone board lists the services its
    #: counters may serve.
    waiting_ids: frozenset[int] | None = None

    def shows_call(self, service_id: int | None, counter: Counter | None) -> bool:
        """Whether a call of this service to this counter belongs on the board."""
        if self.scope == BoardScope.SERVICES:
            return service_id in self.service_ids
        if self.scope == BoardScope.ZONE:
            return counter is not None and counter.zone == self.zone
        return True

    def shows_waiting(self, service_id: int | None) -> bool:
        """Whether the board lists how many wait for this service."""
        return self.waiting_ids is None or service_id in self.waiting_ids


EVERYTHING = BoardShows()


@dataclass(frozen=True)
class BoardConfig:
    """What one board shows and in which languages (after Japanese, in rotation order)."""

    shows: BoardShows = EVERYTHING
    languages: tuple[str, ...] = DEFAULT_LANGUAGES


#: A board without settings: every call, in Japanese and English.
DEFAULT_BOARD = BoardConfig()

def languages_from_query(value: str | None) -> tuple[str, ...]:
    """The languages a `?lang=` asks for: one code, or several separated by commas.

    Unknown codes are skipped; nothing usable means English; `?lang=ja` alone means a board in
    Japanese only (as before)."""
    codes = [code.strip() for code in (value or "").split(",") if code.strip()]
    chosen = tuple(dict.fromkeys(code for code in codes if code in ROTATING_LANGUAGES))
    if chosen:
        return chosen
    if codes and all(code in {"ja", "ja_easy"} for code in codes):
        return ()
    return DEFAULT_LANGUAGES


def zone_services(session: Session, office_id: int, zone: str) -> frozenset[int] | None:
    """The services the counters of a zone may serve; None when one of them may serve every
    service (a counter without a list)."""
    counter_ids = list(session.exec(select(Counter.id).where(Counter.office_id == office_id,
                                                             Counter.zone == zone)))
    allowed: dict[int, set[int]] = {counter_id: set() for counter_id in counter_ids}  # type: ignore[misc]
    for link in session.exec(select(CounterAllowedService).where(
            col(CounterAllowedService.counter_id).in_(counter_ids))):
        allowed[link.counter_id].add(link.service_id)
    if any(not services for services in allowed.values()):
        return None
    return frozenset(service_id for services in allowed.values() for service_id in services)


def setting_of(session: Session, device_id: int) -> BoardSetting | None:
    """A board's settings row, if it has one."""
    return session.get(BoardSetting, device_id)


def service_ids_of(session: Session, device_id: int) -> list[int]:
    """The ids of the services a board is limited to (scope "services")."""
    return sorted(session.exec(select(BoardService.service_id)
                               .where(BoardService.device_id == device_id)))


def board_config(session: Session, device_id: int, office_id: int) -> BoardConfig | None:
    """A paired board's settings, read now; None when it has none (it shows everything)."""
    setting = setting_of(session, device_id)
    if setting is None:
        return None
    languages = tuple(code for code in setting.languages if code in ROTATING_LANGUAGES)
    if setting.scope == BoardScope.SERVICES:
        chosen = frozenset(service_ids_of(session, device_id))
        shows = BoardShows(BoardScope.SERVICES, service_ids=chosen, waiting_ids=chosen)
    elif setting.scope == BoardScope.ZONE:
        shows = BoardShows(BoardScope.ZONE, zone=setting.zone,
                           waiting_ids=zone_services(session, office_id, setting.zone))
    else:
        shows = EVERYTHING
    return BoardConfig(shows, languages or DEFAULT_LANGUAGES)


def replace_settings(session: Session, device_id: int, scope: BoardScope,
                     service_ids: Iterable[int], zone: str, languages: Sequence[str]) -> None:
    """Store a board's settings (checked by the caller), replacing what it had; flushes."""
    setting = setting_of(session, device_id) or BoardSetting(device_id=device_id)
    setting.scope, setting.zone, setting.languages = scope, zone, list(languages)
    session.add(setting)
    for link in session.exec(select(BoardService).where(BoardService.device_id == device_id)):
        session.delete(link)
    session.flush()
    session.add_all(BoardService(device_id=device_id, service_id=service_id)
                    for service_id in sorted(set(service_ids)))
    session.flush()


def clear_settings(session: Session, device_id: int) -> None:
    """Forget a board's settings: it shows everything again; flushes."""
    for link in session.exec(select(BoardService).where(BoardService.device_id == device_id)):
        session.delete(link)
    setting = setting_of(session, device_id)
    if setting is not None:
        session.delete(setting)
    session.flush()


def office_zones(session: Session, office_id: int) -> list[str]:
    """The zones the office's counters are in, sorted (counters without one left out)."""
    return sorted({zone for zone in session.exec(
        select(Counter.zone).where(Counter.office_id == office_id)) if zone})


def service_codes(session: Session, service_ids: Iterable[int]) -> dict[int, str]:
    """Service codes by id."""
    ids = list(service_ids)
    return {service.id: service.code for service in session.exec(  # type: ignore[misc]
        select(Service).where(col(Service.id).in_(ids)))}


def for_board(view: BoardView, shows: BoardShows) -> BoardView:
    """The office's board view narrowed to what one board shows (the same view for a board
    that shows everything)."""
    if shows == EVERYTHING:
        return view
    calling = [call for call in view.calling
               if shows.shows_call(call.service_id, view.counters.get(call.counter_id))]
    records = [record for record in view.records
               if shows.shows_call(record.service_id, record.counter)]
    return replace(view, calling=calling, records=records,
                   recent=recent_calls(records, calling),
                   to_speak=[record for record in view.to_speak
                             if shows.shows_call(record.service_id, record.counter)],
                   services=[service for service in view.services
                             if shows.shows_waiting(service.id)])

