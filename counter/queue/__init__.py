"""The queue engine: tickets, counters and the life of every task, with its event log.

Pure domain: plain functions over a SQLModel session, no HTTP. Every function that changes
state also appends its `Event` rows to the same session, and only flushes: the caller commits
(normally inside `frontyard.database.session_scope`), so a change and its events are stored
together or not at all.

Concurrency. Every function that changes a task first locks the rows it reads, in one order
(counter → visit → task), so concurrent actions serialise instead of overwriting each other:
- SQLite: the engine starts every transaction with BEGIN IMMEDIATE, so writers take turns.
- PostgreSQL: `SELECT … FOR UPDATE` on those rows; `call_next` takes the first waiting task
  with `FOR UPDATE SKIP LOCKED`, so two counters can never claim the same task; ticket numbers
  come from one `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement.

States of a task (see docs/queue.md for the full diagram)::

    pending ──(previous task finished)──▶ waiting ◀──release── on_hold
    waiting ──call──▶ called ──start──▶ serving ──complete──▶ done
    called ──recall──▶ called            serving ──advance_step──▶ serving (next step)
    called ──no_show──▶ no_show ──return_to_queue──▶ waiting
    waiting/called/serving ──hold──▶ on_hold        called ──return_to_queue──▶ waiting
    any unfinished ──transfer──▶ waiting in another service (pending stays pending)
    any unfinished ──cancel──▶ cancelled

Illegal moves raise `IllegalTransition` (a `frontyard.errors.Conflict`, HTTP 409).

The engine is split by concept; this package is its public interface (import from here):
- `rules`: the configurable rules, states, actions, transition table, limits and errors;
- `rows`: loading rows locked, in the lock order above; `eventlog`: appending the events;
- `tickets`: numbering and issuing tickets; `routing`: multi-step visits and transfers;
- `counters`: opening and closing counters, calling; `transitions`: serving and the exceptions;
- `permissions`: which services each staff member and each counter may serve;
- `estimates`: the estimated wait; `overview`: the read models for the screens and the API.
"""

from __future__ import annotations

from counter.queue.counters import (
    call_next,
    call_task,
    close_counter,
    open_counter,
    recall,
)
from counter.queue.estimates import (
    DEFAULT_HANDLING,
    HANDLING_SAMPLE,
    HANDLING_WINDOW,
    effective_counters,
    estimated_wait,
    mean_handling_time,
    people_ahead,
    waiting_count,
)
from counter.queue.overview import (
    CallEntry,
    CounterView,
    ServiceOverview,
    VisitProgress,
    WaitingEntry,
    counter_view,
    current_calls,
    queue_overview,
    recent_calls,
    visit_progress,
    visit_tasks,
    waiting_counts,
    waiting_list,
)
from counter.queue.permissions import (
    allowed,
    check_may_serve,
    counter_services,
    staff_services,
)
from counter.queue.routing import (
    transfer,
)
from counter.queue.rules import (
    ACTION_LABELS,
    ACTIVE_STATES,
    ALLOWED_FROM,
    AT_COUNTER_STATES,
    DEFAULT_RULES,
    DEFAULT_TZ,
    FINAL_STATES,
    MAX_PROCEDURE_CODE,
    MAX_REASON,
    MAX_TASKS_PER_VISIT,
    STATE_LABELS,
    STATUS_TOKEN_BYTES,
    Action,
    CounterBusy,
    CounterClosed,
    IllegalTransition,
    LastStep,
    Placement,
    QueueConflict,
    QueueRules,
    step_name,
)
from counter.queue.tickets import (
    format_ticket_number,
    issue_ticket,
    next_ticket_number,
    ticket_day,
    visit_for_token,
)
from counter.queue.transitions import (
    advance_step,
    cancel,
    complete,
    hold,
    no_show,
    release,
    return_to_queue,
    start,
)

__all__ = [
    "ACTION_LABELS",
    "ACTIVE_STATES",
    "ALLOWED_FROM",
    "AT_COUNTER_STATES",
    "DEFAULT_HANDLING",
    "DEFAULT_RULES",
    "DEFAULT_TZ",
    "FINAL_STATES",
    "HANDLING_SAMPLE",
    "HANDLING_WINDOW",
    "MAX_PROCEDURE_CODE",
    "MAX_REASON",
    "MAX_TASKS_PER_VISIT",
    "STATE_LABELS",
    "STATUS_TOKEN_BYTES",
    "Action",
    "CallEntry",
    "CounterBusy",
    "CounterClosed",
    "CounterView",
    "IllegalTransition",
    "LastStep",
    "Placement",
    "QueueConflict",
    "QueueRules",
    "ServiceOverview",
    "VisitProgress",
    "WaitingEntry",
    "advance_step",
    "allowed",
    "call_next",
    "call_task",
    "cancel",
    "check_may_serve",
    "close_counter",
    "complete",
    "counter_services",
    "counter_view",
    "current_calls",
    "effective_counters",
    "estimated_wait",
    "format_ticket_number",
    "hold",
    "issue_ticket",
    "mean_handling_time",
    "next_ticket_number",
    "no_show",
    "open_counter",
    "people_ahead",
    "queue_overview",
    "recall",
    "recent_calls",
    "release",
    "return_to_queue",
    "staff_services",
    "start",
    "step_name",
    "ticket_day",
    "transfer",
    "visit_for_token",
    "visit_progress",
    "visit_tasks",
    "waiting_count",
    "waiting_counts",
    "waiting_list",
]
