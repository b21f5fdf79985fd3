"""Demo history: past working days of the demo city hall, played through the real queue engine.

Each day is a small discrete-event simulation whose every step is a call to `counter.queue`
with `now=` set in the past, so the events, and the analytics rollups kept from them at each
day's commit, are exactly what a real day would leave. What it shows:

- arrivals peak in the morning (9:00–10:30) and at lunchtime (12:00–13:30);
- Mondays and the last days of a month are busier, Wednesdays quieter, and the moving season
  (15 March – 15 April) brings many more moves (multi-service visits);
- visits of several procedures (moving in: residents → insurance → childcare), the residents'
  counter's steps 受付 → 確認 → 交付, no-shows (some come back), transfers;
- counters opening and closing: a lunch break at two counters, a third residents' counter only
  on Mondays and month-ends, and counters staying open until everyone with a ticket is served.

Days are independent and seeded by (seed, date), so the same seed gives the same history and a
longer run only adds days. Weekends are closed; days that already have visits are skipped.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from analytics.forecast import in_moving_season, is_month_end
from counter import queue
from counter.models import Counter, CounterService, Office, Service, Visit
from frontyard.auth import Role, User
from frontyard.database import session_scope

#: Tickets on an ordinary Tuesday; the other factors multiply it.
BASE_TICKETS = 22
WEEKDAY_FACTOR = {0: 1.4, 1: 1.0, 2: 0.85, 3: 0.95, 4: 1.15}
MONTH_END_FACTOR = 1.3
MOVING_SEASON_FACTOR = 1.6
#: Relative arrival intensity per half hour from 08:30 (tickets are issued until 17:00).
HALF_HOUR_PROFILE = (0.8, 1.6, 1.7, 1.4, 1.2, 1.0, 1.1, 1.6, 1.5, 1.2, 1.0, 0.9, 0.9, 0.8,
                     0.8, 0.7, 0.5)
OPENS, CLOSES = time(8, 30), time(17, 15)
LUNCH = (time(12, 0), time(13, 0))

#: (visiting order, weight, a move?) — the life events residents come for.
ROUTES: tuple[tuple[tuple[str, ...], float, bool], ...] = (
    (("residents",), 40, False),  # certificates
    (("residents", "insurance"), 10, True),  # moving in or out
    (("residents", "insurance", "childcare"), 8, True),  # moving in with children
    (("residents", "school"), 3, True),
    (("residents", "childcare", "insurance", "health_center"), 3, False),  # a birth
    (("insurance",), 12, False),
    (("tax",), 8, False),
    (("childcare", "nursery"), 5, False),
    (("longterm_care",), 4, False),
    (("environment",), 2, False),  # dog registration
)
#: Mean handling seconds per service (per step for the residents' counter), lognormal.
HANDLING = {"insurance": 900, "childcare": 900, "longterm_care": 1200, "tax": 480,
            "nursery": 900, "school": 600, "environment": 420, "health_center": 600}
STEP_HANDLING = {"受付": 180, "確認": 420, "交付": 240}
HANDLING_SPREAD = 0.5
#: Transfers: from a service, to another, with this probability per served task.
TRANSFERS = {"residents": ("insurance", 0.02), "insurance": ("longterm_care", 0.03)}
NO_SHOW, COMES_BACK, PRIORITY = 0.05, 0.4, 0.03
LOCALES = ("ja", "ja", "ja", "ja", "en", "vi", "zh_Hans", "pt_BR")


@dataclass
class _Desk:
    """One counter in the simulation: who works there, which services, and what it is doing."""

    counter_id: int
    number: str
    staff_id: int
    services: tuple[str, ...]
    closes_at: datetime
    lunch: tuple[datetime, datetime] | None
    is_open: bool = False
    task: int | None = None
    #: "lunch" or "day" once it is time to close; the resident in hand is finished first.
    closing: str | None = None


@dataclass
class _Resident:
    """One visit in the simulation: its engine task ids in visiting order and where it is."""

    tasks: list[int]
    services: list[str]
    index: int = 0


@dataclass
class _Day:
    """Everything one simulated day needs; `run` plays it through the engine."""

    session: Session
    rng: random.Random
    office_id: int
    services: dict[str, Service]
    desks: list[_Desk]
    rules: queue.QueueRules
    waiting: dict[str, deque[int]] = field(default_factory=dict)
    residents: dict[int, _Resident] = field(default_factory=dict)  # task id → visit
    agenda: list[tuple[datetime, int, Callable[[datetime], None]]] = field(default_factory=list)
    sequence: Iterator[int] = field(default_factory=itertools.count)
    actions: int = 0
    #: The time of the last action played.
    clock: datetime | None = None
    #: The staff member who sends home whoever is left at the end of the day.
    closer: int = 0
    #: No-shows who never came back: their visits are closed at the end of the day.
    gone: list[int] = field(default_factory=list)

    def at(self, when: datetime, action: Callable[[datetime], None]) -> None:
        """Schedule an action (ties keep the order they were scheduled in)."""
        heapq.heappush(self.agenda, (when, next(self.sequence), action))

    def run(self) -> int:
        """Play the agenda to its end; returns the number of engine calls."""
        while self.agenda:
            when, _, action = heapq.heappop(self.agenda)
            self.clock = when
            action(when)
        return self.actions

    def engine(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the queue engine (counted)."""
        self.actions += 1
        return function(self.session, *args, **kwargs)

    # --- residents -------------------------------------------------------------------------

    def arrive(self, route: tuple[str, ...], priority: bool) -> Callable[[datetime], None]:
        """A resident takes a ticket for the route's services."""

        def issue(now: datetime) -> None:
            visit = self.engine(queue.issue_ticket, office_id=self.office_id,
                                service_codes=list(route), priority=priority,
                                locale=self.rng.choice(LOCALES),
                                now=now, rules=self.rules)
            ids = [task.id for task in queue.visit_tasks(self.session, visit)]
            resident = _Resident(ids, list(route))  # type: ignore[arg-type]
            for task_id in ids:
                self.residents[task_id] = resident  # type: ignore[index]
            self.join(ids[0], route[0], now, front=priority)  # type: ignore[arg-type]

        return issue

    def join(self, task_id: int, service: str, now: datetime, front: bool = False) -> None:
        """A task enters its service's line (our mirror of the engine's queue); idle desks
        serving it look up."""
        line = self.waiting.setdefault(service, deque())
        if front:
            line.appendleft(task_id)
        else:
            line.append(task_id)
        for desk in self.desks:
            if desk.is_open and desk.task is None and service in desk.services:
                self.at(now, self.call(desk))

    # --- desks -----------------------------------------------------------------------------

    def open(self, desk: _Desk) -> Callable[[datetime], None]:
        """The clerk signs in to the desk and calls whoever waits."""

        def sign_in(now: datetime) -> None:
            self.engine(queue.open_counter, desk.counter_id, desk.staff_id,
                        [self.services[code].id for code in desk.services], now)
            desk.is_open, desk.closing = True, None
            self.call(desk)(now)

        return sign_in

    def sign_out(self, desk: _Desk, now: datetime) -> None:
        """Close the desk now; after a lunch break it reopens at the end of the break."""
        self.engine(queue.close_counter, desk.counter_id, desk.staff_id, now)
        desk.is_open = False
        if desk.closing == "lunch" and desk.lunch is not None and now < desk.lunch[1]:
            self.at(desk.lunch[1], self.open(desk))
        desk.closing = None

    def close(self, desk: _Desk, why: str) -> Callable[[datetime], None]:
        """Lunch: sign out once the resident in hand is done. End of the day: only once
        nobody with a ticket waits for the desk's services (everyone issued is served)."""

        def closing_time(now: datetime) -> None:
            if not desk.is_open:
                return
            desk.closing = why
            if desk.task is None:
                self.free(desk, now)

        return closing_time

    def _anyone_waiting(self, desk: _Desk) -> bool:
        """Whether a ticket waits in one of the desk's services."""
        return any(self.waiting.get(service) for service in desk.services)

    def free(self, desk: _Desk, now: datetime) -> None:
        """The desk has nobody in hand: close if it should, else call the next ticket."""
        desk.task = None
        if desk.closing == "lunch" or (desk.closing == "day" and not self._anyone_waiting(desk)):
            self.sign_out(desk, now)
        else:
            self.call(desk)(now)

    def call(self, desk: _Desk) -> Callable[[datetime], None]:
        """A free desk calls a waiting ticket of its services: the lowest task id first (the
        earliest issued, roughly the longest waiting; residents who come back go first)."""

        def call_next(now: datetime) -> None:
            if not desk.is_open or desk.task is not None:
                return
            lines = [line for service in desk.services
                     if (line := self.waiting.get(service))]
            if not lines:
                return
            task_id = min(lines, key=lambda line: line[0]).popleft()
            self.engine(queue.call_task, task_id, desk.counter_id, desk.staff_id, now)
            desk.task = task_id
            if self.rng.random() < NO_SHOW:
                self.at(now + timedelta(minutes=3), self.no_show(desk, task_id))
            else:
                walk = timedelta(seconds=self.rng.uniform(20, 90))
                self.at(now + walk, self.start(desk, task_id))

        return call_next

    def send_home(self, now: datetime) -> None:
        """Whoever still waits when every desk has closed leaves: their visit is cancelled,
        so nothing of a past day stays in the live queue (nor do no-shows who never came back)."""
        leaving = [*self.gone, *(task for line in self.waiting.values() for task in line)]
        for task_id in leaving:
            self.engine(queue.cancel, task_id, self.closer, now, reason="demo: office closed",
                        whole_visit=True)
        self.gone.clear()
        self.waiting.clear()

    def no_show(self, desk: _Desk, task_id: int) -> Callable[[datetime], None]:
        """Nobody came; some come back later and are put back in line at their place."""

        def mark(now: datetime) -> None:
            self.engine(queue.no_show, task_id, desk.staff_id, now)
            self.free(desk, now)
            if self.rng.random() < COMES_BACK:
                self.at(now + timedelta(minutes=self.rng.uniform(5, 20)),
                        self.comes_back(task_id, desk.staff_id))
            else:
                self.gone.append(task_id)

        return mark

    def comes_back(self, task_id: int, staff_id: int) -> Callable[[datetime], None]:
        """The resident returns and is put back at the front of the line."""

        def back(now: datetime) -> None:
            self.engine(queue.return_to_queue, task_id, staff_id, now)
            resident = self.residents[task_id]
            self.join(task_id, resident.services[resident.index], now, front=True)

        return back

    def start(self, desk: _Desk, task_id: int) -> Callable[[datetime], None]:
        """The resident sits down: serve every step of the service, then finish or transfer."""

        def begin(now: datetime) -> None:
            self.engine(queue.start, task_id, desk.staff_id, now)
            resident = self.residents[task_id]
            service = self.services[resident.services[resident.index]]
            durations = [self._handling(step) for step in service.steps] or [
                self._handling(service.code)]
            moment = now
            for number, seconds in enumerate(durations):
                moment += timedelta(seconds=seconds)
                if number + 1 < len(durations):
                    self.at(moment, self.advance(desk, task_id))
            self.at(moment, self.finish(desk, task_id))

        return begin

    def _handling(self, name: str) -> float:
        """A lognormal handling time with the service's (or step's) mean, in seconds."""
        mean = STEP_HANDLING.get(name) or HANDLING[name]
        mu = math.log(mean) - HANDLING_SPREAD ** 2 / 2
        return max(20.0, self.rng.lognormvariate(mu, HANDLING_SPREAD))

    def advance(self, desk: _Desk, task_id: int) -> Callable[[datetime], None]:
        """On to the service's next step at the same desk."""
        return lambda now: self.engine(queue.advance_step, task_id, desk.staff_id, now)

    def finish(self, desk: _Desk, task_id: int) -> Callable[[datetime], None]:
        """Done, or handed over to another service; the visit's next task joins its line."""

        def end(now: datetime) -> None:
            resident = self.residents[task_id]
            current = resident.services[resident.index]
            target, share = TRANSFERS.get(current, ("", 0.0))
            if target and target not in resident.services and self.rng.random() < share:
                self.engine(queue.transfer, task_id, self.services[target].id, desk.staff_id,
                            now, rules=self.rules)
                resident.services[resident.index] = target
                self.join(task_id, target, now)
            else:
                self.engine(queue.complete, task_id, desk.staff_id, now)
                resident.index += 1
                if resident.index < len(resident.tasks):
                    self.join(resident.tasks[resident.index], resident.services[resident.index],
                              now)
            self.free(desk, now)

        return end


def tickets_on(day: date, rng: random.Random) -> int:
    """How many tickets a day sees: weekday, month-end and moving-season factors, ±10 %."""
    factor = WEEKDAY_FACTOR.get(day.weekday(), 0.0)
    if is_month_end(day):
        factor *= MONTH_END_FACTOR
    if in_moving_season(day):
        factor *= MOVING_SEASON_FACTOR
    return round(BASE_TICKETS * factor * rng.uniform(0.9, 1.1))


def _arrival_times(day: date, count: int, tz: ZoneInfo, rng: random.Random) -> list[datetime]:
    """Issue times following the half-hourly profile (peaks at 9–10:30 and 12–13:30)."""
    opening = datetime.combine(day, OPENS, tz)
    slots = rng.choices(range(len(HALF_HOUR_PROFILE)), weights=HALF_HOUR_PROFILE, k=count)
    return sorted(opening + timedelta(minutes=30 * slot + rng.uniform(0, 30)) for slot in slots)


def _route(day: date, rng: random.Random) -> tuple[str, ...]:
    """A life event's services; moves are twice as likely in the moving season."""
    boost = 2.0 if in_moving_season(day) else 1.0
    weights = [weight * (boost if move else 1.0) for _, weight, move in ROUTES]
    return rng.choices([route for route, _, _ in ROUTES], weights=weights)[0]


def _desks(session: Session, office: Office, day: date, tz: ZoneInfo,
           clerks: list[User]) -> list[_Desk]:
    """Who works where today: counter 3 only on Mondays and month-ends (not in the moving
    season: the staffing page should find those hours short), counters 2 and 4 break for
    lunch; a counter open right now (the live demo) is left alone."""
    busy = day.weekday() == 0 or is_month_end(day)
    counters = session.exec(select(Counter).where(Counter.office_id == office.id)
                            .order_by(col(Counter.number))).all()
    lunch = (datetime.combine(day, LUNCH[0], tz), datetime.combine(day, LUNCH[1], tz))
    desks = []
    for counter, clerk in zip(counters, clerks, strict=False):
        if counter.is_open or (counter.number == "3" and not busy):
            continue
        codes = tuple(_counter_services(session, counter.id))  # type: ignore[arg-type]
        desks.append(_Desk(counter.id, counter.number, clerk.id,  # type: ignore[arg-type]
                           codes, datetime.combine(day, CLOSES, tz),
                           lunch if counter.number in {"2", "4"} else None))
    return desks


def _counter_services(session: Session, counter_id: int) -> list[str]:
    """The codes of the services a counter is set up for (its demo configuration)."""
    return list(session.exec(
        select(Service.code).join(CounterService, col(CounterService.service_id) == Service.id)
        .where(CounterService.counter_id == counter_id).order_by(col(Service.sort_order))))


def demo_clerks(session: Session, count: int) -> list[User]:
    """Staff accounts for the history's counters (they cannot sign in: no password)."""
    clerks = []
    for number in range(1, count + 1):
        name = f"demo-clerk-{number}"
        user = session.exec(select(User).where(User.username == name)).first()
        if user is None:
            user = User(username=name, password_hash="!", role=Role.STAFF,
                        display_name=f"Demo clerk {number}")
            session.add(user)
            session.flush()
        clerks.append(user)
    return clerks


def play_day(session: Session, office: Office, day: date, seed: int,
             rules: queue.QueueRules) -> int:
    """Simulate one working day through the engine; returns the number of engine calls."""
    tz = ZoneInfo(str(rules.tz))
    rng = random.Random(f"{seed}:{day.isoformat()}")
    services = {s.code: s for s in session.exec(
        select(Service).where(Service.office_id == office.id))}
    clerks = demo_clerks(session, 8)
    simulation = _Day(session, rng, office.id, services,  # type: ignore[arg-type]
                      _desks(session, office, day, tz, clerks), rules,
                      closer=clerks[0].id)  # type: ignore[arg-type]
    for desk in simulation.desks:
        # Counters open between 08:25 and 08:35, a few minutes apart.
        simulation.at(datetime.combine(day, OPENS, tz) + timedelta(minutes=rng.uniform(-5, 5)),
                      simulation.open(desk))
        if desk.lunch is not None:
            simulation.at(desk.lunch[0], simulation.close(desk, "lunch"))
        simulation.at(desk.closes_at, simulation.close(desk, "day"))
    for moment in _arrival_times(day, tickets_on(day, rng), tz, rng):
        simulation.at(moment, simulation.arrive(_route(day, rng), rng.random() < PRIORITY))
    simulation.run()
    closing = datetime.combine(day, CLOSES, tz)
    simulation.send_home(max(simulation.clock or closing, closing) + timedelta(minutes=1))
    return simulation.actions


def history_days(end: date, days: int) -> list[date]:
    """The working days (Monday–Friday) among the `days` calendar days before `end`."""
    return [end - timedelta(days=n) for n in range(days, 0, -1)
            if (end - timedelta(days=n)).weekday() < 5]


def _has_visits(session: Session, office_id: int, day: date) -> bool:
    """Whether the office already has visits on that local day (history is not doubled)."""
    found = session.exec(select(Visit.id).where(Visit.office_id == office_id,
                                                Visit.ticket_day == day).limit(1)).first()
    return found is not None


def generate_history(engine: Engine, office_code: str, days: int, *, end: date,
                     seed: int = 2026, rules: queue.QueueRules | None = None) -> Iterator[str]:
    """Play the working days before `end` (local) one transaction per day; yields progress."""
    rules = rules or queue.DEFAULT_RULES
    played = skipped = actions = 0
    for day in history_days(end, days):
        with session_scope(engine) as session:
            office = session.exec(select(Office).where(Office.code == office_code)).one()
            if _has_visits(session, office.id, day):  # type: ignore[arg-type]
                skipped += 1
                continue
            actions += play_day(session, office, day, seed, rules)
            played += 1
    yield (f"Demo history: {played} working day(s) played through the queue engine "
           f"({actions} actions)" + (f"; {skipped} day(s) had visits already." if skipped
                                     else "."))
