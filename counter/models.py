"""Tables of the queue. The Event table is the single source of truth for what happened."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from frontyard.database import UTCDateTime, enum_column, utcnow


def _json_column() -> Any:
    """A JSON column that is never NULL."""
    return Column(JSON, nullable=False)


def _utc_column(nullable: bool = False, index: bool = False) -> Any:
    """An aware-UTC timestamp column."""
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Office(SQLModel, table=True):
    """A city hall or branch office with its own lobby, counters and ticket numbering."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    names: dict[str, str] = Field(default_factory=dict, sa_column=_json_column())
    address: str = Field(default="", max_length=200)


class ServiceKind(StrEnum):
    """How residents reach a service: a queue with tickets, by appointment, or information."""

    QUEUE = "queue"
    APPOINTMENT = "appointment"  # residents book ahead; the kiosk issues no ticket
    INFORMATION = "information"  # the kiosk explains; there is nothing to queue for


class Service(SQLModel, table=True):
    """One queue: the procedures a section handles, with its ticket prefix and optional steps."""

    __table_args__ = (UniqueConstraint("office_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    code: str = Field(max_length=32)
    prefix: str = Field(max_length=4)
    names: dict[str, str] = Field(default_factory=dict, sa_column=_json_column())
    section: dict[str, str] = Field(default_factory=dict, sa_column=_json_column())
    #: Ordered step names such as 受付 → 確認 → 審査 → 交付; empty for a one-step service.
    steps: list[str] = Field(default_factory=list, sa_column=_json_column())
    #: What each step is called in each language, {step: {locale: name}}, for residents' screens;
    #: `steps` stays the key that events and analytics record.
    step_names: dict[str, dict[str, str]] = Field(default_factory=dict,
                                                  sa_column=_json_column())
    sort_order: int = 0
    active: bool = True
    #: "#RRGGBB" for boards and tickets; empty for the default colour.
    colour: str = Field(default="", max_length=7)
    kind: ServiceKind = Field(default=ServiceKind.QUEUE,
                              sa_column=enum_column(ServiceKind))


class Counter(SQLModel, table=True):
    """A desk where one staff member serves residents from one or more services."""

    __table_args__ = (UniqueConstraint("office_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    number: str = Field(max_length=16)
    names: dict[str, str] = Field(default_factory=dict, sa_column=_json_column())
    #: Where residents find it ("2F", "North wing").
    zone: str = Field(default="", max_length=64)
    is_open: bool = False
    staff_user_id: int | None = Field(default=None, foreign_key="user.id")
    opened_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    #: Priority tickets called here in a row; the fairness rule serves a normal one after N.
    priority_streak: int = 0


class CounterService(SQLModel, table=True):
    """Which services a counter serves at the moment (chosen by the staff member)."""

    counter_id: int = Field(foreign_key="counter.id", primary_key=True)
    service_id: int = Field(foreign_key="service.id", primary_key=True)


class CounterAllowedService(SQLModel, table=True):
    """Which services a counter may serve (set by the admin); no rows: every service."""

    counter_id: int = Field(foreign_key="counter.id", primary_key=True)
    service_id: int = Field(foreign_key="service.id", primary_key=True)


class StaffService(SQLModel, table=True):
    """Which services a staff member may serve (set by the admin); no rows: every service."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    service_id: int = Field(foreign_key="service.id", primary_key=True)


class TicketSequence(SQLModel, table=True):
    """The last number issued per office, prefix and local day; incremented under a row lock."""

    office_id: int = Field(foreign_key="office.id", primary_key=True)
    prefix: str = Field(primary_key=True, max_length=4)
    day: date = Field(primary_key=True)
    last_number: int = 0


#: Random bytes of a visit's public id (22 URL-safe characters): unguessable, unlike its id.
PUBLIC_ID_BYTES = 16


def new_public_id() -> str:
    """A fresh public id for a visit, to put in staff pages' addresses."""
    return secrets.token_urlsafe(PUBLIC_ID_BYTES)


class Visit(SQLModel, table=True):
    """One resident's stay: one ticket number from arrival to the last procedure."""

    __table_args__ = (UniqueConstraint("office_id", "ticket_day", "ticket_number"),)

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    ticket_number: str = Field(max_length=16)
    ticket_day: date
    status_token: str = Field(unique=True, max_length=64)
    #: The visit in staff pages' addresses (/forms/visit/<public_id>): ids can be counted.
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True,
                           max_length=32, sa_column_kwargs={"default": new_public_id})
    locale: str = Field(default="ja", max_length=16)
    priority: bool = False
    issued_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(index=True))
    closed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    issued_by_device_id: int | None = Field(default=None, foreign_key="device.id")


class VisitDetails(SQLModel, table=True):
    """Personal details given once at the kiosk; deleted by the retention rule."""

    visit_id: int = Field(foreign_key="visit.id", primary_key=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
    source: str = Field(default="manual", max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class TaskState(StrEnum):
    """Where a task stands; transitions are checked by the queue engine."""

    PENDING = "pending"  # a later step of the visit, not yet in a queue
    WAITING = "waiting"
    ON_HOLD = "on_hold"
    CALLED = "called"
    SERVING = "serving"
    NO_SHOW = "no_show"
    DONE = "done"
    CANCELLED = "cancelled"


class Task(SQLModel, table=True):
    """One procedure of a visit at one service, in visiting order."""

    __table_args__ = (
        Index("ix_task_queue", "service_id", "state", "ranked_at"),
        Index("ix_task_done", "service_id", "done_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    service_id: int = Field(foreign_key="service.id")
    position: int
    procedure_code: str | None = Field(default=None, max_length=64)
    state: TaskState = Field(default=TaskState.PENDING, sa_column=enum_column(TaskState))
    step_index: int = 0
    #: When the task (re-)entered its queue: minutes waited are counted from it.
    queued_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    #: The task's place in line (the queue is ordered by it, priority first): normally when
    #: it first entered a queue; a hold, a return or a transfer may keep or move it.
    ranked_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    #: Why staff put the task on hold (shown on the staff terminal), while it is on hold.
    hold_reason: str | None = Field(default=None, max_length=200)
    called_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    call_count: int = 0
    counter_id: int | None = Field(default=None, foreign_key="counter.id")
    staff_user_id: int | None = Field(default=None, foreign_key="user.id")
    started_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    done_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class EventKind(StrEnum):
    """Everything that can happen; analytics read these."""

    ISSUED = "issued"
    QUEUED = "queued"
    CALLED = "called"
    RECALLED = "recalled"
    STARTED = "started"
    STEP = "step"
    DONE = "done"
    NO_SHOW = "no_show"
    RETURNED = "returned"
    HELD = "held"
    RELEASED = "released"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"
    VISIT_CLOSED = "visit_closed"
    COUNTER_OPENED = "counter_opened"
    COUNTER_CLOSED = "counter_closed"
    COUNTER_SERVICES = "counter_services"  # an open counter's staff chose other services


class Event(SQLModel, table=True):
    """An append-only record of one thing that happened, written with the change it records."""

    __table_args__ = (Index("ix_event_office_at", "office_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    kind: EventKind = Field(sa_column=enum_column(EventKind, index=True))
    office_id: int = Field(foreign_key="office.id")
    visit_id: int | None = Field(default=None, foreign_key="visit.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id")
    service_id: int | None = Field(default=None, foreign_key="service.id")
    step: str | None = Field(default=None, max_length=64)
    counter_id: int | None = Field(default=None, foreign_key="counter.id")
    staff_user_id: int | None = Field(default=None, foreign_key="user.id")
    data: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
