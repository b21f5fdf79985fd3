"""Keeping the rollup tables equal to what the event log says.

Writers call `apply_events` (or `record_event_rollups` for one event) in the transaction that
writes the events; the queue engine instead hands each event to `defer_rollups`, and the
session applies them all at once just before it commits (one replay per visit per transaction).
Either way the affected visits and counters are replayed with and without the new events and
the difference is added, so events that arrive late or out of order are still counted right.
The month tables and the office-day table receive the sum of the day rows' changes
(`with_months`), in the same statements' transaction. `rebuild_rollups` recomputes everything
from the log (after an import, or to repair).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from functools import cache
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, bindparam, delete, insert, or_, select
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from analytics.models import (
    COUNTS,
    MONTH_TABLES,
    ROLLUP_TABLES,
    bucket_column,
    bucket_of,
    counter_day,
    counter_month,
    office_day,
    rollup_settings,
    stage_day,
    stage_hour,
    stage_hour_month,
    stage_month,
)
from analytics.timeline import (
    COUNTER_KINDS,
    DURATION_KINDS,
    EventLike,
    Fact,
    FactKind,
    counter_facts,
    event_order,
    visit_facts,
)
from counter.models import Event
from frontyard.database import NUL_CHECKED, plain_rows
from frontyard.errors import Conflict
from frontyard.i18n import gettext as _

DEFAULT_TIMEZONE = "Asia/Tokyo"
Zone = str | ZoneInfo
#: (table, key) → column → delta
Deltas = dict[tuple[Table, tuple[Any, ...]], Counter[str]]

#: The key of each rollup table, in the order its rows are locked (office first).
KEYS: dict[Table, tuple[str, ...]] = {
    stage_hour: ("office_id", "service_id", "step", "local_date", "hour"),
    stage_day: ("office_id", "service_id", "step", "local_date"),
    counter_day: ("office_id", "counter_id", "staff_user_id", "service_id", "local_date"),
    stage_hour_month: ("office_id", "service_id", "step", "month", "weekday", "hour"),
    stage_month: ("office_id", "service_id", "step", "month", "weekday"),
    counter_month: ("office_id", "counter_id", "staff_user_id", "service_id", "month",
                    "weekday"),
    office_day: ("office_id", "local_date"),
}
#: What makes a date an open day: its tickets, queue entries and open time, per office.
OFFICE_DAY_VALUES = ("issued", "arrivals", "open_ms")
_COUNT_KINDS = {FactKind(name) for name in COUNTS}
_DURATION_COLUMNS = {kind: (f"{kind.value}_n", f"{kind.value}_ms") for kind in DURATION_KINDS}


def zone_of(tz: Zone) -> ZoneInfo:
    """A ZoneInfo from a name or a ZoneInfo."""
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def fact_deltas(facts: Iterable[Fact], tz: Zone, sign: int = 1,
                into: Deltas | None = None) -> Deltas:
    """How much each rollup row changes when these facts are added (sign 1) or removed (−1)."""
    zone = zone_of(tz)
    deltas: Deltas = into if into is not None else defaultdict(Counter)
    # Runs for every fact of an import: names and keys are built only where used.
    for fact in facts:
        local = fact.at.astimezone(zone)
        kind = fact.kind
        stage = (fact.office_id, fact.service_id, fact.step, local.date())
        hour_row = deltas[(stage_hour, (*stage, local.hour))]
        if kind in _COUNT_KINDS:
            hour_row[kind.value] += sign
            deltas[(stage_day, stage)][kind.value] += sign
            if kind is FactKind.DONE:
                deltas[(counter_day, _counter_key(fact, stage[3]))]["done"] += sign
        elif kind in DURATION_KINDS:
            count, total = _DURATION_COLUMNS[kind]
            value = sign * fact.value_ms
            hour_row[count] += sign
            hour_row[total] += value
            day_row = deltas[(stage_day, stage)]
            day_row[count] += sign
            day_row[total] += value
            day_row[bucket_column(kind.value, bucket_of(fact.value_ms))] += sign
            if kind is FactKind.HANDLING:
                counter_row = deltas[(counter_day, _counter_key(fact, stage[3]))]
                counter_row["handling_n"] += sign
                counter_row["handling_ms"] += value
        elif kind is FactKind.OPEN:
            value = sign * fact.value_ms
            hour_row["open_ms"] += value
            deltas[(stage_day, stage)]["open_ms"] += value
            deltas[(counter_day, _counter_key(fact, stage[3]))]["open_ms"] += value
    return deltas


def _counter_key(fact: Fact, day: date) -> tuple[Any, ...]:
    """The key of a fact's counter-day row."""
    return (fact.office_id, fact.counter_id, fact.staff_user_id, fact.service_id, day)


def with_months(deltas: Deltas) -> Deltas:
    """Add to `deltas` what the day rows' changes make of the month and office-day rows.

    A month row is the sum of its month's day rows on its weekday, and an office-day row the
    sum of the office's stage rows of that date, so the changes add up the same way."""
    for (table, key), changes in list(deltas.items()):
        month_table = MONTH_TABLES.get(table)
        if month_table is None:
            continue
        named = dict(zip(KEYS[table], key, strict=True))
        local_date: date = named["local_date"]
        named.update(month=local_date.replace(day=1), weekday=local_date.weekday())
        deltas[(month_table, tuple(named[name] for name in KEYS[month_table]))].update(changes)
        if table is stage_day:
            deltas[(office_day, (named["office_id"], local_date))].update(
                {name: changes[name] for name in OFFICE_DAY_VALUES if changes[name]})
    return deltas


def _key_columns(table: Table, key: tuple[Any, ...]) -> dict[str, Any]:
    """A row's key columns, and the weekday of a day-level row's local date."""
    named = dict(zip(KEYS[table], key, strict=True))
    if "local_date" in named:
        named["weekday"] = named["local_date"].weekday()
    return named


def write_deltas(session: Session, deltas: Deltas) -> None:
    """Add the deltas to the rollup rows (insert or increment), in key order to avoid deadlocks.

    One statement per table, run once with every row (executemany): each row carries all the
    table's value columns (zeros where nothing changed), so the statement has one shape, is
    compiled once per process, and its rows are locked in key order. `deltas` must already
    hold the month rows' changes (`with_months`). The statement goes to the driver as it is:
    SQLAlchemy's work per row (a day row has 144 values) cost an import more than the upserts."""
    connection = session.connection()
    for table in ROLLUP_TABLES:
        statement, names, processors = _driver_upsert(connection.dialect, table)
        named = list(zip(names, processors, strict=True)) if names else processors
        rows: list[Any] = []
        for key, changes in sorted((key, changes) for (owner, key), changes in deltas.items()
                                   if owner is table):
            if any(changes.values()):
                # A value column missing from `changes` (a Counter) reads 0.
                row = _key_columns(table, key)
                if names:
                    rows.append(tuple([process(row[name] if name in row else changes[name])
                                       for name, process in named]))
                else:
                    rows.append({name: process(row[name] if name in row else changes[name])
                                 for name, process in named})
        if rows:
            # The key's text (a step) was read from stored events or checked with them.
            connection.exec_driver_sql(statement, rows, execution_options={NUL_CHECKED: True})


@cache
def _value_columns(table: Table) -> list[str]:
    """The running totals of a rollup table (everything but the key and the weekday)."""
    return [column.name for column in table.c if column.name not in (*KEYS[table], "weekday")]


@cache
def _driver_upsert(dialect: Dialect, table: Table) -> tuple[str, list[str], list[Any]]:
    """`_upsert` as the driver's SQL, with the names of its positional parameters (none when
    they are named) and each value's bind processor (by name, when they are named)."""
    compiled = _upsert(dialect.name, table).compile(dialect=dialect,
                                                    column_keys=[column.name for column in table.c])
    processors = {name: bind.type._cached_bind_processor(dialect) or _same
                  for name, bind in compiled.binds.items()}
    if compiled.positiontup:
        return compiled.string, list(compiled.positiontup), [
            processors[name] for name in compiled.positiontup]
    return compiled.string, [], list(processors.items())


def _same(value: Any) -> Any:
    """A value the driver takes as it is."""
    return value


@cache
def _upsert(dialect: str, table: Table) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE SET total = total + excluded.total, for every total."""
    insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert_(table)
    return statement.on_conflict_do_update(
        index_elements=list(KEYS[table]),
        set_={column: table.c[column] + statement.excluded[column]
              for column in _value_columns(table)})


def check_timezone(session: Session, tz: Zone, *, claim: bool = False) -> None:
    """Refuse to mix time zones: rollups keep local dates and hours of one zone.

    With `claim`, an empty database adopts `tz` (done by the first writer)."""
    name = zone_of(tz).key
    if claim:
        dialect = session.get_bind().dialect.name
        upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(upsert(rollup_settings).values(id=1, timezone=name)
                        .on_conflict_do_nothing(index_elements=["id"]))
    stored = session.execute(select(rollup_settings.c.timezone)).scalar_one_or_none()
    if stored is not None and stored != name:
        raise Conflict(_("The analytics tables are kept in the time zone %(stored)s, not "
                         "%(asked)s; rebuild them to change zones.") % {"stored": stored,
                                                                         "asked": name})


def apply_events(session: Session, events: Sequence[Event], tz: Zone = DEFAULT_TIMEZONE, *,
                 zone_checked: bool = False) -> None:
    """Update the rollups for events just added to `session`, in the same transaction.

    Each event must be applied exactly once (applying it twice counts it twice). Unless the
    caller read `tz` from the rollups' own setting (`zone_checked`), the zone is checked and,
    in an empty database, claimed."""
    if not events:
        return
    session.flush()
    if not zone_checked:
        check_timezone(session, tz, claim=True)
    write_deltas(session, with_months(event_deltas(session, events, tz)))


def event_deltas(session: Session, events: Sequence[Event], tz: Zone,
                 into: Deltas | None = None) -> Deltas:
    """The day-level changes `apply_events` makes for these flushed events (added to `into`):
    a writer with more changes of its own (the import) writes them all at once."""
    new_ids = {event.id for event in events}
    if None in new_ids:
        raise ValueError("apply_events needs events that were added to the session")
    deltas: Deltas = into if into is not None else defaultdict(Counter)
    for visit_id in sorted({e.visit_id for e in events
                            if e.visit_id is not None and e.kind not in COUNTER_KINDS}):
        history = plain_rows(session, _VISIT_HISTORY, {"visit_id": visit_id}).all()
        _diff(deltas, visit_facts(history),
              visit_facts([e for e in history if e.id not in new_ids]), tz)
    by_counter: dict[tuple[int, int], list[Event]] = defaultdict(list)
    for event in events:
        if event.kind in COUNTER_KINDS and event.counter_id is not None:
            by_counter[(event.office_id, event.counter_id)].append(event)
    zone = zone_of(tz)
    for (office_id, counter_id), added in sorted(by_counter.items()):
        window = _counter_window(session, office_id, counter_id, added)
        _diff(deltas, counter_facts(window, zone),
              counter_facts([e for e in window if e.id not in new_ids], zone), tz)
    return deltas


def record_event_rollups(session: Session, event: Event, tz: Zone = DEFAULT_TIMEZONE) -> None:
    """Update the rollups for one event just added to `session`."""
    apply_events(session, [event], tz)


#: Where a session keeps the events `defer_rollups` was given, until it commits.
_PENDING = "analytics.pending_events"


def defer_rollups(session: OrmSession, event: Event) -> None:
    """Count `event` in the rollups when the session commits, in that same transaction.

    The engine writes several events per action and many actions per transaction (the demo
    history writes a day at a time); replaying each visit once at commit is far cheaper than
    once per event, and each event is still applied exactly once."""
    session.info.setdefault(_PENDING, []).append(event)


def stored_timezone(session: Session) -> str | None:
    """The time zone the rollups are kept in, or None before anything was written."""
    return plain_rows(session, _STORED_ZONE, {}).scalar_one_or_none()  # type: ignore[no-any-return]


# Prebuilt, as plain rows: both run in every queue action's commit.
_STORED_ZONE = select(rollup_settings.c.timezone)
_VISIT_HISTORY = (select(Event.__table__.c)  # type: ignore[attr-defined]
                  .where(Event.__table__.c.visit_id == bindparam("visit_id"))  # type: ignore[attr-defined]
                  .order_by(Event.__table__.c.at, Event.__table__.c.id))  # type: ignore[attr-defined]


def claim_timezone(session: Session, tz: Zone) -> bool:
    """Adopt `tz` if the rollups have no zone yet; False if they are kept in another one."""
    check = stored_timezone(session)
    if check is None:
        check_timezone(session, tz, claim=True)
        return True
    return check == zone_of(tz).key


@sa_event.listens_for(OrmSession, "before_commit")
def _apply_deferred(session: OrmSession) -> None:
    """Apply the deferred events of the transaction about to commit.

    Writers keep to the zone the rollups are already in (a queue action must never fail over
    analytics); the page refuses to read them in another zone until they are rebuilt."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    # Events of a rolled-back savepoint are no longer in the session: they never happened.
    events = [event for event in pending if event in session]
    if events:
        assert isinstance(session, Session)
        stored = stored_timezone(session)  # None: this first writer claims the default zone
        apply_events(session, events, stored or DEFAULT_TIMEZONE, zone_checked=stored is not None)


@sa_event.listens_for(OrmSession, "after_soft_rollback")
def _forget_deferred(session: OrmSession, previous_transaction: SessionTransaction) -> None:
    """An outer rollback drops every deferred event with the rows it undid."""
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def _diff(deltas: Deltas, after: list[Fact], before: list[Fact], tz: Zone) -> None:
    """Add the facts that appeared and remove those that vanished (unchanged ones cancel)."""
    gained = Counter(after)
    gained.subtract(Counter(before))
    fact_deltas((f for f, n in gained.items() if n > 0 for _ in range(n)), tz, 1, deltas)
    fact_deltas((f for f, n in gained.items() if n < 0 for _ in range(-n)), tz, -1, deltas)


def _counter_window(session: Session, office_id: int, counter_id: int,
                    added: list[Event]) -> list[Event]:
    """The counter's events from the one just before the earliest new event to the one just
    after the latest: the only open intervals new events can change."""
    first = min(added, key=event_order)
    last = max(added, key=event_order)
    mine = and_(Event.office_id == office_id, Event.counter_id == counter_id,
                Event.kind.in_(COUNTER_KINDS))  # type: ignore[attr-defined]
    before = session.scalars(
        select(Event).where(mine, or_(Event.at < first.at,
                                      and_(Event.at == first.at, Event.id < first.id)))
        .order_by(Event.at.desc(), Event.id.desc()).limit(1)  # type: ignore[union-attr]
    ).first()
    after = session.scalars(
        select(Event).where(mine, or_(Event.at > last.at,
                                      and_(Event.at == last.at, Event.id > last.id)))
        .order_by(Event.at, Event.id).limit(1)  # type: ignore[arg-type]
    ).first()
    query = select(Event).where(mine)
    if before is not None:
        query = query.where(or_(Event.at > before.at,
                                and_(Event.at == before.at, Event.id >= before.id)))
    if after is not None:
        query = query.where(or_(Event.at < after.at,
                                and_(Event.at == after.at, Event.id <= after.id)))
    return list(session.scalars(query).all())


def rebuild_rollups(session: Session, office_id: int | None = None,
                    tz: Zone = DEFAULT_TIMEZONE) -> None:
    """Recompute the rollups of one office (or all) from the event log, replacing what was there."""
    office_filter = [] if office_id is None else [Event.office_id == office_id]
    for table in ROLLUP_TABLES:
        query = delete(table)
        if office_id is not None:
            query = query.where(table.c.office_id == office_id)
        session.execute(query)
    if office_id is None:
        session.execute(delete(rollup_settings))
    check_timezone(session, tz, claim=True)
    zone = zone_of(tz)
    deltas: Deltas = defaultdict(Counter)
    visit_rows = _stream(session, Event.visit_id.is_not(None),  # type: ignore[union-attr]
                         Event.kind.not_in(COUNTER_KINDS),  # type: ignore[attr-defined]
                         *office_filter, order=Event.visit_id)
    for _visit, events in groupby(visit_rows, key=lambda row: row.visit_id):
        fact_deltas(visit_facts(list(events)), zone, 1, deltas)
    counter_rows = _stream(session, Event.counter_id.is_not(None),  # type: ignore[union-attr]
                           Event.kind.in_(COUNTER_KINDS),  # type: ignore[attr-defined]
                           *office_filter, order=Event.counter_id)
    for _counter, events in groupby(counter_rows, key=lambda row: (row.office_id, row.counter_id)):
        fact_deltas(counter_facts(list(events), zone), zone, 1, deltas)
    _insert_all(session, with_months(deltas))


def _stream(session: Session, *conditions: Any, order: Any) -> Iterator[EventLike]:
    """Event rows (not ORM objects: much faster) matching the conditions, grouped by `order`."""
    columns = Event.__table__.c  # type: ignore[attr-defined]
    query = select(columns).where(*conditions).order_by(order, columns.at, columns.id)
    yield from session.execute(query.execution_options(yield_per=5000))  # type: ignore[misc]


def _insert_all(session: Session, deltas: Deltas) -> None:
    """Bulk-insert freshly computed rows (the tables were emptied first)."""
    for table in ROLLUP_TABLES:
        value_columns = _value_columns(table)
        batch = []
        for (owner, key), changes in deltas.items():
            if owner is table and any(changes.values()):
                row = _key_columns(table, key)
                row.update({column: changes.get(column, 0) for column in value_columns})
                batch.append(row)
        for start in range(0, len(batch), 5000):
            session.execute(insert(table), batch[start:start + 5000])
