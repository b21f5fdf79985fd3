"""The metric definitions: a visit's or a counter's events replayed into measured facts.

A fact is one thing counted or measured (an arrival, a call, a wait of 312.5 s…) attributed to
the instant it began. Both the rollups and the naive full scan are built from these facts, so
the definitions live here once (docs/analytics.md explains them with examples).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from analytics.models import NO_COUNTER, NO_SERVICE, NO_STAFF, NO_STEP
from counter.models import EventKind

#: Events about a counter rather than a visit. A change of services while open ends one open
#: interval and starts the next (with the new services).
COUNTER_KINDS = frozenset({EventKind.COUNTER_OPENED, EventKind.COUNTER_SERVICES,
                           EventKind.COUNTER_CLOSED})
_OPENINGS = frozenset({EventKind.COUNTER_OPENED, EventKind.COUNTER_SERVICES})
_ONE_MS = timedelta(milliseconds=1)
_ONE_HOUR = timedelta(hours=1)


class FactKind(StrEnum):
    """What a fact measures; counts have no value, durations and open time carry milliseconds."""

    ARRIVAL = "arrivals"  # a task entered a service's queue
    ISSUED = "issued"  # a ticket was issued (one per visit)
    CALL = "calls"
    RECALL = "recalls"
    NO_SHOW = "no_shows"
    DONE = "done"
    WAIT = "wait"
    WALK = "walk"
    HANDLING = "handling"
    STAY = "stay"
    OPEN = "open"  # milliseconds a counter was open within one local hour


DURATION_KINDS = frozenset({FactKind.WAIT, FactKind.WALK, FactKind.HANDLING, FactKind.STAY})


class Fact(NamedTuple):
    """One measured or counted thing, attributed to the instant `at` (aware UTC) it began.

    A named tuple (immutable, hashable, ordered field by field): an import makes about a
    million, and a frozen dataclass cost several times as much to create."""

    kind: FactKind
    at: datetime
    office_id: int
    service_id: int = NO_SERVICE
    step: str = NO_STEP
    value_ms: int = 0
    counter_id: int = NO_COUNTER
    staff_user_id: int = NO_STAFF
    #: The task measured (0 for visit and counter facts); rollups ignore it, the simulation
    #: uses it to rebuild each stage's time at the counter.
    task_id: int = 0


class EventLike(Protocol):
    """The columns of `counter.models.Event` the replay reads (ORM objects or result rows)."""

    id: int | None
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


def event_order(event: EventLike) -> tuple[datetime, int]:
    """Events are replayed by time, then by id for events written in the same instant."""
    return (event.at, event.id or 0)


def duration_ms(start: datetime, end: datetime) -> int:
    """Whole milliseconds between two instants (integers keep rollup sums exact)."""
    return round((end - start) / _ONE_MS)


def event_step(event: EventLike) -> str | None:
    """The step an event names: the `step` column, else ``data["step"]``."""
    if event.step:
        return event.step
    step = (event.data or {}).get("step")
    return str(step) if step else None


@dataclass
class _Stage:
    """One stay in a queue: from entering it until the task is started (or given up)."""

    office_id: int
    service_id: int
    step: str
    entry_at: datetime | None
    first_call: datetime | None = None
    #: The call the resident answered: the first call since the last re-entry, no-show or hold.
    answered_call: datetime | None = None
    last_call: datetime | None = None


@dataclass
class _Serving:
    """A task being handled at a counter since `since`; `explicit` is False after a `step`."""

    since: datetime
    explicit: bool
    counter_id: int
    staff_user_id: int


@dataclass
class _Task:
    """What the replay remembers about one task."""

    id: int
    service_id: int = NO_SERVICE
    step: str = NO_STEP
    stage: _Stage | None = None
    serving: _Serving | None = None


@dataclass
class _VisitReplay:
    """Replays one visit's events in order and collects its facts."""

    facts: list[Fact] = field(default_factory=list)
    tasks: dict[int, _Task] = field(default_factory=dict)
    #: The task whose event is being replayed; its facts carry its id.
    current: _Task | None = None
    issued: EventLike | None = None
    last_done: datetime | None = None
    closed: bool = False

    def run(self, events: Iterable[EventLike]) -> list[Fact]:
        """Feed every event, then settle stages still waiting when the log ends."""
        for event in sorted(events, key=event_order):
            self._feed(event)
        for task in self.tasks.values():
            self.current = task
            if task.stage is not None:
                self._abandon(task)
        self.current = None
        self._stay()
        return self.facts

    def _feed(self, event: EventLike) -> None:
        """Dispatch one event to its handler."""
        kind = EventKind(event.kind)
        self.current = None
        if kind is EventKind.ISSUED:
            if self.issued is None:
                self.issued = event
                self._add(FactKind.ISSUED, event.at, event.office_id, event.service_id or 0)
            return
        if kind is EventKind.VISIT_CLOSED:
            self.closed = True
            return
        if event.task_id is None or kind in COUNTER_KINDS:
            return
        task = self.tasks.get(event.task_id)
        if task is None:
            task = self.tasks[event.task_id] = _Task(event.task_id,
                                                     service_id=event.service_id or 0)
        self.current = task
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, task, event)

    def _add(self, kind: FactKind, at: datetime, office_id: int, service_id: int,
             step: str = NO_STEP, value_ms: int = 0, counter_id: int | None = None,
             staff_user_id: int | None = None) -> None:
        """Record one fact."""
        self.facts.append(Fact(kind, at, office_id, service_id, step, value_ms,
                               counter_id or NO_COUNTER, staff_user_id or NO_STAFF,
                               self.current.id if self.current else 0))

    def _on_queued(self, task: _Task, event: EventLike) -> None:
        """Entering a queue: a new stage, unless the task comes back to the stage it left."""
        service_id = event.service_id or task.service_id
        step = event_step(event) or (task.step if service_id == task.service_id else NO_STEP)
        task.service_id, task.step, task.serving = service_id, step, None
        stage = task.stage
        if stage is not None and (stage.service_id, stage.step) == (service_id, step):
            stage.answered_call = None  # back in the queue: the next call is the one that counts
            return
        if stage is not None:
            self._abandon(task)
        task.stage = _Stage(event.office_id, service_id, step, event.at)
        self._add(FactKind.ARRIVAL, event.at, event.office_id, service_id, step)

    def _on_called(self, task: _Task, event: EventLike) -> None:
        """A call: counted, and the first since the last re-entry is the one a resident answers."""
        self._call(task, event, FactKind.CALL)

    def _on_recalled(self, task: _Task, event: EventLike) -> None:
        """A repeated call of the same ticket: counted apart from calls."""
        self._call(task, event, FactKind.RECALL)

    def _call(self, task: _Task, event: EventLike, kind: FactKind) -> None:
        """Shared by calls and recalls."""
        if task.stage is None:  # called without a recorded queue entry: no wait to measure
            task.stage = _Stage(event.office_id, task.service_id, task.step, None)
        stage = task.stage
        stage.first_call = stage.first_call or event.at
        stage.answered_call = stage.answered_call or event.at
        stage.last_call = event.at
        self._add(kind, event.at, event.office_id, task.service_id, task.step)

    def _on_no_show(self, task: _Task, event: EventLike) -> None:
        """The resident did not come: counted; a later call is the one that counts."""
        if task.stage is not None:
            task.stage.answered_call = None
        self._add(FactKind.NO_SHOW, event.at, event.office_id, task.service_id, task.step)

    def _on_returned(self, task: _Task, event: EventLike) -> None:
        """A no-show came back: the next call is the one that counts."""
        if task.stage is not None:
            task.stage.answered_call = None

    def _on_held(self, task: _Task, event: EventLike) -> None:
        """Set aside (e.g. to fetch a document): an unfinished handling segment is dropped."""
        task.serving = None
        if task.stage is not None:
            task.stage.answered_call = None

    def _on_started(self, task: _Task, event: EventLike) -> None:
        """Handling begins: the stage's wait and walk are now known."""
        stage = task.stage
        if stage is not None:
            answered = stage.answered_call or stage.last_call
            if stage.entry_at is not None:
                self._add(FactKind.WAIT, stage.entry_at, stage.office_id, stage.service_id,
                          stage.step, duration_ms(stage.entry_at, answered or event.at))
            if answered is not None:
                self._add(FactKind.WALK, answered, stage.office_id, stage.service_id,
                          stage.step, duration_ms(answered, event.at))
            task.stage = None
        task.serving = _Serving(event.at, True, event.counter_id or NO_COUNTER,
                                event.staff_user_id or NO_STAFF)

    def _on_step(self, task: _Task, event: EventLike) -> None:
        """The task moves to its next step; if it is at a counter, the finished step's handling
        ends here and the next step's begins at the same counter."""
        step = event_step(event)
        if step is None:
            return
        serving = task.serving
        if serving is not None:
            self._handling(task, event)
            task.serving = _Serving(event.at, False, serving.counter_id, serving.staff_user_id)
        task.step = step

    def _on_done(self, task: _Task, event: EventLike) -> None:
        """The task is finished: its handling ends and it counts as done at its counter."""
        serving = task.serving
        if serving is not None:
            self._handling(task, event)
        if task.stage is not None:
            self._abandon(task)
        counter_id = event.counter_id or (serving.counter_id if serving else None)
        staff_user_id = event.staff_user_id or (serving.staff_user_id if serving else None)
        self._add(FactKind.DONE, event.at, event.office_id, task.service_id, task.step,
                  counter_id=counter_id, staff_user_id=staff_user_id)
        task.serving = None
        self.last_done = event.at

    def _on_transferred(self, task: _Task, event: EventLike) -> None:
        """Handed over to another service: this service's handling ends; a `queued` follows."""
        if task.serving is not None:
            self._handling(task, event)
        if task.stage is not None:
            self._abandon(task)
        task.serving = None

    def _on_cancelled(self, task: _Task, event: EventLike) -> None:
        """Cancelled: an unfinished handling segment is dropped, a waiting stage given up."""
        task.serving = None
        if task.stage is not None:
            self._abandon(task)

    def _handling(self, task: _Task, event: EventLike) -> None:
        """Record the handling segment that ends with `event`."""
        serving = task.serving
        assert serving is not None
        self._add(FactKind.HANDLING, serving.since, event.office_id, task.service_id, task.step,
                  duration_ms(serving.since, event.at),
                  counter_id=serving.counter_id or event.counter_id,
                  staff_user_id=serving.staff_user_id or event.staff_user_id)

    def _abandon(self, task: _Task) -> None:
        """A stage left without being started: its wait runs to its first call, if any."""
        stage = task.stage
        task.stage = None
        if stage is not None and stage.entry_at is not None and stage.first_call is not None:
            self._add(FactKind.WAIT, stage.entry_at, stage.office_id, stage.service_id,
                      stage.step, duration_ms(stage.entry_at, stage.first_call))

    def _stay(self) -> None:
        """A closed visit with at least one task done stays from its ticket to its last done."""
        issued = self.issued
        if not self.closed or issued is None or self.last_done is None:
            return
        self._add(FactKind.STAY, issued.at, issued.office_id, issued.service_id or 0,
                  value_ms=duration_ms(issued.at, self.last_done))


#: Each task event's handler (`_VisitReplay._on_<kind>`), looked up once.
_HANDLERS = {kind: handler for kind in EventKind
             if (handler := getattr(_VisitReplay, f"_on_{kind.value}", None)) is not None}


def visit_facts(events: Iterable[EventLike]) -> list[Fact]:
    """Every fact of one visit, from all its events (any order; they are sorted here)."""
    return _VisitReplay().run(events)


def counter_facts(events: Sequence[EventLike], tz: ZoneInfo) -> list[Fact]:
    """Open time of one counter: each `counter_opened` (or change of services) until that
    counter's next counter event, cut at local hour boundaries and shared among the services
    the opening names."""
    ordered = sorted((e for e in events if e.kind in COUNTER_KINDS), key=event_order)
    facts: list[Fact] = []
    for opened, following in pairwise(ordered):
        if opened.kind in _OPENINGS:
            facts.extend(_open_facts(opened, following.at, tz))
    return facts


def _open_facts(opened: EventLike, until: datetime, tz: ZoneInfo) -> Iterator[Fact]:
    """The open interval [opened.at, until) as per-hour, per-service facts."""
    services = opened_services(opened)
    for start, end in split_by_local_hour(opened.at, until, tz):
        for service_id, share in zip(services, _shares(duration_ms(start, end), len(services)),
                                     strict=True):
            if share:
                yield Fact(FactKind.OPEN, start, opened.office_id, service_id, NO_STEP, share,
                           opened.counter_id or NO_COUNTER, opened.staff_user_id or NO_STAFF)


def opened_services(opened: EventLike) -> list[int]:
    """The services a counter opened for (``data["service_ids"]``), or [NO_SERVICE]."""
    raw = (opened.data or {}).get("service_ids") or []
    services = sorted({int(value) for value in raw
                       if isinstance(value, int | str) and str(value).isdigit()})
    return services or [NO_SERVICE]


def _shares(total: int, parts: int) -> list[int]:
    """Split whole milliseconds evenly; the remainder goes to the first parts."""
    base, remainder = divmod(total, parts)
    return [base + (1 if index < remainder else 0) for index in range(parts)]


def split_by_local_hour(start: datetime, end: datetime,
                        tz: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """Cut [start, end) at each local hour boundary; pieces are (start, end) in UTC."""
    cursor = start
    while cursor < end:
        local = cursor.astimezone(tz)
        hour_start = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        boundary = min(end, hour_start + _ONE_HOUR)
        yield cursor, boundary
        cursor = boundary


def facts_for(events: Iterable[EventLike], tz: ZoneInfo) -> list[Fact]:
    """Facts of any mix of events: grouped by visit and by counter, then replayed."""
    visits: dict[int, list[EventLike]] = {}
    counters: dict[int, list[EventLike]] = {}
    for event in events:
        if event.kind in COUNTER_KINDS:
            if event.counter_id is not None:
                counters.setdefault(event.counter_id, []).append(event)
        elif event.visit_id is not None:
            visits.setdefault(event.visit_id, []).append(event)
    facts = [fact for group in visits.values() for fact in visit_facts(group)]
    facts += [fact for group in counters.values() for fact in counter_facts(group, tz)]
    return facts
