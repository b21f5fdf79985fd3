"""Random sequences of actions from several counters, checked against a model of the rules.

Hypothesis drives issuing, opening and closing counters, call-next, calling a ticket out of
order and every task action, with the clock moving on. After each step the invariants hold:
the database agrees with the model, a task is at one counter at most and a counter holds one
task at most, waiting counts match, each visit has at most one active task, and replaying the
event log gives every task's state and service.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections import Counter as Tally
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlmodel import Session, col, select

from counter import queue
from counter.models import Counter, Event, EventKind, Task, TaskState, Visit
from counter.queue import QueueRules
from frontyard import database
from frontyard.database import session_scope
from tests.conftest import QUEUE_SERVICES, seed_queue_world

S = TaskState
CODES = [code for code, _, _ in QUEUE_SERVICES]
STEPS = {code: len(steps) for code, _, steps in QUEUE_SERVICES}
COUNTERS = 3
STREAK = 2
UNFINISHED = {S.PENDING, S.WAITING, S.ON_HOLD, S.CALLED, S.SERVING, S.NO_SHOW}
ACTIVE = UNFINISHED - {S.PENDING}
#: The rules, written again independently of the engine: action → (from states, to state).
RULES: dict[str, tuple[set[TaskState], TaskState | None]] = {
    "recall": ({S.CALLED}, S.CALLED),
    "start": ({S.CALLED}, S.SERVING),
    "advance": ({S.SERVING}, S.SERVING),
    "complete": ({S.SERVING}, S.DONE),
    "no_show": ({S.CALLED}, S.NO_SHOW),
    "return": ({S.NO_SHOW, S.CALLED}, S.WAITING),
    "hold": ({S.WAITING, S.CALLED, S.SERVING}, S.ON_HOLD),
    "release": ({S.ON_HOLD}, S.WAITING),
    "transfer": (UNFINISHED, None),  # waiting, or still pending
    "cancel": (UNFINISHED, S.CANCELLED),
}
#: What each event says about its task's state (TRANSFERRED leaves it; QUEUED follows).
REPLAY = {
    EventKind.QUEUED: S.WAITING, EventKind.CALLED: S.CALLED, EventKind.RECALLED: S.CALLED,
    EventKind.STARTED: S.SERVING, EventKind.STEP: S.SERVING, EventKind.DONE: S.DONE,
    EventKind.NO_SHOW: S.NO_SHOW, EventKind.RETURNED: S.WAITING, EventKind.HELD: S.ON_HOLD,
    EventKind.RELEASED: S.WAITING, EventKind.CANCELLED: S.CANCELLED,
}
_TEMPLATE: list[Path] = []


def _template() -> Path:
    """A migrated SQLite file, made once and copied for every example."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="frontyard-stateful-"))
        atexit.register(shutil.rmtree, folder, True)
        database.upgrade(f"sqlite:///{folder / 'template.sqlite3'}")
        _TEMPLATE.append(folder / "template.sqlite3")
    return _TEMPLATE[0]


class QueueMachine(RuleBasedStateMachine):
    """The engine against a model: task states, services, steps, counters and streaks."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="frontyard-example-"))
        shutil.copy(_template(), self.folder / "db.sqlite3")
        self.engine = database.make_engine(f"sqlite:///{self.folder / 'db.sqlite3'}")
        self.world = seed_queue_world(self.engine, counters=COUNTERS)
        self.code_of = {service_id: code for code, service_id in self.world.services.items()}
        self.rules = QueueRules(priority_streak=STREAK)
        self.now = datetime(2026, 4, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
        self.state: dict[int, TaskState] = {}
        self.service: dict[int, int] = {}
        self.step: dict[int, int] = {}
        self.visits: dict[int, list[int]] = {}
        self.visit_of: dict[int, int] = {}
        self.priority: dict[int, bool] = {}
        self.counter_services: dict[int, set[int] | None] = dict.fromkeys(range(COUNTERS))
        self.at_counter: dict[int, int | None] = dict.fromkeys(range(COUNTERS))
        self.streak: dict[int, int] = dict.fromkeys(range(COUNTERS), 0)

    def teardown(self) -> None:
        """Drop the example's database."""
        self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- helpers ---

    def _run(self, function, *args, **kwargs):  # type: ignore[no-untyped-def]
        with session_scope(self.engine) as session:
            return function(session, *args, now=self.now, **kwargs)

    def _expect_conflict(self, error_type, function, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(error_type):
            self._run(function, *args, **kwargs)

    def _leave_counter(self, task_id: int) -> None:
        for index, held in self.at_counter.items():
            if held == task_id:
                self.at_counter[index] = None

    def _route(self, visit_id: int) -> None:
        tasks = self.visits[visit_id]
        if any(self.state[t] in ACTIVE for t in tasks):
            return
        pending = [t for t in tasks if self.state[t] == S.PENDING]
        if pending:
            self.state[pending[0]] = S.WAITING

    def _pick(self, data: st.DataObject) -> int | None:
        """A task: half of the time one at a counter, where most actions apply."""
        at_counters = sorted(t for t in self.at_counter.values() if t is not None)
        if at_counters and data.draw(st.booleans(), label="at a counter"):
            return data.draw(st.sampled_from(at_counters), label="task")
        if not self.state:
            return None
        return data.draw(st.sampled_from(sorted(self.state)), label="task")

    # --- rules ---

    @initialize(codes=st.lists(st.sampled_from(CODES), min_size=1, max_size=3))
    def first_ticket(self, codes: list[str]) -> None:
        """Every example starts with a ticket."""
        self.issue(codes, False)

    @rule(codes=st.lists(st.sampled_from(CODES), min_size=1, max_size=3),
          priority=st.booleans())
    def issue(self, codes: list[str], priority: bool) -> None:
        """A kiosk issues a ticket."""
        visit = self._run(queue.issue_ticket, office_id=self.world.office_id,
                          service_codes=codes, priority=priority)
        with Session(self.engine) as session:
            task_ids = [task.id for task in queue.visit_tasks(session, visit)]
        self.visits[visit.id] = task_ids
        for position, (task_id, code) in enumerate(zip(task_ids, codes, strict=True)):
            self.state[task_id] = S.WAITING if position == 0 else S.PENDING
            self.service[task_id] = self.world.services[code]
            self.step[task_id] = 0
            self.visit_of[task_id] = visit.id
            self.priority[task_id] = priority

    @rule(index=st.integers(0, COUNTERS - 1),
          codes=st.sets(st.sampled_from(CODES), min_size=1))
    def open_counter(self, index: int, codes: set[str]) -> None:
        """A staff member signs in to a counter (or changes its services)."""
        service_ids = {self.world.services[code] for code in codes}
        self._run(queue.open_counter, self.world.counters[index], self.world.staff[index],
                  service_ids)
        if self.counter_services[index] is None:
            self.streak[index] = 0
        self.counter_services[index] = service_ids

    @rule(index=st.integers(0, COUNTERS - 1))
    def close_counter(self, index: int) -> None:
        """A staff member signs out."""
        counter_id, user = self.world.counters[index], self.world.staff[index]
        if self.counter_services[index] is None:
            self._expect_conflict(queue.CounterClosed, queue.close_counter, counter_id, user)
        elif self.at_counter[index] is not None:
            self._expect_conflict(queue.CounterBusy, queue.close_counter, counter_id, user)
        else:
            self._run(queue.close_counter, counter_id, user)
            self.counter_services[index] = None
            self.streak[index] = 0

    def _record_call(self, index: int, task_id: int) -> None:
        self.state[task_id] = S.CALLED
        self.at_counter[index] = task_id
        self.streak[index] = self.streak[index] + 1 if self.priority[task_id] else 0

    @rule(index=st.integers(0, COUNTERS - 1))
    def call_next(self, index: int) -> None:
        """A counter calls the next ticket: the one the rules say, or none."""
        counter_id, user = self.world.counters[index], self.world.staff[index]
        services = self.counter_services[index]
        if services is None:
            self._expect_conflict(queue.CounterClosed, queue.call_next, counter_id, user,
                                  rules=self.rules)
            return
        if self.at_counter[index] is not None:
            self._expect_conflict(queue.CounterBusy, queue.call_next, counter_id, user,
                                  rules=self.rules)
            return
        with Session(self.engine) as session:
            line = queue.waiting_list(session, service_ids=services, include_held=False,
                                      now=self.now)
        normal = [entry for entry in line if not entry.priority]
        if self.streak[index] >= STREAK and normal:
            expected = normal[0].task_id
        else:
            expected = line[0].task_id if line else None
        task = self._run(queue.call_next, counter_id, user, rules=self.rules)
        assert (task.id if task else None) == expected
        if task is not None:
            assert self.state[task.id] == S.WAITING and self.service[task.id] in services
            self._record_call(index, task.id)

    @rule(data=st.data(), index=st.integers(0, COUNTERS - 1))
    def call_task(self, data: st.DataObject, index: int) -> None:
        """A counter calls a chosen ticket out of order."""
        task_id = self._pick(data)
        if task_id is None:
            return
        counter_id, user = self.world.counters[index], self.world.staff[index]
        if self.counter_services[index] is None:
            self._expect_conflict(queue.CounterClosed, queue.call_task, task_id, counter_id,
                                  user)
        elif self.state[task_id] != S.WAITING:
            self._expect_conflict(queue.IllegalTransition, queue.call_task, task_id,
                                  counter_id, user)
        elif self.at_counter[index] is not None:
            self._expect_conflict(queue.CounterBusy, queue.call_task, task_id, counter_id, user)
        else:
            self._run(queue.call_task, task_id, counter_id, user)
            self._record_call(index, task_id)

    @rule(data=st.data(), action=st.sampled_from(sorted(RULES)))
    def act(self, data: st.DataObject, action: str) -> None:
        """Staff act on a ticket; illegal actions must be refused and change nothing."""
        task_id = self._pick(data)
        if task_id is None:
            return
        allowed, target = RULES[action]
        user = self.world.staff[0]
        state = self.state[task_id]
        args: tuple = (task_id,)  # type: ignore[type-arg]
        kwargs: dict = {}  # type: ignore[type-arg]
        function = {"recall": queue.recall, "start": queue.start, "advance": queue.advance_step,
                    "complete": queue.complete, "no_show": queue.no_show,
                    "return": queue.return_to_queue, "hold": queue.hold,
                    "release": queue.release, "transfer": queue.transfer,
                    "cancel": queue.cancel}[action]
        if action == "transfer":
            others = sorted(set(self.world.services.values()) - {self.service[task_id]})
            destination = data.draw(st.sampled_from(others), label="to")
            args = (task_id, destination)
        if action == "cancel":
            kwargs["whole_visit"] = data.draw(st.booleans(), label="whole_visit")
        if state not in allowed:
            self._expect_conflict(queue.IllegalTransition, function, *args, user, **kwargs)
            return
        steps = STEPS[self.code_of[self.service[task_id]]]
        if action == "advance" and self.step[task_id] + 1 >= steps:
            self._expect_conflict(queue.LastStep, function, *args, user, **kwargs)
            return
        self._run(function, *args, user, **kwargs)
        if action == "advance":
            self.step[task_id] += 1
        if action == "transfer":
            self.service[task_id] = destination
            self.step[task_id] = 0
            target = S.PENDING if state == S.PENDING else S.WAITING
        visit_id = self.visit_of[task_id]
        affected = self.visits[visit_id] if kwargs.get("whole_visit") else [task_id]
        for other in affected:
            if self.state[other] in UNFINISHED:
                self.state[other] = target  # type: ignore[assignment]
                if target not in {S.CALLED, S.SERVING}:
                    self._leave_counter(other)
        if target in {S.DONE, S.CANCELLED}:
            self._route(visit_id)

    @rule(minutes=st.integers(1, 30))
    def time_passes(self, minutes: int) -> None:
        """The clock moves on (across midnight too, now and then)."""
        self.now += timedelta(minutes=minutes * 7)

    # --- invariants ---

    @invariant()
    def database_matches_the_model(self) -> None:
        """Every task's state and service are what the rules predict."""
        with Session(self.engine) as session:
            tasks = session.exec(select(Task)).all()
        assert {t.id: t.state for t in tasks} == self.state
        assert {t.id: t.service_id for t in tasks} == self.service
        assert {t.id: t.step_index for t in tasks if t.state == S.SERVING} == {
            t: self.step[t] for t, s in self.state.items() if s == S.SERVING}

    @invariant()
    def one_task_per_counter_and_one_counter_per_task(self) -> None:
        """Tasks at counters are called or being served, each at its own open counter."""
        with Session(self.engine) as session:
            held = session.exec(select(Task.id, Task.counter_id).where(
                col(Task.state).in_([S.CALLED, S.SERVING]))).all()
            open_ids = set(session.exec(select(Counter.id).where(
                col(Counter.is_open).is_(True))).all())
            streaks = dict(session.exec(select(Counter.id, Counter.priority_streak)).all())
        counters = [counter_id for _, counter_id in held]
        assert len(counters) == len(set(counters))
        assert set(counters) <= open_ids
        assert {task_id: counter_id for task_id, counter_id in held} == {
            task_id: self.world.counters[index]
            for index, task_id in self.at_counter.items() if task_id is not None}
        assert open_ids == {self.world.counters[i] for i, s in self.counter_services.items()
                            if s is not None}
        assert {self.world.counters[i]: n for i, n in self.streak.items()} == streaks

    @invariant()
    def counts_match(self) -> None:
        """Waiting counts per service and the overview agree with the tasks."""
        expected = Tally(self.service[t] for t, s in self.state.items() if s == S.WAITING)
        with Session(self.engine) as session:
            counts = queue.waiting_counts(session, self.world.office_id)
            overview = queue.queue_overview(session, self.world.office_id, self.now)
        assert counts == {sid: expected.get(sid, 0) for sid in self.world.services.values()}
        assert {o.service.id: o.waiting for o in overview} == counts

    @invariant()
    def visits_are_routed_one_task_at_a_time(self) -> None:
        """At most one active task per visit, the first unfinished; closed iff all finished."""
        with Session(self.engine) as session:
            closed = {v.id: v.closed_at is not None for v in session.exec(select(Visit))}
        for visit_id, tasks in self.visits.items():
            unfinished = [t for t in tasks if self.state[t] in UNFINISHED]
            assert sum(self.state[t] in ACTIVE for t in tasks) <= 1
            if unfinished:
                assert all(self.state[t] == S.PENDING for t in unfinished[1:])
            assert closed[visit_id] == (not unfinished)

    @invariant()
    def events_match_states(self) -> None:
        """Replaying the event log gives each task's state and service."""
        with Session(self.engine) as session:
            log = session.exec(select(Event).order_by(col(Event.id))).all()
        replayed: dict[int, TaskState] = {}
        service: dict[int, int] = {}
        for event in log:
            if event.task_id is None:
                continue
            if event.kind in REPLAY:
                replayed[event.task_id] = REPLAY[event.kind]
            if event.kind == EventKind.TRANSFERRED:
                service[event.task_id] = event.data["to_service_id"]
            elif event.kind == EventKind.QUEUED:
                service[event.task_id] = event.service_id  # type: ignore[assignment]
        assert {t: replayed.get(t, S.PENDING) for t in self.state} == self.state
        assert all(self.service[t] == s for t, s in service.items())
        closed = Tally(e.visit_id for e in log if e.kind == EventKind.VISIT_CLOSED)
        assert all(n == 1 for n in closed.values())


QueueMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_queue_state_machine = QueueMachine.TestCase
