"""The queue engine without HTTP: every transition, routing, numbering, fairness, estimates."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from counter import queue
from counter.models import Counter, Event, EventKind, Task, TaskState, Visit, VisitDetails
from counter.queue import Action, Placement, QueueRules
from frontyard.database import session_scope
from frontyard.errors import Conflict, NotFound, ValidationFailed
from frontyard.i18n import use_locale
from frontyard.settings import Settings

JST = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=JST)


def at(minutes: float) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def run(engine, function, *args, **kwargs):
    """Run one engine function in its own committed transaction."""
    with session_scope(engine) as session:
        return function(session, *args, **kwargs)


def issue(engine, world, *codes: str, now: datetime = T0, **kwargs) -> Visit:
    """Issue a ticket for the given service codes."""
    return run(engine, queue.issue_ticket, office_id=world.office_id,
               service_codes=list(codes or ["residents"]), now=now, **kwargs)


def open_counter(engine, world, index: int, *codes: str, now: datetime = T0) -> Counter:
    """Sign counter `index` (0-based) in with its own staff member, serving `codes`."""
    service_ids = [world.services[code] for code in (codes or ["residents"])]
    return run(engine, queue.open_counter, world.counters[index], world.staff[index],
               service_ids, now=now)


def call_next(engine, world, index: int, now: datetime = T0, **kwargs) -> Task | None:
    """Call the next ticket at counter `index`."""
    return run(engine, queue.call_next, world.counters[index], world.staff[index], now,
               **kwargs)


def tasks_of(engine, visit: Visit) -> list[Task]:
    """The visit's tasks, fresh from the database."""
    with Session(engine) as session:
        return queue.visit_tasks(session, visit)


def task_state(engine, task_id: int) -> TaskState:
    """A task's state, fresh from the database."""
    with Session(engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task.state


def events(engine, **where) -> list[Event]:
    """Events matching the filters, oldest first."""
    with Session(engine) as session:
        statement = select(Event).filter_by(**where).order_by(col(Event.id))
        return list(session.exec(statement).all())


def kinds(engine, **where) -> list[EventKind]:
    """The kinds of the matching events, oldest first."""
    return [event.kind for event in events(engine, **where)]


def first_task(engine, visit: Visit) -> Task:
    """The visit's first task."""
    return tasks_of(engine, visit)[0]


# --- Issuing and numbering ---------------------------------------------------------------------


def test_issue_ticket_makes_one_visit_with_a_task_per_service(engine, world):
    """One number for the stay; the first task waits, the others are pending; details apart."""
    visit = issue(engine, world, "residents", "insurance", "childcare",
                  procedure_codes=["moving_in", "nhi_join", None], locale="en",
                  details={"name": "山田 花子"}, priority=True)
    assert visit.ticket_number == "A-001"
    assert visit.ticket_day == T0.date()
    assert len(visit.status_token) >= 32  # token_urlsafe(32): 256 bits
    assert visit.locale == "en" and visit.priority
    tasks = tasks_of(engine, visit)
    assert [task.state for task in tasks] == [TaskState.WAITING, TaskState.PENDING,
                                              TaskState.PENDING]
    assert [task.procedure_code for task in tasks] == ["moving_in", "nhi_join", None]
    assert tasks[0].queued_at == T0 and tasks[0].ranked_at == T0
    assert kinds(engine, visit_id=visit.id) == [EventKind.ISSUED, EventKind.QUEUED]
    with Session(engine) as session:
        assert session.get(VisitDetails, visit.id).data == {"name": "山田 花子"}
    assert all("山田" not in str(event.data) for event in events(engine))


def test_numbers_count_per_prefix(engine, world):
    """The first service's prefix names the ticket; each prefix counts on its own."""
    numbers = [issue(engine, world, code).ticket_number
               for code in ["residents", "residents", "insurance", "residents", "childcare"]]
    assert numbers == ["A-001", "A-002", "B-001", "A-003", "C-001"]


def test_numbers_restart_at_local_midnight_without_wiping_the_queue(engine, world):
    """Numbering follows the city's day (JST, not UTC); yesterday's tickets keep waiting."""
    late = datetime(2026, 4, 1, 23, 58, tzinfo=JST)
    first = issue(engine, world, now=late)
    second = issue(engine, world, now=late + timedelta(minutes=1))
    # 00:30 JST is still 15:30 UTC of the previous day: the JST day decides.
    after_midnight = datetime(2026, 4, 1, 15, 30, tzinfo=ZoneInfo("UTC"))
    third = issue(engine, world, now=after_midnight)
    assert [v.ticket_number for v in (first, second, third)] == ["A-001", "A-002", "A-001"]
    assert third.ticket_day == first.ticket_day + timedelta(days=1)
    assert [first_task(engine, v).state for v in (first, second)] == [TaskState.WAITING] * 2
    open_counter(engine, world, 0, now=after_midnight)
    called = call_next(engine, world, 0, now=after_midnight)
    assert called.visit_id == first.id  # the open day's queue is served in order


def test_rules_can_use_another_time_zone(engine, world):
    """The zone comes from the rules (FRONTYARD_TIMEZONE), not from the engine."""
    utc_rules = QueueRules(tz=ZoneInfo("UTC"))
    evening = datetime(2026, 4, 1, 23, 0, tzinfo=JST)  # 14:00 UTC, same UTC day as 09:00 JST
    issue(engine, world, now=T0, rules=utc_rules)
    assert issue(engine, world, now=evening, rules=utc_rules).ticket_number == "A-002"


def test_issue_ticket_validates_its_input(engine, world):
    """Unknown services and mismatched procedure lists are 422s with field messages."""
    with pytest.raises(ValidationFailed) as error:
        issue(engine, world, "residents", "passport")
    assert "passport" in str(error.value) and "service_codes" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        issue(engine, world, "residents", procedure_codes=["a", "b"])
    assert "procedure_codes" in error.value.fields
    with pytest.raises(ValidationFailed):
        issue(engine, world, "residents", procedure_codes=["x" * 65])
    with pytest.raises(ValidationFailed) as error:
        issue(engine, world, "residents", locale="klingon")
    assert "locale" in error.value.fields
    with pytest.raises(ValidationFailed):
        run(engine, queue.issue_ticket, office_id=world.office_id, service_codes=[])
    with pytest.raises(NotFound):
        run(engine, queue.issue_ticket, office_id=999, service_codes=["residents"])
    assert events(engine) == []


def test_visit_for_token_finds_only_exact_tokens(engine, world):
    """The status token finds its visit; anything else finds nothing."""
    visit = issue(engine, world)
    with Session(engine) as session:
        assert queue.visit_for_token(session, visit.status_token).id == visit.id
        assert queue.visit_for_token(session, visit.status_token[:-1]) is None
        assert queue.visit_for_token(session, "") is None
        assert queue.visit_for_token(session, "x" * 500) is None


# --- The life of a task ------------------------------------------------------------------------


def test_call_start_steps_and_complete(engine, world):
    """A task goes called → serving through its service's steps → done, each step logged."""
    visit = issue(engine, world, "residents")
    open_counter(engine, world, 0)
    task = call_next(engine, world, 0, now=at(5))
    assert task.state == TaskState.CALLED and task.counter_id == world.counters[0]
    assert task.call_count == 1 and task.called_at == at(5)
    user = world.staff[0]
    run(engine, queue.recall, task.id, user, at(6))
    assert run(engine, queue.start, task.id, user, at(7)).state == TaskState.SERVING
    assert run(engine, queue.advance_step, task.id, user, at(8)).step_index == 1
    assert run(engine, queue.advance_step, task.id, user, at(9)).step_index == 2
    with pytest.raises(queue.LastStep):
        run(engine, queue.advance_step, task.id, user, at(10))
    done = run(engine, queue.complete, task.id, user, at(11))
    assert done.state == TaskState.DONE and done.done_at == at(11)
    logged = events(engine, task_id=task.id)
    assert [(e.kind, e.step) for e in logged] == [
        (EventKind.QUEUED, "受付"), (EventKind.CALLED, None), (EventKind.RECALLED, None),
        (EventKind.STARTED, "受付"), (EventKind.STEP, "確認"), (EventKind.STEP, "交付"),
        (EventKind.DONE, "交付"),
    ]
    assert all(e.counter_id == world.counters[0] for e in logged[1:])
    assert all(e.staff_user_id == user for e in logged[1:])
    assert kinds(engine, visit_id=visit.id)[-1] == EventKind.VISIT_CLOSED


def test_one_stop_routing_queues_the_next_task_and_closes_the_visit(engine, world):
    """When a task is done the next one joins its queue; after the last the visit closes."""
    visit = issue(engine, world, "residents", "insurance", "childcare")
    open_counter(engine, world, 0, "residents")
    open_counter(engine, world, 1, "insurance", "childcare")
    first = call_next(engine, world, 0, now=at(1))
    with Session(engine) as session:
        progress = queue.visit_progress(session, visit, at(1))
    assert (progress.task_number, progress.task_count) == (1, 3)
    assert progress.counter.id == world.counters[0] and progress.state == TaskState.CALLED
    assert [s.code for s in progress.remaining_services] == ["insurance", "childcare"]
    run(engine, queue.start, first.id, world.staff[0], at(2))
    run(engine, queue.complete, first.id, world.staff[0], at(10))
    second = tasks_of(engine, visit)[1]
    assert second.state == TaskState.WAITING and second.queued_at == at(10)
    with Session(engine) as session:
        progress = queue.visit_progress(session, visit, at(10))
    assert (progress.task_number, progress.task_count, progress.state) == (2, 3,
                                                                           TaskState.WAITING)
    assert progress.people_ahead == 0 and progress.current_service.code == "insurance"
    for minute in (11, 20):
        task = call_next(engine, world, 1, now=at(minute))
        run(engine, queue.start, task.id, world.staff[1], at(minute + 1))
        run(engine, queue.complete, task.id, world.staff[1], at(minute + 5))
    with Session(engine) as session:
        closed = session.get(Visit, visit.id)
        progress = queue.visit_progress(session, closed, at(30))
    assert closed.closed_at == at(25)
    assert progress.closed and progress.current_task is None and progress.task_number == 3
    assert kinds(engine, visit_id=visit.id).count(EventKind.QUEUED) == 3
    assert kinds(engine, visit_id=visit.id)[-1] == EventKind.VISIT_CLOSED


def _drive_to(engine, world, state: TaskState) -> Task:
    """A fresh task of a new visit brought into `state` at counter 0 (which must be free)."""
    user, counter_id = world.staff[0], world.counters[0]
    visit = issue(engine, world, "insurance", "residents")
    first, second = tasks_of(engine, visit)
    if state == TaskState.PENDING:
        return second
    if state in {TaskState.CALLED, TaskState.SERVING, TaskState.NO_SHOW, TaskState.DONE}:
        run(engine, queue.call_task, first.id, counter_id, user)
        if state == TaskState.NO_SHOW:
            run(engine, queue.no_show, first.id, user)
        if state in {TaskState.SERVING, TaskState.DONE}:
            run(engine, queue.start, first.id, user)
        if state == TaskState.DONE:
            run(engine, queue.complete, first.id, user)
    elif state == TaskState.ON_HOLD:
        run(engine, queue.hold, first.id, user)
    elif state == TaskState.CANCELLED:
        run(engine, queue.cancel, first.id, user)
    assert task_state(engine, first.id) == state
    return first


def _attempt(engine, world, action: Action, task: Task) -> None:
    user = world.staff[0]
    if action == Action.CALL:
        run(engine, queue.call_task, task.id, world.counters[0], user)
    elif action == Action.TRANSFER:
        run(engine, queue.transfer, task.id, world.services["childcare"], user)
    else:
        function = {Action.RECALL: queue.recall, Action.START: queue.start,
                    Action.ADVANCE: queue.advance_step, Action.COMPLETE: queue.complete,
                    Action.NO_SHOW: queue.no_show, Action.RETURN: queue.return_to_queue,
                    Action.HOLD: queue.hold, Action.RELEASE: queue.release,
                    Action.CANCEL: queue.cancel}[action]
        run(engine, function, task.id, user)


def test_every_action_from_every_state(engine, world):
    """Each action works exactly from the states the transition table allows; the rest are
    409s that change nothing and log nothing."""
    open_counter(engine, world, 0, "insurance", "residents", "childcare")
    for state in TaskState:
        for action in Action:
            task = _drive_to(engine, world, state)
            logged = len(events(engine))
            if state in queue.ALLOWED_FROM[action]:
                if action == Action.ADVANCE:  # insurance has no steps: the step rule refuses
                    with pytest.raises(queue.LastStep):
                        _attempt(engine, world, action, task)
                else:
                    _attempt(engine, world, action, task)
                    assert len(events(engine)) > logged, (state, action)
            else:
                with pytest.raises(queue.IllegalTransition) as error:
                    _attempt(engine, world, action, task)
                assert isinstance(error.value, Conflict) and error.value.status_code == 409
                assert task_state(engine, task.id) == state
                assert len(events(engine)) == logged, (state, action)
            with Session(engine) as session:  # free the counter for the next case
                busy = queue.counter_view(session, world.counters[0]).current
            if busy is not None:
                run(engine, queue.cancel, busy.id, world.staff[0], whole_visit=True)


def test_illegal_transition_message_is_translated(engine, world):
    """The 409 names the ticket, the action and the state in the staff member's language."""
    visit = issue(engine, world)
    task = first_task(engine, visit)
    with use_locale("en"), pytest.raises(queue.IllegalTransition) as error:
        run(engine, queue.start, task.id, world.staff[0])
    assert str(error.value) == "A-001: “start serving” is not possible while the ticket is waiting."
    with use_locale("ja"), pytest.raises(queue.IllegalTransition) as error:
        run(engine, queue.start, task.id, world.staff[0])
    assert "A-001" in str(error.value) and "待機中" in str(error.value)


def test_unknown_task_and_counter_are_not_found(engine, world):
    """Acting on ids that do not exist is a 404, not a crash."""
    with pytest.raises(NotFound):
        run(engine, queue.start, 12345, world.staff[0])
    with pytest.raises(NotFound):
        run(engine, queue.call_next, 12345, world.staff[0])


def test_no_show_frees_the_counter_and_return_keeps_the_place(engine, world):
    """A no-show leaves the counter free; returned, the ticket is again first in line."""
    early, later = issue(engine, world, now=at(0)), issue(engine, world, now=at(1))
    open_counter(engine, world, 0)
    task = call_next(engine, world, 0, now=at(2))
    assert task.visit_id == early.id
    run(engine, queue.no_show, task.id, world.staff[0], at(4))
    with Session(engine) as session:
        assert queue.counter_view(session, world.counters[0]).current is None
    other = call_next(engine, world, 0, now=at(5))
    assert other.visit_id == later.id
    run(engine, queue.return_to_queue, task.id, world.staff[0], at(6))
    run(engine, queue.cancel, other.id, world.staff[0], at(7))
    assert call_next(engine, world, 0, now=at(8)).id == task.id
    assert kinds(engine, task_id=task.id) == [EventKind.QUEUED, EventKind.CALLED,
                                              EventKind.NO_SHOW, EventKind.RETURNED,
                                              EventKind.CALLED]
    with Session(engine) as session:
        assert session.get(Task, task.id).call_count == 2


def test_hold_keeps_the_place_and_the_reason(engine, world):
    """A held ticket is skipped by call-next, shows its reason, and comes back at its place."""
    held, other = issue(engine, world, now=at(0)), issue(engine, world, now=at(1))
    held_task = first_task(engine, held)
    run(engine, queue.hold, held_task.id, world.staff[0], at(2), reason="  印鑑を取りに  ")
    with Session(engine) as session:
        entries = queue.waiting_list(session, service_ids=[world.services["residents"]],
                                     now=at(3))
        assert queue.waiting_counts(session, world.office_id)[world.services["residents"]] == 1
    assert [(e.ticket_number, e.state, e.hold_reason) for e in entries] == [
        ("A-001", TaskState.ON_HOLD, "印鑑を取りに"), ("A-002", TaskState.WAITING, None)]
    open_counter(engine, world, 0)
    assert call_next(engine, world, 0, now=at(3)).visit_id == other.id
    run(engine, queue.release, held_task.id, world.staff[0], at(4))
    run(engine, queue.hold, first_task(engine, other).id, world.staff[0], at(5))  # from called
    assert call_next(engine, world, 0, now=at(6)).id == held_task.id
    assert [e.data.get("reason") for e in events(engine, kind=EventKind.HELD)] == [
        "印鑑を取りに", None]


def test_hold_while_serving_frees_the_counter_and_keeps_the_step(engine, world):
    """Serving can pause (a missing document); the task resumes at its step later."""
    visit = issue(engine, world)
    open_counter(engine, world, 0)
    task = call_next(engine, world, 0)
    run(engine, queue.start, task.id, world.staff[0])
    run(engine, queue.advance_step, task.id, world.staff[0])
    held = run(engine, queue.hold, task.id, world.staff[0])
    assert held.counter_id is None and held.step_index == 1
    run(engine, queue.release, task.id, world.staff[0])
    again = call_next(engine, world, 0)
    assert again.id == task.id
    run(engine, queue.start, task.id, world.staff[0])
    assert events(engine, task_id=task.id)[-1].step == "確認"
    assert visit.id == again.visit_id


@pytest.mark.parametrize("placement, expected", [
    (Placement.FRONT, ["A-001", "B-001", "B-002"]),
    (Placement.ORIGINAL, ["B-001", "A-001", "B-002"]),
    (Placement.BACK, ["B-001", "B-002", "A-001"]),
])
def test_transfer_places_the_ticket_by_the_rule(engine, world, placement, expected):
    """A transferred ticket keeps its number and joins the target queue where the rule says."""
    issue(engine, world, "insurance", now=at(0))
    moved = issue(engine, world, "residents", now=at(1))
    issue(engine, world, "insurance", now=at(2))
    open_counter(engine, world, 0, "residents")
    task = call_next(engine, world, 0, now=at(3))
    run(engine, queue.start, task.id, world.staff[0], at(4))
    run(engine, queue.transfer, task.id, world.services["insurance"], world.staff[0], at(5),
        rules=QueueRules(transfer_placement=placement))
    with Session(engine) as session:
        entries = queue.waiting_list(session, service_ids=[world.services["insurance"]],
                                     now=at(6))
        moved_task = session.get(Task, task.id)
    assert [entry.ticket_number for entry in entries] == expected
    assert moved_task.state == TaskState.WAITING and moved_task.counter_id is None
    assert moved_task.step_index == 0 and moved_task.call_count == 0
    transferred, queued = events(engine, task_id=task.id)[-2:]
    assert transferred.kind == EventKind.TRANSFERRED
    assert transferred.service_id == world.services["residents"]
    assert transferred.data["to_service_id"] == world.services["insurance"]
    assert transferred.counter_id == world.counters[0]
    assert (queued.kind, queued.service_id) == (EventKind.QUEUED, world.services["insurance"])
    assert moved.ticket_number == "A-001"


def test_transfer_of_a_pending_task_only_changes_its_service(engine, world):
    """A later procedure can be re-routed before its turn; it stays pending."""
    visit = issue(engine, world, "residents", "insurance")
    pending = tasks_of(engine, visit)[1]
    run(engine, queue.transfer, pending.id, world.services["childcare"], world.staff[0])
    pending = tasks_of(engine, visit)[1]
    assert pending.state == TaskState.PENDING
    assert pending.service_id == world.services["childcare"]
    with pytest.raises(ValidationFailed):  # to its own service
        run(engine, queue.transfer, pending.id, world.services["childcare"], world.staff[0])
    with pytest.raises(ValidationFailed):  # to nowhere
        run(engine, queue.transfer, pending.id, 999, world.staff[0])


def test_cancel_moves_on_and_whole_visit_cancel_closes(engine, world):
    """Cancelling the active task routes the next; cancelling the visit closes it."""
    visit = issue(engine, world, "residents", "insurance", "childcare")
    first, second, third = tasks_of(engine, visit)
    run(engine, queue.cancel, first.id, world.staff[0], reason="not needed")
    assert [t.state for t in tasks_of(engine, visit)] == [
        TaskState.CANCELLED, TaskState.WAITING, TaskState.PENDING]
    run(engine, queue.cancel, third.id, world.staff[0])  # a pending one: nothing moves
    assert [t.state for t in tasks_of(engine, visit)] == [
        TaskState.CANCELLED, TaskState.WAITING, TaskState.CANCELLED]
    run(engine, queue.cancel, second.id, world.staff[0], whole_visit=True)
    with Session(engine) as session:
        assert session.get(Visit, visit.id).closed_at is not None
    assert kinds(engine, visit_id=visit.id)[-1] == EventKind.VISIT_CLOSED
    assert events(engine, kind=EventKind.CANCELLED)[0].data == {"reason": "not needed"}


# --- Counters and calling ------------------------------------------------------------------------


def test_counter_sign_in_rules(engine, world):
    """One staff member per counter and one counter per staff member; no closing mid-ticket."""
    counter_a, counter_b = world.counters[0], world.counters[1]
    alice, bob = world.staff[0], world.staff[1]
    residents, insurance = world.services["residents"], world.services["insurance"]
    counter = run(engine, queue.open_counter, counter_a, alice, [residents], at(0))
    assert counter.is_open and counter.staff_user_id == alice and counter.opened_at == at(0)
    with pytest.raises(queue.CounterClosed):
        run(engine, queue.open_counter, counter_a, bob, [residents])
    with pytest.raises(queue.CounterBusy):
        run(engine, queue.open_counter, counter_b, alice, [residents])
    with pytest.raises(ValidationFailed):
        run(engine, queue.open_counter, counter_b, bob, [])
    run(engine, queue.open_counter, counter_a, alice, [residents, insurance], at(1))
    with Session(engine) as session:
        assert queue.counter_view(session, counter_a).service_ids == sorted(
            [residents, insurance])
    issue(engine, world)
    task = call_next(engine, world, 0)
    with pytest.raises(queue.CounterBusy):
        run(engine, queue.close_counter, counter_a, alice)
    with pytest.raises(queue.CounterBusy):
        call_next(engine, world, 0)
    run(engine, queue.return_to_queue, task.id, alice)
    closed = run(engine, queue.close_counter, counter_a, bob, at(2))  # anyone may close it
    assert not closed.is_open and closed.staff_user_id is None
    with pytest.raises(queue.CounterClosed):
        run(engine, queue.close_counter, counter_a, alice)
    with pytest.raises(queue.CounterClosed):
        call_next(engine, world, 0)
    logged = events(engine, counter_id=counter_a)
    assert [e.kind for e in logged if e.task_id is None] == [
        EventKind.COUNTER_OPENED, EventKind.COUNTER_SERVICES, EventKind.COUNTER_CLOSED]
    assert logged[-1].staff_user_id == bob and logged[-1].data["signed_in_user_id"] == alice


def test_only_the_signed_in_staff_member_calls(engine, world):
    """Another user cannot call at someone else's counter."""
    open_counter(engine, world, 0)
    issue(engine, world)
    with pytest.raises(queue.CounterClosed):
        run(engine, queue.call_next, world.counters[0], world.staff[1])


def test_call_next_takes_the_longest_waiting_across_the_counters_services(engine, world):
    """Among the counter's services, the earliest in line is called first; empty → None."""
    issue(engine, world, "insurance", now=at(0))
    issue(engine, world, "residents", now=at(1))
    issue(engine, world, "childcare", now=at(2))
    open_counter(engine, world, 0, "residents", "childcare")
    numbers = []
    while (task := call_next(engine, world, 0)) is not None:
        with Session(engine) as session:
            numbers.append(session.get(Visit, task.visit_id).ticket_number)
        run(engine, queue.cancel, task.id, world.staff[0])
    assert numbers == ["A-001", "C-001"]


def test_priority_first_with_fairness(engine, world):
    """Priority tickets go first, but after N in a row a waiting normal ticket is served."""
    for minute, priority in enumerate([False, False, True, True, True, True]):
        issue(engine, world, now=at(minute), priority=priority)
    open_counter(engine, world, 0)
    rules = QueueRules(priority_streak=2)
    order = []
    for minute in range(6):
        task = call_next(engine, world, 0, now=at(10 + minute), rules=rules)
        with Session(engine) as session:
            visit = session.get(Visit, task.visit_id)
        order.append(("P" if visit.priority else "N") + visit.ticket_number[-1])
        run(engine, queue.cancel, task.id, world.staff[0])
    assert order == ["P3", "P4", "N1", "P5", "P6", "N2"]


def test_fairness_streak_is_per_counter_and_reset_by_a_normal_call(engine, world):
    """The streak counts at each counter; calling a normal ticket out of order resets it."""
    for minute, priority in enumerate([False, False, True, True, True]):
        issue(engine, world, now=at(minute), priority=priority)
    open_counter(engine, world, 0)
    open_counter(engine, world, 1)
    rules = QueueRules(priority_streak=1)

    def call(index: int) -> Task:
        task = call_next(engine, world, index, rules=rules)
        run(engine, queue.cancel, task.id, world.staff[index])
        return task

    assert call(0).visit_id == 3  # priority
    assert call(1).visit_id == 4  # priority: counter 1 has no streak yet
    with Session(engine) as session:
        normal = queue.waiting_list(session, office_id=world.office_id)[-1]
    run(engine, queue.call_task, normal.task_id, world.counters[0], world.staff[0])
    run(engine, queue.cancel, normal.task_id, world.staff[0])
    with Session(engine) as session:
        assert session.get(Counter, world.counters[0]).priority_streak == 0
        assert session.get(Counter, world.counters[1]).priority_streak == 1
    assert call(0).visit_id == 5  # streak reset: priority again
    assert call(1).visit_id == 1  # streak 1 reached: the normal one


def test_call_task_out_of_order(engine, world):
    """Staff can call any waiting ticket of the office, even of a service they do not serve."""
    issue(engine, world, "residents")
    later = issue(engine, world, "insurance")
    open_counter(engine, world, 0, "residents")
    task = run(engine, queue.call_task, first_task(engine, later).id, world.counters[0],
               world.staff[0], at(1))
    assert task.state == TaskState.CALLED and task.counter_id == world.counters[0]
    with Session(engine) as session:
        calls = queue.current_calls(session, world.office_id)
        assert [(c.ticket_number, c.counter_number) for c in calls] == [("B-001", "1")]
        assert [e.task_id for e in queue.recent_calls(session, world.office_id)] == [task.id]


# --- Estimated wait ------------------------------------------------------------------------------


def _handle(engine, world, index: int, start: datetime, minutes: float) -> None:
    """Call, start and complete the next ticket at a counter, taking `minutes`."""
    task = call_next(engine, world, index, now=start)
    run(engine, queue.start, task.id, world.staff[index], start)
    run(engine, queue.complete, task.id, world.staff[index], start + timedelta(minutes=minutes))


def test_estimated_wait_formula(engine, world):
    """W = n × h / c: people waiting × mean handling ÷ effective open counters, in minutes."""
    residents = world.services["residents"]

    def wait(now: datetime | None = None) -> timedelta:
        with Session(engine) as session:
            return queue.estimated_wait(session, residents, now or at(60))

    assert wait() == timedelta(0)  # nobody waits
    for minute in range(5):
        issue(engine, world, now=at(minute))
    # No history: h = 5 minutes; no counter open: c = 1.
    assert wait() == timedelta(minutes=25)
    open_counter(engine, world, 0)
    _handle(engine, world, 0, at(10), 4)
    _handle(engine, world, 0, at(20), 8)
    # Three wait; h = (4 + 8) / 2 = 6 minutes; one counter.
    assert wait() == timedelta(minutes=18)
    open_counter(engine, world, 1)
    assert wait() == timedelta(minutes=9)  # two counters
    open_counter(engine, world, 2, "residents", "insurance")
    assert wait() == timedelta(minutes=8)  # 18 / 2.5 = 7.2 → rounded up
    with Session(engine) as session:
        assert queue.effective_counters(session, residents) == 2.5
        assert queue.estimated_wait(session, residents, at(60), ahead=1) == timedelta(minutes=3)
    # A week later the history has aged out: back to the default handling time.
    assert wait(at(60) + timedelta(days=8)) == timedelta(minutes=6)


def test_visit_progress_counts_people_ahead(engine, world):
    """People ahead: priority ones first, then by place in line; the estimate follows."""
    normal_1 = issue(engine, world, now=at(0))
    normal_2 = issue(engine, world, now=at(1))
    priority = issue(engine, world, now=at(2), priority=True)
    with Session(engine) as session:
        progress = {visit.ticket_number: queue.visit_progress(session, visit, at(3))
                    for visit in (normal_1, normal_2, priority)}
    assert {number: p.people_ahead for number, p in progress.items()} == {
        "A-001": 1, "A-002": 2, "A-003": 0}
    assert progress["A-002"].estimated_wait == timedelta(minutes=10)
    assert progress["A-002"].step_name == "受付" and progress["A-002"].step_count == 3
    assert progress["A-003"].estimated_wait == timedelta(0)
    assert progress["A-001"].counter is None


# --- Reading the queue --------------------------------------------------------------------------


def test_waiting_list_and_overview(engine, world):
    """The screens' read helpers: minutes waited, call order, counts and the overview."""
    issue(engine, world, "residents", "insurance", now=at(0))
    issue(engine, world, "residents", now=at(5), priority=True)
    issue(engine, world, "insurance", now=at(7))
    open_counter(engine, world, 0, "residents")
    with Session(engine) as session:
        entries = queue.waiting_list(session, counter_id=world.counters[0], now=at(12))
        counts = queue.waiting_counts(session, world.office_id)
        overview = queue.queue_overview(session, world.office_id, at(12))
    assert [(e.ticket_number, e.minutes_waited, e.priority, e.task_number, e.task_count)
            for e in entries] == [("A-002", 7, True, 1, 1), ("A-001", 12, False, 1, 2)]
    assert counts == {world.services["residents"]: 2, world.services["insurance"]: 1,
                      world.services["childcare"]: 0}
    assert [(o.service.code, o.waiting, o.counters_open, o.longest_wait, o.estimated_wait)
            for o in overview] == [
        ("residents", 2, 1, timedelta(minutes=12), timedelta(minutes=10)),
        ("insurance", 1, 0, timedelta(minutes=5), timedelta(minutes=5)),
        ("childcare", 0, 0, timedelta(0), timedelta(0)),
    ]


def test_waiting_list_limit_keeps_every_ticket_on_hold(engine, world):
    """A limited list holds the first tickets in line, plus every held one (only this list
    lets staff release them), in call order."""
    visits = [issue(engine, world, "residents", now=at(minute)) for minute in range(6)]
    run(engine, queue.hold, first_task(engine, visits[4]).id, world.staff[0], at(8))
    with Session(engine) as session:
        limited = queue.waiting_list(session, service_ids=[world.services["residents"]],
                                     limit=2, now=at(10))
        everything = queue.waiting_list(session, service_ids=[world.services["residents"]],
                                        now=at(10))
    assert [(e.ticket_number, e.state) for e in limited] == [
        ("A-001", TaskState.WAITING), ("A-002", TaskState.WAITING),
        ("A-005", TaskState.ON_HOLD)]
    assert [e.ticket_number for e in everything] == [
        "A-001", "A-002", "A-003", "A-004", "A-005", "A-006"]


def test_a_failed_action_leaves_neither_state_nor_event(engine, world):
    """State and event share one transaction: an error after the change rolls both back."""
    issue(engine, world)
    open_counter(engine, world, 0)
    logged = len(events(engine))
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        queue.call_next(session, world.counters[0], world.staff[0])
        raise RuntimeError("the request failed after the call")
    assert len(events(engine)) == logged
    with Session(engine) as session:
        assert queue.waiting_counts(session, world.office_id)[world.services["residents"]] == 1


def test_rules_from_settings():
    """The engine's rules come from FRONTYARD_TIMEZONE, _PRIORITY_STREAK, _TRANSFER_PLACEMENT."""
    rules = QueueRules.from_settings(Settings(timezone="Europe/Paris", priority_streak=5,
                                              transfer_placement="back"))
    assert rules == QueueRules(tz=ZoneInfo("Europe/Paris"), priority_streak=5,
                               transfer_placement=Placement.BACK)
    assert QueueRules.from_settings(Settings()) == queue.DEFAULT_RULES


def test_migrations_match_the_models(engine):
    """The migrated schema is exactly what the models describe (no forgotten migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from composition.schema import metadata

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata())
    assert differences == []


def test_demo_seeds_a_live_queue_once(engine, settings):
    """`frontyard demo` leaves a few tickets waiting and one called, and only into an empty
    queue (running it again issues nothing)."""
    from composition.demo import DEMO_TICKETS, seed_demo

    lines = list(seed_demo(engine, settings))
    assert any("is called to counter 1" in line for line in lines)
    with Session(engine) as session:
        office_id = session.exec(select(Visit.office_id)).first()
        calls = queue.current_calls(session, office_id)
        waiting = sum(queue.waiting_counts(session, office_id).values())
        visits = len(session.exec(select(Visit)).all())
    assert visits == len(DEMO_TICKETS)
    assert [call.counter_number for call in calls] == ["1"]
    assert waiting == len(DEMO_TICKETS) - 1
    list(seed_demo(engine, settings))
    with Session(engine) as session:
        assert len(session.exec(select(Visit)).all()) == len(DEMO_TICKETS)
