"""Importing past events from another ticket system (CSV), so analytics start with a history.

The file is checked whole before anything is written: every wrong row is reported with its
line number and, if there is any, nothing of the file is imported. Valid files become visits,
tasks and events in the caller's transaction, and the events reach the rollups through
`apply_events`, the same path the queue engine's events take. The schema is in
docs/analytics.md ("Importing events"); `analytics.exports.events_table` writes the same
columns, so an export imports back.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from analytics.rollups import Zone, apply_events, zone_of
from analytics.timeline import COUNTER_KINDS
from counter.models import (
    Counter,
    Event,
    EventKind,
    Office,
    Service,
    Task,
    TaskState,
    Visit,
)
from frontyard.auth import User
from frontyard.errors import ValidationFailed
from frontyard.i18n import gettext as _

#: The columns of an import file, in the order exports write them.
COLUMNS = ("visit", "ticket", "office", "service", "step", "event", "timestamp", "counter",
           "task", "staff")
REQUIRED_COLUMNS = ("office", "event", "timestamp")
#: Several services of a counter opening are separated by this character.
SERVICE_SEPARATOR = ";"
MAX_BYTES = 50 * 1024 * 1024
#: Reporting stops after this many problems (a wrong export format fails on every line).
MAX_PROBLEMS = 200
_LENGTHS = {"visit": 64, "ticket": 16, "step": 64, "task": 64}
_VISIT_KINDS = frozenset({EventKind.ISSUED, EventKind.VISIT_CLOSED})


@dataclass(frozen=True)
class Problem:
    """One wrong row (line 1 is the header)."""

    line: int
    message: str


class ImportRejected(ValidationFailed):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(_("The file was not imported: %(count)d problem(s) found.")
                         % {"count": len(problems)})
        self.problems = problems


@dataclass(frozen=True)
class ImportResult:
    """What an import added."""

    events: int
    visits: int
    first: datetime
    last: datetime


@dataclass
class _Row:
    """One checked row, with the ids it refers to."""

    line: int
    kind: EventKind
    at: datetime
    office_id: int
    visit: str | None
    ticket: str | None
    service_ids: list[int]
    step: str | None
    counter_id: int | None
    task: str | None
    staff_id: int | None


@dataclass
class _Catalog:
    """Offices, services, counters and staff of the database, by the codes files use."""

    offices: dict[str, int]
    services: dict[tuple[int, str], int]
    counters: dict[tuple[int, str], int]
    staff: dict[str, int]
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session) -> _Catalog:
        """Read the codes once."""
        return cls(
            {office.code: office.id for office in session.exec(select(Office))},  # type: ignore[misc]
            {(s.office_id, s.code): s.id for s in session.exec(select(Service))},  # type: ignore[misc]
            {(c.office_id, c.number): c.id for c in session.exec(select(Counter))},  # type: ignore[misc]
            {u.username: u.id for u in session.exec(select(User))},  # type: ignore[misc]
        )


def read_rows(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row of a UTF-8 CSV (a BOM is allowed); the header is
    checked first."""
    if len(data) > MAX_BYTES:
        raise ImportRejected([Problem(1, _("The file is larger than %(size)d MB.")
                                      % {"size": MAX_BYTES // 1024 // 1024})])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ImportRejected([Problem(line, _("The file is not UTF-8 text."))]) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise ImportRejected([Problem(1, _(
            "The header must name the columns %(columns)s (required: %(required)s), each once; "
            "missing: %(missing)s; unknown: %(unknown)s.") % {
            "columns": ", ".join(COLUMNS), "required": ", ".join(REQUIRED_COLUMNS),
            "missing": ", ".join(missing) or "–", "unknown": ", ".join(unknown) or "–"})])
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(header):
            yield reader.line_num, {"": str(len(values)), "_expected": str(len(header))}
            continue
        yield reader.line_num, {name: value.strip() for name, value in zip(header, values,
                                                                             strict=True)}


def check_rows(rows: Iterable[tuple[int, dict[str, str]]], catalog: _Catalog) -> list[_Row]:
    """Check every row against the schema and the database; problems go to the catalog."""
    checked = []
    for line, row in rows:
        if len(catalog.problems) >= MAX_PROBLEMS:
            break
        if "_expected" in row:
            catalog.problems.append(Problem(line, _(
                "This row has %(found)s fields; the header has %(expected)s.") % {
                "found": row[""], "expected": row["_expected"]}))
            continue
        result = _check_row(line, row, catalog)
        if result is not None:
            checked.append(result)
    return checked


def _check_row(line: int, row: dict[str, str], catalog: _Catalog) -> _Row | None:
    """One row, or None with its problems recorded."""
    problems: list[str] = []
    value = {name: row.get(name, "") or "" for name in COLUMNS}
    for name, limit in _LENGTHS.items():
        if len(value[name]) > limit:
            problems.append(_("%(column)s is longer than %(limit)d characters.")
                            % {"column": name, "limit": limit})
    kind = _kind(value["event"], problems)
    at = _timestamp(value["timestamp"], problems)
    office_id = catalog.offices.get(value["office"])
    if office_id is None:
        problems.append(_("Unknown office %(code)r.") % {"code": value["office"]})
    service_ids = _services(value["service"], kind, office_id, catalog, problems)
    counter_id = _lookup(catalog.counters, office_id, value["counter"],
                         _("Unknown counter %(code)r in this office."), problems)
    staff_id = catalog.staff.get(value["staff"]) if value["staff"] else None
    if value["staff"] and staff_id is None:
        problems.append(_("Unknown staff account %(code)r.") % {"code": value["staff"]})
    if kind is not None:
        problems += _required(kind, value)
    for problem in problems:
        catalog.problems.append(Problem(line, problem))
    if problems or kind is None or at is None or office_id is None:
        return None
    return _Row(line, kind, at, office_id, value["visit"] or None, value["ticket"] or None,
                service_ids, value["step"] or None, counter_id, value["task"] or None,
                staff_id)


def _kind(text: str, problems: list[str]) -> EventKind | None:
    """The event type, or None with a problem."""
    try:
        return EventKind(text)
    except ValueError:
        problems.append(_("Unknown event type %(kind)r; use one of %(kinds)s.") % {
            "kind": text, "kinds": ", ".join(kind.value for kind in EventKind)})
        return None


def _timestamp(text: str, problems: list[str]) -> datetime | None:
    """An ISO 8601 timestamp with its UTC offset, or None with a problem."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        problems.append(_("The timestamp %(value)r is not ISO 8601 with an offset, e.g. "
                          "2026-04-06T09:00:00+09:00.") % {"value": text})
        return None
    return at


def _services(text: str, kind: EventKind | None, office_id: int | None, catalog: _Catalog,
              problems: list[str]) -> list[int]:
    """The row's service ids: one, or several for a counter opening."""
    codes = [code.strip() for code in text.split(SERVICE_SEPARATOR) if code.strip()]
    if len(codes) > 1 and kind not in (EventKind.COUNTER_OPENED, EventKind.COUNTER_SERVICES):
        problems.append(_("Only a counter opening names several services."))
    found = []
    for code in codes:
        service_id = _lookup(catalog.services, office_id, code,
                             _("Unknown service %(code)r in this office."), problems)
        if service_id is not None:
            found.append(service_id)
    return found


def _lookup(table: dict[tuple[int, str], int], office_id: int | None, code: str,
            message: str, problems: list[str]) -> int | None:
    """An id by office and code; an unknown code is a problem (an unknown office was one)."""
    if not code or office_id is None:
        return None
    found = table.get((office_id, code))
    if found is None:
        problems.append(message % {"code": code})
    return found


def _required(kind: EventKind, value: dict[str, str]) -> list[str]:
    """What an event of this type cannot do without."""
    needed = []
    if kind in COUNTER_KINDS:
        needed = ["counter"]
    elif kind in _VISIT_KINDS:
        needed = ["visit", "ticket"]
    else:
        needed = ["visit", "ticket", "service"]
    return [_("%(column)s is required for %(kind)s events.") % {"column": name,
                                                               "kind": kind.value}
            for name in needed if not value[name]]


def _check_visits(rows: list[_Row], session: Session, tz: ZoneInfo,
                  problems: list[Problem]) -> dict[tuple[int, str], list[_Row]]:
    """Rows per visit; one ticket per visit, and no visit that is in the database already."""
    visits: dict[tuple[int, str], list[_Row]] = defaultdict(list)
    for row in rows:
        if row.visit is not None:
            visits[(row.office_id, row.visit)].append(row)
    taken: dict[tuple[int, str, object], int] = {}
    for (office_id, visit), visit_rows in visits.items():
        first = visit_rows[0]
        for row in visit_rows[1:]:
            if row.ticket != first.ticket:
                problems.append(Problem(row.line, _(
                    "Visit %(visit)s has the ticket %(ticket)s on line %(line)d.") % {
                    "visit": visit, "ticket": first.ticket, "line": first.line}))
        issued = _issued_at(visit_rows)
        key = (office_id, first.ticket or "", issued.astimezone(tz).date())
        if key in taken:
            problems.append(Problem(first.line, _(
                "The ticket %(ticket)s of %(day)s is used by another visit on line %(line)d.")
                % {"ticket": key[1], "day": key[2], "line": taken[key]}))
        taken[key] = first.line
        exists = session.exec(select(Visit.id).where(
            Visit.office_id == office_id, Visit.ticket_number == key[1],
            Visit.ticket_day == key[2])).first()
        if exists is not None:
            problems.append(Problem(first.line, _(
                "The ticket %(ticket)s of %(day)s is in the database already (imported "
                "before?).") % {"ticket": key[1], "day": key[2]}))
    return visits


def _issued_at(rows: list[_Row]) -> datetime:
    """When the visit's ticket was issued: its `issued` event, else its earliest event."""
    issued = [row.at for row in rows if row.kind is EventKind.ISSUED]
    return min(issued or [row.at for row in rows])


def import_events(session: Session, data: bytes, tz: Zone) -> ImportResult:
    """Check the whole file, then write its visits, tasks and events and update the rollups,
    all in the caller's transaction. Raises ImportRejected listing every problem."""
    zone = zone_of(tz)
    catalog = _Catalog.load(session)
    rows = check_rows(read_rows(data), catalog)
    problems = catalog.problems
    visits = _check_visits(rows, session, zone, problems)
    if problems:
        raise ImportRejected(sorted(problems, key=lambda problem: problem.line))
    if not rows:
        raise ImportRejected([Problem(1, _("The file has no events."))])
    events = _write(session, rows, visits, zone)
    apply_events(session, events, zone)
    return ImportResult(len(events), len(visits), min(row.at for row in rows),
                        max(row.at for row in rows))


def _write(session: Session, rows: list[_Row], visits: dict[tuple[int, str], list[_Row]],
           tz: ZoneInfo) -> list[Event]:
    """Visits, tasks and events for checked rows (nothing is flushed half-way wrong)."""
    visit_ids, task_ids = {}, {}
    for key, visit_rows in visits.items():
        visit_ids[key], tasks = _visit(session, key[0], visit_rows, tz)
        task_ids.update({(key, task): task_id for task, task_id in tasks.items()})
    events = []
    for row in rows:
        visit_key = (row.office_id, row.visit) if row.visit is not None else None
        data: dict[str, Any] = {"imported": True}
        if row.kind in (EventKind.COUNTER_OPENED, EventKind.COUNTER_SERVICES):
            data["service_ids"] = row.service_ids
        service_id = row.service_ids[0] if row.service_ids else None
        events.append(Event(
            at=row.at, kind=row.kind, office_id=row.office_id,
            visit_id=visit_ids.get(visit_key) if visit_key else None,
            task_id=task_ids.get((visit_key, _task_key(row))) if visit_key else None,
            service_id=None if row.kind in COUNTER_KINDS else service_id, step=row.step,
            counter_id=row.counter_id, staff_user_id=row.staff_id, data=data))
    session.add_all(events)
    session.flush()
    return events


def _task_key(row: _Row) -> str | None:
    """Which task of its visit a row is about: its `task` column, else one task per service."""
    if row.kind in _VISIT_KINDS or row.kind in COUNTER_KINDS:
        return None
    return row.task or f"service:{row.service_ids[0]}"


def _visit(session: Session, office_id: int, rows: list[_Row],
           tz: ZoneInfo) -> tuple[int, dict[str, int]]:
    """The Visit row and its tasks (finished history: done or cancelled, never in a queue)."""
    ordered = sorted(rows, key=lambda row: (row.at, row.line))
    issued = _issued_at(rows)
    closed = [row.at for row in ordered if row.kind is EventKind.VISIT_CLOSED]
    visit = Visit(office_id=office_id, ticket_number=rows[0].ticket or "", ticket_day=issued
                  .astimezone(tz).date(), status_token=secrets.token_urlsafe(32),
                  issued_at=issued, closed_at=closed[-1] if closed else ordered[-1].at)
    session.add(visit)
    session.flush()
    by_task: dict[str, list[_Row]] = defaultdict(list)
    for row in ordered:
        key = _task_key(row)
        if key is not None:
            by_task[key].append(row)
    tasks = {}
    for position, (key, task_rows) in enumerate(by_task.items()):
        done = [row.at for row in task_rows if row.kind is EventKind.DONE]
        task = Task(visit_id=visit.id, service_id=task_rows[-1].service_ids[0],  # type: ignore[arg-type]
                    position=position, state=TaskState.DONE if done else TaskState.CANCELLED,
                    done_at=done[-1] if done else None)
        session.add(task)
        session.flush()
        tasks[key] = task.id
    return visit.id, tasks  # type: ignore[return-value]
