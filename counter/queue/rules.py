"""The engine's rules: configurable rules, task states, the transition table, limits, errors.

Separate because every other part of the queue engine reads them, and none of them touches the
database: this is the state machine on paper, and the vocabulary of the domain errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from counter.models import Service, Task, TaskState, Visit
from frontyard.database import utcnow
from frontyard.errors import Conflict
from frontyard.i18n import gettext as _
from frontyard.i18n import lazy_gettext

if TYPE_CHECKING:
    from frontyard.settings import Settings

# ---------------------------------------------------------------------------------------------
# Rules (from settings) and constants
# ---------------------------------------------------------------------------------------------


class Placement(StrEnum):
    """Where a transferred task joins its new queue (`FRONTYARD_TRANSFER_PLACEMENT`)."""

    FRONT = "front"  # first in line there (priority tickets still go first)
    ORIGINAL = "original"  # at its old place in line: when it first joined a queue
    BACK = "back"  # behind everyone, as if it had just arrived


#: FRONTYARD_TIMEZONE's default; callers pass the configured zone through QueueRules.
DEFAULT_TZ = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class QueueRules:
    """The configurable rules of the engine; build one with `QueueRules.from_settings`."""

    #: The city's time zone: ticket numbers restart at its midnight.
    tz: tzinfo = DEFAULT_TZ
    #: After this many priority calls in a row at one counter, a waiting normal ticket is next.
    priority_streak: int = 3
    #: Where a transferred task is placed in its new queue.
    transfer_placement: Placement = Placement.ORIGINAL

    @classmethod
    def from_settings(cls, settings: Settings) -> QueueRules:
        """The rules configured by FRONTYARD_TIMEZONE, _PRIORITY_STREAK, _TRANSFER_PLACEMENT."""
        return cls(tz=settings.tz, priority_streak=settings.priority_streak,
                   transfer_placement=Placement(settings.transfer_placement))


DEFAULT_RULES = QueueRules()

#: Tasks that are in a queue or at a counter: a visit has at most one of them at a time.
ACTIVE_STATES = frozenset({TaskState.WAITING, TaskState.ON_HOLD, TaskState.CALLED,
                           TaskState.SERVING, TaskState.NO_SHOW})
#: Tasks that will not change any more.
FINAL_STATES = frozenset({TaskState.DONE, TaskState.CANCELLED})
#: Tasks occupying a counter: a counter holds at most one.
AT_COUNTER_STATES = frozenset({TaskState.CALLED, TaskState.SERVING})

STATUS_TOKEN_BYTES = 32  # 256 bits: unguessable, fits Visit.status_token (64 chars)
MAX_TASKS_PER_VISIT = 20
MAX_REASON = 200
MAX_PROCEDURE_CODE = 64  # Task.procedure_code


class Action(StrEnum):
    """What staff can do to a task; each is allowed only from certain states."""

    CALL = "call"
    RECALL = "recall"
    START = "start"
    ADVANCE = "advance"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    RETURN = "return"
    HOLD = "hold"
    RELEASE = "release"
    TRANSFER = "transfer"
    CANCEL = "cancel"


_UNFINISHED = frozenset(TaskState) - FINAL_STATES
#: The transition table: the states each action may start from.
ALLOWED_FROM: dict[Action, frozenset[TaskState]] = {
    Action.CALL: frozenset({TaskState.WAITING}),
    Action.RECALL: frozenset({TaskState.CALLED}),
    Action.START: frozenset({TaskState.CALLED}),
    Action.ADVANCE: frozenset({TaskState.SERVING}),
    Action.COMPLETE: frozenset({TaskState.SERVING}),
    Action.NO_SHOW: frozenset({TaskState.CALLED}),
    Action.RETURN: frozenset({TaskState.NO_SHOW, TaskState.CALLED}),
    Action.HOLD: frozenset({TaskState.WAITING, TaskState.CALLED, TaskState.SERVING}),
    Action.RELEASE: frozenset({TaskState.ON_HOLD}),
    Action.TRANSFER: _UNFINISHED,
    Action.CANCEL: _UNFINISHED,
}

#: Translated names of the states and actions, for messages and the screens.
STATE_LABELS: dict[TaskState, Any] = {
    TaskState.PENDING: lazy_gettext("not yet in line"),
    TaskState.WAITING: lazy_gettext("waiting"),
    TaskState.ON_HOLD: lazy_gettext("on hold"),
    TaskState.CALLED: lazy_gettext("called"),
    TaskState.SERVING: lazy_gettext("being served"),
    TaskState.NO_SHOW: lazy_gettext("no-show"),
    TaskState.DONE: lazy_gettext("done"),
    TaskState.CANCELLED: lazy_gettext("cancelled"),
}
ACTION_LABELS: dict[Action, Any] = {
    Action.CALL: lazy_gettext("call the ticket"),
    Action.RECALL: lazy_gettext("call again"),
    Action.START: lazy_gettext("start serving"),
    Action.ADVANCE: lazy_gettext("next step"),
    Action.COMPLETE: lazy_gettext("complete the task"),
    Action.NO_SHOW: lazy_gettext("mark as no-show"),
    Action.RETURN: lazy_gettext("return to the queue"),
    Action.HOLD: lazy_gettext("put on hold"),
    Action.RELEASE: lazy_gettext("release the hold"),
    Action.TRANSFER: lazy_gettext("transfer to another service"),
    Action.CANCEL: lazy_gettext("cancel the ticket"),
}

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class QueueConflict(Conflict):
    """The queue refuses an action in its current state (HTTP 409, translated message)."""


class IllegalTransition(QueueConflict):
    """The action is not allowed from the task's state, e.g. starting a waiting ticket."""

    def __init__(self, task: Task, ticket_number: str, action: Action) -> None:
        super().__init__(
            _("%(number)s: “%(action)s” is not possible while the ticket is %(state)s.")
            % {"number": ticket_number, "action": ACTION_LABELS[action],
               "state": STATE_LABELS[task.state]},
        )
        self.task_id = task.id
        self.state = task.state
        self.action = action


class LastStep(QueueConflict):
    """`advance_step` on a task already at its service's last step."""


class CounterClosed(QueueConflict):
    """The counter is closed, or someone else is signed in to it."""


class CounterBusy(QueueConflict):
    """The counter (or the staff member) already has a ticket or a counter in hand."""


# ---------------------------------------------------------------------------------------------
# Helpers shared by the whole engine
# ---------------------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError("naive datetime given to the queue engine")
    return now


def _require(task: Task, visit: Visit, action: Action) -> None:
    if task.state not in ALLOWED_FROM[action]:
        raise IllegalTransition(task, visit.ticket_number, action)


def step_name(service: Service, index: int) -> str | None:
    """The name of a service's step by index (受付…), or None for a service without steps."""
    return service.steps[index] if 0 <= index < len(service.steps) else None
