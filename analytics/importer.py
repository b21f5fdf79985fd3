"""Importing past events from another ticket system (CSV), so analytics start with a history.

The file is read twice, one line at a time. The first pass counts each visit's rows (at the
CSV module's speed) and checks the counters' rows; the second checks every row of the visits
and writes, in a savepoint of the caller's transaction, each visit as soon as its last row has
been read (its rows in a causal order within each instant, repeated rows dropped and reported:
`analytics.import_order`), in batches of plain inserts whose ids are taken beforehand. A wrong
row anywhere — each is reported with its line number — undoes the savepoint: nothing of the
file is imported. The visits' rollup changes are computed by a worker process reading the
file beside the writes (`analytics.import_facts`), or here where a worker cannot help; the
counters' events, few, are written first and their windows replayed as `apply_events` does
(`event_deltas`); all the rollup changes are written once, at the end. Memory grows with the
number of visits, not rows.
The schema is in docs/analytics.md ("Importing events"); `analytics.exports` writes the same
columns, so an export imports back.
"""

from __future__ import annotations

import base64
import io
import os
import secrets
import shutil
import tempfile
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, bindparam, func, select
from sqlmodel import Session

from analytics.bulk_insert import BulkInsert, Inserting
from analytics.import_facts import (
    IMPORTED,
    ImportedEvent,
    Worker,
    can_start_worker,
    ordered_visit,
    visit_deltas,
    visit_events,
)
from analytics.import_order import counter_order, drop_repeats
from analytics.import_rows import (
    COLUMNS,
    MAX_BYTES,
    MAX_PROBLEMS,
    VISIT_KINDS,
    Catalog,
    ImportRejected,
    Problem,
    Row,
    Survey,
    file_size,
    read_rows,
    survey,
    visit_groups,
)
from analytics.rollups import (
    Deltas,
    Zone,
    check_timezone,
    event_deltas,
    fact_deltas,
    stored_timezone,
    with_months,
    write_deltas,
    zone_of,
)
from analytics.timeline import COUNTER_KINDS, visit_facts
from counter.models import PUBLIC_ID_BYTES, Event, EventKind, Task, TaskState, Visit
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


def import_events(session: Session, data: bytes | BinaryIO, tz: Zone) -> ImportResult:
    """Check every row of the file, write its visits, tasks and events and update the rollups,
    all in the caller's transaction (in a savepoint of it, undone if any row is wrong). Raises
    ImportRejected listing every problem."""
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    zone = zone_of(tz)
    catalog = Catalog.load(session)
    surveyed = survey(stream, catalog)
    stored = stored_timezone(session)
    # Written as it is checked, in a savepoint: a wrong row found later undoes everything.
    savepoint = session.begin_nested()
    writer: _Writer | None = None
    with ExitStack() as cleanup:
        try:
            writer = _Writer(session, zone, catalog.problems,
                             writing=not catalog.problems and stored in (None, zone.key))
            if writer.writing:
                check_timezone(session, zone, claim=True)
            writer.add_counters(surveyed.aside)
            worker = _start_worker(stream, catalog, surveyed, zone, cleanup) \
                if writer.writing else None
            writer.facts = worker is None
            stream.seek(0)
            for rows in visit_groups(read_rows(stream), catalog, surveyed.counts):
                writer.add_visit(rows)
            writer.flush()
            writer.inserting.wait()
            writer.ticket_problems()
            if catalog.problems:
                raise ImportRejected(sorted(catalog.problems, key=lambda problem: problem.line)
                                     [:MAX_PROBLEMS])
            if writer.first is None or writer.last is None:
                raise ImportRejected([Problem(1, _("The file has no events."))])
            check_timezone(session, zone)
            writer.finish(_visit_deltas(worker, stream, catalog, surveyed, zone, writer.deltas))
        except BaseException:
            if writer is not None:
                writer.inserting.wait(quiet=True)  # before the connection rolls back
            savepoint.rollback()
            raise
    savepoint.commit()
    return ImportResult(writer.events, writer.visits, writer.first, writer.last,
                        len(writer.repeats),
                        [Problem(line, _("This row repeats line %(line)d; it was counted once.")
                                 % {"line": first}) for line, first in writer.repeats
                         [:MAX_PROBLEMS]])


def _start_worker(stream: BinaryIO, catalog: Catalog, surveyed: Survey, zone: ZoneInfo,
                  cleanup: ExitStack) -> Worker | None:
    """A worker computing the visits' rollup changes from the file while this process writes,
    if it would help (a stream without a file of its own, e.g. an upload, is copied to one)."""
    if not can_start_worker(file_size(stream)):
        return None
    try:
        name = getattr(stream, "name", None)
        if isinstance(name, str) and os.path.isfile(name):
            path = Path(name)
        else:
            # Closed, and so deleted, by `cleanup` once the worker is done.
            copy = cleanup.enter_context(tempfile.NamedTemporaryFile(suffix=".csv"))  # noqa: SIM115
            shutil.copyfileobj(stream, copy)
            copy.flush()
            path = Path(copy.name)
        worker = Worker(path, catalog, surveyed.counts, zone.key)
    except OSError:  # no process or no temporary file: this process computes them
        return None
    cleanup.callback(worker.stop)
    return worker


def _visit_deltas(worker: Worker | None, stream: BinaryIO, catalog: Catalog, surveyed: Survey,
                  zone: ZoneInfo, deltas: Deltas) -> Deltas:
    """All the rollup changes, with the months': the writer's own (the counters', and the
    visits' if it computed them) and the worker's; if the worker failed, the visits' are
    computed here, from the file read once more."""
    found = worker.deltas() if worker is not None else None
    if worker is not None and found is None:
        stream.seek(0)
        visit_deltas(stream, replace(catalog, problems=[]), surveyed.counts, zone.key, deltas)
    with_months(deltas)
    for key, changes in (found or {}).items():  # the worker added its months' changes
        deltas[key].update(changes)
    return deltas


class _Writer:
    """Writes visits in batches of plain inserts, checks their tickets, and collects their
    rollup changes (unless a worker does: `facts`)."""

    def __init__(self, session: Session, zone: ZoneInfo, problems: list[Problem], *,
                 writing: bool) -> None:
        """An empty batch; with `writing` False (the file has problems already, or the zone
        is wrong), visits are only checked."""
        self.session, self.zone, self.problems, self.writing = session, zone, problems, writing
        self.facts = True
        self.batch: list[tuple[int, list[Row]]] = []
        self.deltas: Deltas = defaultdict(Counter)
        self.events = self.visits = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.repeats: list[tuple[int, int]] = []
        self.inserts: _Inserts | None = None
        #: Each (office, ticket, day): the first lines of the visits that have it.
        self.tickets: dict[tuple[int, str, date], list[int]] = {}
        #: Tickets already in the database.
        self.in_database: list[tuple[int, str, date]] = []
        #: Counter events that name a visit, with the visit's key; the ids of those visits.
        self.named: list[tuple[Event, tuple[int, str]]] = []
        self.named_ids: dict[tuple[int, str], int | None] = {}
        self.inserting = Inserting()

    def add_visit(self, rows: list[Row]) -> None:
        """Queue one visit's rows (in line order); write the batch when it is full."""
        ticket, line = rows[0].ticket, rows[0].line
        if len({row.ticket for row in rows}) > 1:
            for row in rows:
                if row.ticket != ticket:
                    self.problems.append(Problem(row.line, _(
                        "Visit %(visit)s has the ticket %(ticket)s on line %(line)d.") % {
                        "visit": row.visit, "ticket": ticket, "line": line}))
        ordered, repeats = ordered_visit(rows)
        self.repeats += repeats
        self.batch.append((line, ordered))
        if len(self.batch) >= BATCH_VISITS:
            self.flush()

    def flush(self) -> None:
        """Check the batch's tickets, insert its visits, tasks and events, count their facts."""
        self.inserting.wait()  # the connection is this thread's again
        batch, self.batch = self.batch, []
        visits = [self._visit(line, rows) for line, rows in batch]
        self._in_database([key for key, _issued, _closed in visits
                           if len(self.tickets[key]) == 1])
        if self.problems or self.in_database or any(
                len(self.tickets[visit[0]]) > 1 for visit in visits):
            self.writing = False  # the transaction will be undone: stop writing
        if not batch or not self.writing:
            return
        if self.inserts is None:
            self.inserts = _Inserts(self.session.connection())
        inserts = self.inserts
        at, kinds, imported = inserts.events.at, inserts.events.kinds, inserts.events.imported
        visit_kinds, done = VISIT_KINDS, EventKind.DONE
        visit_rows, task_rows, event_rows = [], [], []
        for (key, issued, closed), (_line, rows), token in zip(
                visits, batch, _tokens(len(batch)), strict=True):
            visit_id = inserts.visit_ids.take()
            visit_rows.append(inserts.visit_row(visit_id, key, issued, closed, token))
            # [id, service, last done] of each task (`task_key`, written out: it runs often).
            tasks: dict[str, list[Any]] = {}
            for row in rows:
                kind = row.kind
                if kind in visit_kinds:
                    task_id = None
                else:
                    service_id = row.service_ids[0]
                    task_key_ = row.task or f"service:{service_id}"
                    task = tasks.get(task_key_)
                    if task is None:
                        task = tasks[task_key_] = [inserts.task_ids.take(), service_id, None]
                    else:
                        task[1] = service_id
                    if kind is done:
                        task[2] = row.at
                    task_id = task[0]
                event_rows.append((at(row.at), kinds[kind], row.office_id, visit_id, task_id,
                                   row.service_ids[0] if row.service_ids else None, row.step,
                                   row.counter_id, row.staff_id, imported))
            task_rows += [inserts.task_row(visit_id, position, task)
                          for position, task in enumerate(tasks.values())]
            if (rows[0].office_id, rows[0].visit) in self.named_ids:
                self.named_ids[(rows[0].office_id, rows[0].visit or "")] = visit_id
            if self.facts:
                fact_deltas(visit_facts(visit_events(rows)), self.zone, 1, self.deltas)
        self.inserting.start(inserts.visits.insert, visit_rows, inserts.tasks.insert, task_rows,
                             inserts.events.insert, event_rows)
        self.events += len(event_rows)
        self.visits += len(batch)

    def _in_database(self, keys: list[tuple[int, str, date]]) -> None:
        """Note the tickets already in the database: those of the batch's days are read, one
        office at a time (a batch spans a few days; comparing each key in SQL cost more).
        Visits of this file written by earlier batches are among them, but their tickets
        appear twice in the file: `keys` holds only those seen once."""
        days: dict[int, list[date]] = defaultdict(list)
        for office_id, _ticket, day in keys:
            days[office_id].append(day)
        for office_id, office_days in days.items():
            found = {(office_id, ticket, day) for ticket, day in self.session.execute(
                _TICKETS_OF_DAYS, {"office_id": office_id, "first": min(office_days),
                                   "last": max(office_days)})}
            self.in_database += [key for key in keys if key in found]

    def _visit(self, line: int, rows: list[Row]
               ) -> tuple[tuple[int, str, date], datetime, datetime]:
        """A visit's ticket key, issue and closing times; its ticket noted with its line."""
        first, last = rows[0], rows[-1]  # most often the ticket's issue and the closing
        issued = first.at if first.kind is EventKind.ISSUED else next(
            (row.at for row in rows if row.kind is EventKind.ISSUED), first.at)
        closed = last.at if last.kind is EventKind.VISIT_CLOSED else next(
            (row.at for row in reversed(rows) if row.kind is EventKind.VISIT_CLOSED), last.at)
        key = (rows[0].office_id, rows[0].ticket or "", issued.astimezone(self.zone).date())
        self.tickets.setdefault(key, []).append(line)
        self._span(rows[0].at, rows[-1].at)
        return key, issued, closed

    def _span(self, first: datetime, last: datetime) -> None:
        """Widen the file's time span."""
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)

    def ticket_problems(self) -> None:
        """One visit per ticket and day, and none that is in the database already (the first
        visit of the file, by line, keeps a ticket; the others are reported)."""
        for key, lines in self.tickets.items():
            lines.sort()
            for line in lines[1:]:
                self.problems.append(Problem(line, _(
                    "The ticket %(ticket)s of %(day)s is used by another visit on line "
                    "%(line)d.") % {"ticket": key[1], "day": key[2], "line": lines[0]}))
        for key in self.in_database:
            self.problems.append(Problem(self.tickets[key][0], _(
                "The ticket %(ticket)s of %(day)s is in the database already (imported "
                "before?).") % {"ticket": key[1], "day": key[2]}))

    def add_counters(self, rows: list[Row]) -> None:
        """Write the counters' events first (ORM objects: `event_deltas` replays their windows).
        Their windows are read through the office's events by time, and before the visits'
        events are written those are only the counters' own (a year's window read after the
        visits' took 7 s); the visits some of them name are filled in by `finish`."""
        counters: dict[int, list[Row]] = defaultdict(list)
        for row in rows:
            self._span(row.at, row.at)
            if row.counter_id is not None:
                counters[row.counter_id].append(row)
        if not self.writing:
            return
        written = []
        for counter_id, counter_rows in sorted(counters.items()):
            kept, repeats = drop_repeats(counter_rows)
            self.repeats += repeats
            for row in counter_order(kept, _open_before(self.session, counter_id, kept)):
                event = Event(**_counter_event(row)._asdict() | {"id": None})
                written.append(event)
                if row.visit:
                    self.named.append((event, (row.office_id, row.visit)))
                    self.named_ids[(row.office_id, row.visit)] = None
        self.session.add_all(written)
        self.session.flush()
        # Their rollup changes are written with the visits' (`finish`): the same rows, once.
        event_deltas(self.session, written, self.zone, into=self.deltas)
        self.events += len(written)

    def finish(self, deltas: Deltas) -> None:
        """Fill in the visits the counters' events name; write all the rollup changes (the
        months' included)."""
        self.inserting.wait()
        for event, key in self.named:
            event.visit_id = self.named_ids.get(key)
        self.session.flush()
        write_deltas(self.session, deltas)
        self.repeats.sort()


_TICKETS_OF_DAYS = select(Visit.ticket_number, Visit.ticket_day).where(
    Visit.office_id == bindparam("office_id"), Visit.ticket_day.between(  # type: ignore[attr-defined]
        bindparam("first"), bindparam("last")))


class _EventInsert(BulkInsert):
    """The events of a batch of visits, as driver values."""

    def __init__(self, connection: Connection) -> None:
        """The columns of an event but the id; the values that repeat, processed once."""
        super().__init__(connection, Event.__table__, ImportedEvent._fields[1:])  # type: ignore[attr-defined]
        self.at = _timestamps(self.processor("at"), connection.dialect.name)
        kind = self.processor("kind")
        self.kinds = {member: kind(member) for member in EventKind}
        self.imported = self.processor("data")(IMPORTED)

    def values(self, row: Row, visit_id: int, task_id: int | None) -> tuple[Any, ...]:
        """The row of one visit's event."""
        return (self.at(row.at), self.kinds[row.kind], row.office_id, visit_id, task_id,
                row.service_ids[0] if row.service_ids else None, row.step, row.counter_id,
                row.staff_id, self.imported)


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
        self.connection = connection
        self.visits = BulkInsert(connection, Visit.__table__, _VISIT_COLUMNS)  # type: ignore[attr-defined]
        self.tasks = BulkInsert(connection, Task.__table__, _TASK_COLUMNS)  # type: ignore[attr-defined]
        self.events = _EventInsert(connection)
        self.at = _timestamps(self.visits.processor("issued_at"), connection.dialect.name)
        self.day = self.visits.processor("ticket_day")
        self.done_at = _timestamps(self.tasks.processor("done_at"), connection.dialect.name)
        state = self.tasks.processor("state")
        self.done, self.cancelled = state(TaskState.DONE), state(TaskState.CANCELLED)
        self.visit_ids = _Ids(connection, Visit.__table__)  # type: ignore[attr-defined]
        self.task_ids = _Ids(connection, Task.__table__)  # type: ignore[attr-defined]

    def visit_row(self, visit_id: int, key: tuple[int, str, date], issued: datetime,
                  closed: datetime, tokens: tuple[str, str]) -> tuple[Any, ...]:
        """A visit's row (finished history: closed, never in a queue)."""
        return (visit_id, key[0], key[1], self.day(key[2]), *tokens, "ja", False,
                self.at(issued), self.at(closed), None)

    def task_row(self, visit_id: int, position: int, task: list[Any]) -> tuple[Any, ...]:
        """A task's row from [id, service, last done]: done or cancelled, never in a queue."""
        done_at = task[2]
        return (task[0], visit_id, task[1], position, None,
                self.cancelled if done_at is None else self.done, 0, 0,
                None if done_at is None else self.done_at(done_at))


class _Ids:
    """Ids for new rows of a table, taken before they are inserted: the events refer to them,
    and no `RETURNING` needs matching back. PostgreSQL hands them out from the table's
    sequence (other writers take theirs meanwhile); SQLite's writer holds the database's only
    write lock for the whole transaction, so the ids after the largest are free."""

    def __init__(self, connection: Connection, table: Table) -> None:
        """Nothing taken yet."""
        self.connection, self.table = connection, table
        self.free: deque[int] = deque()
        self.next: int | None = None

    def take(self) -> int:
        """One id."""
        if self.connection.dialect.name == "postgresql":
            if not self.free:
                self.free.extend(self.connection.exec_driver_sql(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                    "FROM generate_series(1, %s)", (self.table.name, _IDS_AT_ONCE)).scalars())
            return self.free.popleft()
        if self.next is None:
            self.next = self.connection.execute(
                select(func.coalesce(func.max(self.table.c.id), 0))).scalar_one()
        self.next += 1
        return self.next


def _tokens(count: int) -> list[tuple[str, str]]:
    """A status token and a public id for each of `count` visits, as `secrets.token_urlsafe`
    and `new_public_id` make them, from one read of the system's randomness."""
    size = _STATUS_TOKEN_BYTES + PUBLIC_ID_BYTES
    random = secrets.token_bytes(size * count)
    encode = base64.urlsafe_b64encode
    return [(encode(random[start:start + _STATUS_TOKEN_BYTES]).rstrip(b"=").decode(),
             encode(random[start + _STATUS_TOKEN_BYTES:start + size]).rstrip(b"=").decode())
            for start in range(0, size * count, size)]


def _open_before(session: Session, counter_id: int, rows: list[Row]) -> bool | None:
    """Whether the counter was open just before the earliest of these rows (None: no event)."""
    earliest = min(row.at for row in rows)
    kind = session.execute(select(Event.kind).where(
        Event.counter_id == counter_id, Event.kind.in_(COUNTER_KINDS),  # type: ignore[attr-defined]
        Event.at < earliest).order_by(Event.at.desc(), Event.id.desc()).limit(1)  # type: ignore[union-attr]
    ).scalar_one_or_none()
    return None if kind is None else kind is not EventKind.COUNTER_CLOSED


def _counter_event(row: Row) -> ImportedEvent:
    """The event a counter's row becomes (an opening keeps its services)."""
    data: dict[str, Any] = dict(IMPORTED)
    if row.kind in (EventKind.COUNTER_OPENED, EventKind.COUNTER_SERVICES):
        data["service_ids"] = list(row.service_ids)
    return ImportedEvent(0, row.at, row.kind, row.office_id, None, None, None, row.step,
                         row.counter_id, row.staff_id, data)


#: Ids taken from a PostgreSQL sequence at once (the last ones of an import stay unused).
_IDS_AT_ONCE = 1000
#: The bytes of randomness in a visit's status token (as the kiosk's `token_urlsafe(32)`).
_STATUS_TOKEN_BYTES = 32
# Ids are given, not generated: see `_Inserts.ids`.
_VISIT_COLUMNS = ("id", "office_id", "ticket_number", "ticket_day", "status_token", "public_id",
                  "locale", "priority", "issued_at", "closed_at", "issued_by_device_id")
_TASK_COLUMNS = ("id", "visit_id", "service_id", "position", "procedure_code", "state",
                 "step_index", "call_count", "done_at")
