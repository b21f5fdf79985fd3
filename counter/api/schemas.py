"""The API's request and response bodies (pydantic models): what a client may send and what it
gets back. Apart from the endpoints because the OpenAPI document describes the same models, and
because they are plain data with no HTTP in them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from counter import queue
from counter.models import TaskState
from frontyard import i18n

#: The largest id a row can have (32-bit on both databases); larger ones are not found.
MAX_ID = 2**31 - 1


# ---------------------------------------------------------------------------------------------
# Request bodies
# ---------------------------------------------------------------------------------------------


class ApiModel(BaseModel):
    """A request body: unknown fields are refused, so a typo is an error and not ignored."""

    model_config = ConfigDict(extra="forbid")


Code = Annotated[str, StringConstraints(min_length=1, max_length=32)]  # service or office
ProcedureCode = Annotated[str, StringConstraints(min_length=1,
                                                 max_length=queue.MAX_PROCEDURE_CODE)]


class TicketRequest(ApiModel):
    """Issue a ticket for one visit."""

    services: list[Code] = Field(min_length=1, max_length=queue.MAX_TASKS_PER_VISIT,
                                 description="Service codes in visiting order, one per task.")
    procedures: list[ProcedureCode | None] | None = Field(
        default=None, description="The procedure code of each task, parallel to `services`.")
    office: Code | None = Field(
        default=None, description="Office code; needed only when the kiosk has no office.")
    locale: str = Field(default="ja", description="The resident's language code.")
    priority: bool = Field(default=False, description="A priority ticket.")
    details: dict[str, Any] | None = Field(
        default=None, max_length=50,
        description="Personal details given once (stored apart, purged after the visit).")
    outside_hours: bool = Field(
        default=False, description="Issue although the office is closed or a service is past "
        "its ticket cut-off (a resident let in at closing): signed-in staff only, audited.")

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if not i18n.is_supported(value):
            raise ValueError(f"unknown language code: {value!r}")
        return value


class OpenCounterRequest(ApiModel):
    """Sign in to a counter serving these services."""

    services: list[Code] = Field(min_length=1, max_length=50, description="Service codes.")


class CallRequest(ApiModel):
    """Call this ticket to a counter."""

    counter_id: int = Field(ge=1, le=MAX_ID)


class HoldRequest(ApiModel):
    """Put a ticket on hold."""

    reason: str | None = Field(default=None, max_length=queue.MAX_REASON)


class TransferRequest(ApiModel):
    """Move a ticket to another service."""

    service: Code = Field(description="The target service's code.")


class CancelRequest(ApiModel):
    """Cancel a ticket's task, or its whole visit."""

    reason: str | None = Field(default=None, max_length=queue.MAX_REASON)
    whole_visit: bool = False


class NoBody(ApiModel):
    """No fields (an empty body or `{}`)."""


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


class TaskOut(BaseModel):
    """A task as staff see it (no personal details)."""

    id: int
    visit_id: int
    ticket_number: str
    priority: bool
    service: Code
    state: TaskState
    step_name: str | None
    step_number: int
    step_count: int
    task_number: int
    task_count: int
    counter_id: int | None
    counter_number: str | None
    call_count: int
    queued_at: datetime | None
    called_at: datetime | None


class TaskResult(BaseModel):
    """The task an action produced; `task` is null when call-next found nobody waiting."""

    task: TaskOut | None


class IssuedTask(BaseModel):
    """One procedure of a new ticket."""

    service: Code
    service_name: str
    state: TaskState


class TicketIssued(BaseModel):
    """A new ticket: what the kiosk prints (the status URL goes into the QR code)."""

    ticket_number: str
    ticket_day: date
    issued_at: datetime
    status_token: str
    status_url: str
    priority: bool
    tasks: list[IssuedTask]
    people_ahead: int
    estimated_wait_minutes: int


class TicketStatus(BaseModel):
    """A ticket's progress for the resident's phone: no personal data."""

    ticket_number: str
    closed: bool
    state: TaskState | None
    service_name: str | None
    step_name: str | None
    step_number: int
    step_count: int
    task_number: int
    task_count: int
    people_ahead: int | None
    estimated_wait_minutes: int | None
    counter_number: str | None
    counter_name: str | None
    remaining_services: list[str]


class ServiceState(BaseModel):
    """One service's queue now."""

    code: Code
    name: str
    prefix: str
    waiting: int
    on_hold: int
    counters_open: int
    estimated_wait_minutes: int
    longest_wait_minutes: int


class CallOut(BaseModel):
    """A ticket called to a counter."""

    ticket_number: str
    counter_number: str
    service: Code
    called_at: datetime
    call_count: int


class QueueState(BaseModel):
    """An office's queues and current calls (public: no personal data)."""

    office: Code
    at: datetime
    services: list[ServiceState]
    calls: list[CallOut]


class WaitingOut(BaseModel):
    """A ticket in a counter's waiting list."""

    task_id: int
    ticket_number: str
    service: Code
    state: TaskState
    priority: bool
    minutes_waited: int
    task_number: int
    task_count: int
    hold_reason: str | None


class CounterState(BaseModel):
    """A counter, its ticket in hand and its waiting list."""

    id: int
    number: str
    is_open: bool
    staff_user_id: int | None
    services: list[Code]
    current: TaskOut | None
    waiting: list[WaitingOut]


class ErrorOut(BaseModel):
    """Every error: a title, a translated message and, for 422, a message per field."""

    error: str
    detail: str
    fields: dict[str, str] | None = None
