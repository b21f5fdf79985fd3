"""Importing past events from another ticket system (CSV), so analytics start with a history.

The file is read twice, one line at a time. The first pass checks every row: each wrong row
is reported with its line number and, if there is any, nothing of the file is imported. The
second writes, in the caller's transaction, each visit as soon as its last row has been read
(its rows in a causal order within each instant, repeated rows dropped and reported:
`analytics.import_order`), in batches of plain inserts, and adds the visits' facts to the
rollups as it goes; counters' events, few, are written first and their windows replayed as
`apply_events` does for the queue engine's (`event_deltas`); all the rollup changes are
written once, at the end. Memory grows with the number of visits, not rows.
The schema is in docs/analytics.md ("Importing events"); `analytics.exports` writes the same
columns, so an export imports back.
"""

from __future__ import annotations

import io
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, BinaryIO, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, tuple_
from sqlmodel import Session

from analytics.bulk_insert import BulkInsert
from analytics.import_order import counter_order, drop_repeats, is_counter_row, visit_order
from analytics.import_rows import (
    COLUMNS,
    MAX_BYTES,
    MAX_PROBLEMS,
    Catalog,
    ImportRejected,
    Problem,
    Row,
    check_rows,
    read_rows,
    task_key,
)
from analytics.rollups import (
    Deltas,
    Zone,
    check_timezone,
    event_deltas,
    fact_deltas,
    with_months,
    write_deltas,
    zone_of,
)
from analytics.timeline import COUNTER_KINDS, visit_facts
from counter.models import Event, EventKind, Task, TaskState, Visit, new_public_id
from frontyard.i18n import gettext as _

__all__ = ["COLUMNS", "MAX_BYTES", "ImportRejected", "ImportResult", "Problem", "import_events"]
#: Visits written per batch of inserts.
BATCH_VISITS = 1000


@dataclass(frozen=True)
class ImportResult:
    """What an import added, and the repeated rows it left out."""

    events: int
    visits: int
    first: datetime
    last: datetime
    repeats: int = 0
    #: The first repeated rows: (line, the line it repeats).
    repeated: list[Problem] = field(default_factory=list)


@dataclass(slots=True)  # one per visit of the file, kept to the end: small
class _Visit:
    """What the first pass learns about one visit of the file."""

    ticket: str | None
    line: int
    first_at: datetime
    issued_at: datetime | None = None
    rows: int = 0
    id: int | None = None

    def issued(self) -> datetime:
        """When its ticket was issued: its `issued` event, else its earliest event."""
        return self.issued_at or self.first_at


class _Logged(NamedTuple):
    """An event as the replay reads it, before it is in the database."""

    id: int
    at: datetime
    kind: EventKind
    office_id: int
    visit_id: int | None
    task_id: int | None
    service_id: int | None
    step: str | None
    counter_id: int | None
    staff_user_id: int | None
    data: dict[str, Any]


def import_events(session: Session, data: bytes | BinaryIO, tz: Zone) -> ImportResult:
    """Check the whole file, then write its visits, tasks and events and update the rollups,
    all in the caller's transaction. Raises ImportRejected listing every problem."""
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    zone = zone_of(tz)
    catalog = Catalog.load(session)
    counters: dict[int, list[Row]] = defaultdict(list)
    visits, span = _survey(check_rows(read_rows(stream), catalog), catalog.problems, counters)
    _check_tickets(session, visits, zone, catalog.problems)
    if catalog.problems:
        raise ImportRejected(sorted(catalog.problems, key=lambda problem: problem.line)
                             [:MAX_PROBLEMS])
    if span is None:
        raise ImportRejected([Problem(1, _("The file has no events."))])
    check_timezone(session, zone, claim=True)
    stream.seek(0)
    writer = _Writer(session, zone)
    writer.add_counters(counters)
    for visit_rows in _complete_visits(check_rows(read_rows(stream), Catalog.load(session)),
                                       visits):
        writer.add_visit(visits[(visit_rows[0].office_id, visit_rows[0].visit or "")],
                         visit_rows)
    writer.finish(visits)
    return ImportResult(writer.events, len(visits), span[0], span[1], len(writer.repeats),
                        [Problem(line, _("This row repeats line %(line)d; it was counted once.")
                                 % {"line": first}) for line, first in writer.repeats
                         [:MAX_PROBLEMS]])


def _survey(rows: Iterator[Row], problems: list[Problem], counters: dict[int, list[Row]]
            ) -> tuple[dict[tuple[int, str], _Visit], tuple[datetime, datetime] | None]:
    """The first pass: each visit's ticket, issue time and row count, the file's time span;
    counter rows (few) are set aside."""
    visits: dict[tuple[int, str], _Visit] = {}
    first = last = None
    for row in rows:
        first = row.at if first is None or row.at < first else first
        last = row.at if last is None or row.at > last else last
        if row.visit is None or is_counter_row(row):
            if row.counter_id is not None:
                counters[row.counter_id].append(row)
            continue
        visit = visits.get((row.office_id, row.visit))
        if visit is None:
            visit = visits[(row.office_id, row.visit)] = _Visit(row.ticket, row.line, row.at)
        elif row.ticket != visit.ticket:
            problems.append(Problem(row.line, _(
                "Visit %(visit)s has the ticket %(ticket)s on line %(line)d.") % {
                "visit": row.visit, "ticket": visit.ticket, "line": visit.line}))
        visit.first_at = min(visit.first_at, row.at)
        if row.kind is EventKind.ISSUED:
            visit.issued_at = row.at if visit.issued_at is None else min(visit.issued_at,
                                                                         row.at)
        visit.rows += 1
    return visits, None if first is None or last is None else (first, last)


def _check_tickets(session: Session, visits: dict[tuple[int, str], _Visit], tz: ZoneInfo,
                   problems: list[Problem]) -> None:
    """One visit per ticket and day, and none that is in the database already."""
    taken: dict[tuple[int, str, date], int] = {}
    for (office_id, _code), visit in visits.items():
        key = (office_id, visit.ticket or "", visit.issued().astimezone(tz).date())
        if key in taken:
            problems.append(Problem(visit.line, _(
                "The ticket %(ticket)s of %(day)s is used by another visit on line %(line)d.")
                % {"ticket": key[1], "day": key[2], "line": taken[key]}))
        else:
            taken[key] = visit.line
    keys = list(taken)
    columns = tuple_(Visit.office_id, Visit.ticket_number, Visit.ticket_day)  # type: ignore[arg-type]
    for start in range(0, len(keys), 500):
        for found in session.execute(select(Visit.office_id, Visit.ticket_number,
                                            Visit.ticket_day).where(
                columns.in_(keys[start:start + 500]))):
            key = (found[0], found[1], found[2])
            problems.append(Problem(taken[key], _(
                "The ticket %(ticket)s of %(day)s is in the database already (imported "
                "before?).") % {"ticket": key[1], "day": key[2]}))


def _complete_visits(rows: Iterator[Row], visits: dict[tuple[int, str], _Visit]
                     ) -> Iterator[list[Row]]:
    """The second pass: each visit's rows once its last one is read (a file in time order
    keeps only the visits in progress in memory); counter rows were written already."""
    waiting: dict[tuple[int, str], list[Row]] = defaultdict(list)
    for row in rows:
        if row.visit is None or is_counter_row(row):
            continue
        key = (row.office_id, row.visit)
        waiting[key].append(row)
        if len(waiting[key]) == visits[key].rows:
            yield waiting.pop(key)


class _Writer:
    """Writes visits in batches of plain inserts and collects their rollup changes."""

    def __init__(self, session: Session, zone: ZoneInfo) -> None:
        """An empty batch."""
        self.session, self.zone = session, zone
        self.batch: list[tuple[_Visit, list[Row]]] = []
        self.deltas: Deltas = defaultdict(Counter)
        self.events = 0
        self.repeats: list[tuple[int, int]] = []
        self.inserts: _Inserts | None = None
        #: Counter events that name a visit, with the visit's key.
        self.named: list[tuple[Event, tuple[int, str]]] = []

    def add_visit(self, visit: _Visit, rows: list[Row]) -> None:
        """Queue one visit's rows; write the batch when it is full."""
        kept, repeats = drop_repeats(rows)
        self.repeats += repeats
        self.batch.append((visit, visit_order(kept)))
        if len(self.batch) >= BATCH_VISITS:
            self.flush()

    def flush(self) -> None:
        """Insert the batch's visits, tasks and events; count their facts."""
        if not self.batch:
            return
        if self.inserts is None:
            self.inserts = _Inserts(self.session.connection())
        inserts = self.inserts
        # Ids come back matched by a unique column, not by position: SQLite does not keep it.
        values = [_visit_values(visit, rows, self.zone) for visit, rows in self.batch]
        visit_ids = dict(inserts.visits.insert_returning(
            [inserts.visits.row(visit_row) for visit_row in values], "status_token", "id"))
        tasks: dict[tuple[int, int], tuple[str, dict[str, Any]]] = {}
        for (visit, rows), visit_row in zip(self.batch, values, strict=True):
            visit.id = visit_ids[visit_row["status_token"]]
            tasks |= _task_values(visit.id, rows)
        task_ids = {(visit_id, position): task_id for task_id, visit_id, position in
                    inserts.tasks.insert_returning([inserts.tasks.row(task) for _key, task in
                                                    tasks.values()], "id", "visit_id",
                                                   "position")}
        by_key = {(visit_id, key): task_ids[(visit_id, position)]
                  for (visit_id, position), (key, _task) in tasks.items()}
        events: list[tuple[Any, ...]] = []
        for visit, rows in self.batch:
            logged = [_logged(index, row, visit.id, by_key.get((visit.id, task_key(row))))
                      for index, row in enumerate(rows)]
            events += map(inserts.events.values, logged)
            fact_deltas(visit_facts(logged), self.zone, 1, self.deltas)
        inserts.events.insert(events)
        self.events += len(events)
        self.batch.clear()

    def add_counters(self, counters: dict[int, list[Row]]) -> None:
        """Write the counters' events first (ORM objects: `event_deltas` replays their windows).
        Their windows are read through the office's events by time, and before the visits'
        events are written those are only the counters' own (a year's window read after the
        visits' took 7 s); the visits some of them name are filled in by `finish`."""
        written = []
        for counter_id, rows in sorted(counters.items()):
            kept, repeats = drop_repeats(rows)
            self.repeats += repeats
            for row in counter_order(kept, _open_before(self.session, counter_id, kept)):
                event = Event(**_logged(0, row, None, None)._asdict() | {"id": None})
                written.append(event)
                if row.visit:
                    self.named.append((event, (row.office_id, row.visit)))
        self.session.add_all(written)
        self.session.flush()
        # Their rollup changes are written with the visits' (`finish`): the same rows, once.
        event_deltas(self.session, written, self.zone, into=self.deltas)
        self.events += len(written)

    def finish(self, visits: dict[tuple[int, str], _Visit]) -> None:
        """Write the last batch, the visits the counters' events name, and the visits' rollup
        changes."""
        self.flush()
        for event, key in self.named:
            visit = visits.get(key)
            event.visit_id = visit.id if visit else None
        self.session.flush()
        write_deltas(self.session, with_months(self.deltas))
        self.repeats.sort()


class _EventInsert(BulkInsert):
    """The events of a batch of visits, as driver values."""

    def __init__(self, connection: Connection) -> None:
        """The columns of `_Logged` but the id; the values that repeat, processed once."""
        super().__init__(connection, Event.__table__, _Logged._fields[1:])  # type: ignore[attr-defined]
        self.at = _timestamps(self.processor("at"), connection.dialect.name)
        kind = self.processor("kind")
        self.kinds = {member: kind(member) for member in EventKind}
        self.data = self.processor("data")
        self.imported = self.data(_IMPORTED)

    def values(self, event: _Logged) -> tuple[Any, ...]:
        """One event's row."""
        return (self.at(event.at), self.kinds[event.kind], *event[3:10],
                self.imported if event.data == _IMPORTED else self.data(event.data))


def _sqlite_timestamp(value: datetime) -> str:
    """A timestamp as SQLite's DATETIME column stores it, in UTC, formatted by C code."""
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _timestamps(process: Callable[[datetime], Any], dialect: str) -> Callable[[datetime], Any]:
    """The timestamp column's processor; on SQLite a faster one, if it gives the same text
    (checked here: a change of SQLAlchemy's format falls back to its own processor)."""
    samples = [datetime(2025, 1, 6, 9, 0, 5, tzinfo=ZoneInfo("Asia/Tokyo")),
               datetime(2025, 12, 31, 23, 59, 59, 123456, tzinfo=UTC)]
    if dialect == "sqlite" and all(_sqlite_timestamp(at) == process(at) for at in samples):
        return _sqlite_timestamp
    return process


class _Inserts:
    """The statements of the batches (every text in them was checked for NUL on reading)."""

    def __init__(self, connection: Connection) -> None:
        """Each compiled once."""
        self.visits = BulkInsert(connection, Visit.__table__, _VISIT_COLUMNS)  # type: ignore[attr-defined]
        self.tasks = BulkInsert(connection, Task.__table__, _TASK_COLUMNS)  # type: ignore[attr-defined]
        self.events = _EventInsert(connection)


def _open_before(session: Session, counter_id: int, rows: list[Row]) -> bool | None:
    """Whether the counter was open just before the earliest of these rows (None: no event)."""
    earliest = min(row.at for row in rows)
    kind = session.execute(select(Event.kind).where(
        Event.counter_id == counter_id, Event.kind.in_(COUNTER_KINDS),  # type: ignore[attr-defined]
        Event.at < earliest).order_by(Event.at.desc(), Event.id.desc()).limit(1)  # type: ignore[union-attr]
    ).scalar_one_or_none()
    return None if kind is None else kind is not EventKind.COUNTER_CLOSED


#: The data of every imported event (a counter's opening adds its services).
_IMPORTED = {"imported": True}


def _logged(index: int, row: Row, visit_id: int | None, task_id: int | None) -> _Logged:
    """The event a row becomes."""
    data: dict[str, Any] = dict(_IMPORTED)
    if row.kind in (EventKind.COUNTER_OPENED, EventKind.COUNTER_SERVICES):
        data["service_ids"] = list(row.service_ids)
    service_id = row.service_ids[0] if row.service_ids and row.kind not in COUNTER_KINDS \
        else None
    return _Logged(index, row.at, row.kind, row.office_id, visit_id, task_id, service_id,
                   row.step, row.counter_id, row.staff_id, data)


_VISIT_COLUMNS = ("office_id", "ticket_number", "ticket_day", "status_token", "public_id",
                  "locale", "priority", "issued_at", "closed_at", "issued_by_device_id")
_TASK_COLUMNS = ("visit_id", "service_id", "position", "procedure_code", "state", "step_index",
                 "call_count", "done_at")


def _visit_values(visit: _Visit, rows: list[Row], tz: ZoneInfo) -> dict[str, Any]:
    """The Visit row (finished history: closed, never in a queue)."""
    closed = [row.at for row in rows if row.kind is EventKind.VISIT_CLOSED]
    issued = visit.issued()
    return {"office_id": rows[0].office_id, "ticket_number": visit.ticket or "",
            "ticket_day": issued.astimezone(tz).date(), "status_token": secrets.token_urlsafe(32),
            "public_id": new_public_id(), "locale": "ja", "priority": False, "issued_at": issued,
            "closed_at": closed[-1] if closed else max(row.at for row in rows),
            "issued_by_device_id": None}


def _task_values(visit_id: int, rows: list[Row]
                 ) -> dict[tuple[int, int], tuple[str, dict[str, Any]]]:
    """The visit's tasks by (visit, position), with their keys, in the order they appear
    (done or cancelled, never in a queue)."""
    by_task: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        key = task_key(row)
        if key is not None:
            by_task[key].append(row)
    tasks = {}
    for position, (key, task_rows) in enumerate(by_task.items()):
        done = [row.at for row in task_rows if row.kind is EventKind.DONE]
        tasks[(visit_id, position)] = (key, {
            "visit_id": visit_id, "service_id": task_rows[-1].service_ids[0],
            "position": position, "procedure_code": None,
            "state": TaskState.DONE if done else TaskState.CANCELLED, "step_index": 0,
            "call_count": 0, "done_at": done[-1] if done else None})
    return tasks
