"""The JSON API under /api/v1: kiosks and ticket printers issue tickets, phones read a
ticket's status, anyone reads the queue, signed-in staff run counters and act on tickets.

Request bodies are validated here with pydantic (422 with a message per field; malformed JSON
is a 400); the rules live in `counter.queue`. The OpenAPI 3.1 document at /api/openapi.json is
built from the same table of operations and models that defines the routes, so it cannot
drift from them. Domain work runs in a worker thread (the database may make a writer wait).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic.json_schema import models_json_schema
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from counter import queue
from counter.models import Counter, Office, Service, Task, TaskState, Visit
from frontyard import i18n, realtime
from frontyard.auth import DeviceKind, Role
from frontyard.database import session_scope, utcnow
from frontyard.errors import DomainError, NotFound, ValidationFailed
from frontyard.guards import current_device, current_user, require_device, require_role
from frontyard.i18n import gettext as _
from frontyard.jsonbody import loads_body
from frontyard.ratelimit import limit_status_polling, limit_ticket_issuing

API_PREFIX = "/api/v1"
OPENAPI_PATH = "/api/openapi.json"
#: Where a resident's phone follows a ticket (the page the ticket's QR code opens).
STATUS_PAGE = "/status/{token}"
MAX_BODY_BYTES = 64 * 1024
#: The largest id a row can have (32-bit on both databases); larger ones are not found.
MAX_ID = 2**31 - 1
#: Hub topic on which every queue change of an office is announced after it is committed.
QUEUE_TOPIC = "office:{office_id}"  # the topic the live screens watch (counter.screens)

ModelT = TypeVar("ModelT", bound=BaseModel)
ResultT = TypeVar("ResultT")


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


# ---------------------------------------------------------------------------------------------
# Plumbing: operations, bodies, the database
# ---------------------------------------------------------------------------------------------

Auth = Literal["kiosk", "staff"] | None
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Operation:
    """One API endpoint with what the OpenAPI document says about it."""

    method: str
    path: str
    endpoint: Handler
    summary: str
    response: type[BaseModel]
    body: type[BaseModel] | None = None
    status: int = 200
    auth: Auth = None
    errors: tuple[int, ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)


OPERATIONS: list[Operation] = []
_GUARDS: dict[str, Callable[[Handler], Handler]] = {
    "kiosk": require_device(DeviceKind.KIOSK),
    "staff": require_role(Role.STAFF),
}


def operation(method: str, path: str, *, summary: str, response: type[BaseModel],
              body: type[BaseModel] | None = None, status: int = 200, auth: Auth = None,
              errors: tuple[int, ...] = (), tag: str) -> Callable[[Handler], Handler]:
    """Register an endpoint (behind its guard) and describe it for the OpenAPI document."""

    def register(endpoint: Handler) -> Handler:
        guarded = _GUARDS[auth](endpoint) if auth else endpoint
        OPERATIONS.append(Operation(method, API_PREFIX + path, guarded, summary, response, body,
                                    status, auth, errors, (tag,)))
        return guarded

    return register


async def _read_body(request: Request) -> bytes:
    """The request body, refused with 413 past MAX_BODY_BYTES (without reading it all)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(413)
        chunks.append(chunk)
    return b"".join(chunks)


async def parse_body(request: Request, model: type[ModelT]) -> ModelT:
    """Validate the JSON body against `model`: 400 if it is not JSON, 422 per field if invalid.

    An empty body counts as `{}`.
    """
    raw = await _read_body(request)
    try:
        data = loads_body(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as error:
        raise DomainError(_("The request body is not valid JSON.")) from error
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = {".".join(str(part) for part in problem["loc"]) or "body": problem["msg"]
                  for problem in error.errors(include_url=False)}
        raise ValidationFailed(_("Some fields are not valid."), **fields) from error


async def in_transaction(request: Request, work: Callable[[Session], ResultT]) -> ResultT:
    """Run `work` in one committed transaction, in a worker thread."""
    engine = request.app.state.engine

    def job() -> ResultT:
        with session_scope(engine) as session:
            return work(session)

    return await run_in_threadpool(job)


async def change(request: Request, work: Callable[[Session], tuple[int | None, BaseModel]],
                 status: int = 200) -> Response:
    """Run a state change in one transaction that also announces it to its office's screens.

    `work` returns the office whose queue changed (None: nothing changed) and the response.
    The announcement rides in the same transaction (`frontyard.realtime.announce`), so it
    reaches every worker's screens on PostgreSQL and only if the change was committed.
    """
    hub = request.app.state.hub

    def work_and_announce(session: Session) -> BaseModel:
        office_id, result = work(session)
        if office_id is not None:
            realtime.announce(session, hub, QUEUE_TOPIC.format(office_id=office_id),
                              {"office_id": office_id})
        return result

    return respond(await in_transaction(request, work_and_announce), status)


def rules(request: Request) -> queue.QueueRules:
    """The engine's rules from the app's settings."""
    return queue.QueueRules.from_settings(request.app.state.settings)


def respond(model: BaseModel, status: int = 200) -> JSONResponse:
    """A pydantic model as a JSON response."""
    return JSONResponse(model.model_dump(mode="json"), status_code=status)


def _minutes(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds() // 60)


def _path_int(request: Request, name: str) -> int:
    """An id from the path; one no database row can have is simply not found."""
    value = int(request.path_params[name])
    if not 0 < value <= MAX_ID:
        raise NotFound(_("This ticket does not exist.") if name == "task_id"
                       else _("This counter does not exist."))
    return value


def _user_id(request: Request) -> int:
    user = current_user(request)
    assert user is not None and user.id is not None  # the staff guard let the request in
    return user.id


def _office_by_code(session: Session, code: str) -> Office:
    office = session.exec(select(Office).where(Office.code == code)).first()
    if office is None:
        raise NotFound(_("This office does not exist."))
    return office


def _service_ids(session: Session, office_id: int, codes: list[str], field_name: str) -> list[int]:
    found: dict[str, int] = {code: service_id for code, service_id in session.exec(
        select(Service.code, Service.id).where(
            Service.office_id == office_id, col(Service.code).in_(codes))).all()
        if service_id is not None}
    unknown = sorted(set(codes) - set(found))
    if unknown:
        message = _("Unknown service: %(codes)s") % {"codes": ", ".join(unknown)}
        raise ValidationFailed(message, **{field_name: message})
    return [found[code] for code in codes]


def task_out(session: Session, task: Task) -> TaskOut:
    """The staff view of a task."""
    visit = session.get(Visit, task.visit_id)
    service = session.get(Service, task.service_id)
    assert visit is not None and service is not None
    counter = session.get(Counter, task.counter_id) if task.counter_id else None
    tasks = queue.visit_tasks(session, visit)
    return TaskOut(
        id=task.id, visit_id=visit.id, ticket_number=visit.ticket_number,  # type: ignore[arg-type]
        priority=visit.priority, service=service.code, state=task.state,
        step_name=queue.step_name(service, task.step_index),
        step_number=task.step_index + 1 if service.steps else 0, step_count=len(service.steps),
        task_number=task.position + 1, task_count=len(tasks),
        counter_id=task.counter_id, counter_number=counter.number if counter else None,
        call_count=task.call_count, queued_at=task.queued_at, called_at=task.called_at,
    )


def counter_state(session: Session, counter_id: int) -> CounterState:
    """A counter with its ticket in hand and its waiting list."""
    view = queue.counter_view(session, counter_id)
    codes = {service.id: service.code for service in session.exec(
        select(Service).where(Service.office_id == view.counter.office_id))}
    waiting = queue.waiting_list(session, counter_id=counter_id)
    return CounterState(
        id=view.counter.id, number=view.counter.number,  # type: ignore[arg-type]
        is_open=view.counter.is_open, staff_user_id=view.counter.staff_user_id,
        services=[codes[sid] for sid in view.service_ids],
        current=task_out(session, view.current) if view.current else None,
        waiting=[WaitingOut(task_id=entry.task_id, ticket_number=entry.ticket_number,
                            service=codes[entry.service_id], state=entry.state,
                            priority=entry.priority, minutes_waited=entry.minutes_waited,
                            task_number=entry.task_number, task_count=entry.task_count,
                            hold_reason=entry.hold_reason) for entry in waiting],
    )


def _office_of_task(session: Session, task: Task) -> int:
    visit = session.get(Visit, task.visit_id)
    assert visit is not None
    return visit.office_id


# ---------------------------------------------------------------------------------------------
# Tickets and the queue (kiosks, phones, anyone)
# ---------------------------------------------------------------------------------------------


@operation("POST", "/tickets", summary="Issue a ticket (kiosk device token)",
           response=TicketIssued, body=TicketRequest, status=201, auth="kiosk",
           errors=(400, 401, 403, 404, 413, 422, 429), tag="tickets")
async def issue_ticket(request: Request) -> Response:
    """A kiosk (Authorization: Bearer <device token>) or staff member issues a ticket.

    Each kiosk (or staff member) may issue `FRONTYARD_TICKET_RATE_LIMIT` tickets per window;
    past it, 429 with Retry-After.
    """
    body = await parse_body(request, TicketRequest)
    limit_ticket_issuing(request)
    device = current_device(request)
    engine_rules = rules(request)
    base_url = request.app.state.settings.base_url.rstrip("/")

    def work(session: Session) -> tuple[int, TicketIssued]:
        office_id = device.office_id if device is not None else None
        if body.office is not None:
            office = _office_by_code(session, body.office)
            if office_id is not None and office.id != office_id:
                message = _("This kiosk belongs to another office.")
                raise ValidationFailed(message, office=message)
            office_id = office.id
        if office_id is None:
            message = _("Name the office.")
            raise ValidationFailed(message, office=message)
        visit = queue.issue_ticket(
            session, office_id=office_id, service_codes=body.services, locale=body.locale,
            priority=body.priority, details=body.details,
            device_id=device.id if device is not None else None,
            procedure_codes=body.procedures, rules=engine_rules)
        progress = queue.visit_progress(session, visit)
        with i18n.use_locale(visit.locale):
            tasks = [IssuedTask(service=service.code, state=task.state,
                                service_name=i18n.translate_map(service.names))
                     for task in queue.visit_tasks(session, visit)
                     if (service := session.get(Service, task.service_id)) is not None]
        return office_id, TicketIssued(
            ticket_number=visit.ticket_number, ticket_day=visit.ticket_day,
            issued_at=visit.issued_at, status_token=visit.status_token,
            status_url=base_url + STATUS_PAGE.format(token=visit.status_token),
            priority=visit.priority, tasks=tasks, people_ahead=progress.people_ahead or 0,
            estimated_wait_minutes=_minutes(progress.estimated_wait) or 0)

    return await change(request, work, 201)


@operation("GET", "/tickets/{token}", summary="A ticket's status (status token; public)",
           response=TicketStatus, errors=(404, 429), tag="tickets")
async def ticket_status(request: Request) -> Response:
    """Where a ticket stands, in the resident's language, without personal data.

    Limited per ticket (`FRONTYARD_STATUS_RATE_LIMIT`); past it, 429 with Retry-After.
    """
    token = request.path_params["token"]
    limit_status_polling(request, token)

    def work(session: Session) -> TicketStatus:
        visit = queue.visit_for_token(session, token)
        if visit is None:
            raise NotFound(_("This ticket does not exist."))
        progress = queue.visit_progress(session, visit)
        with i18n.use_locale(request.query_params.get("lang") or visit.locale):
            return TicketStatus(
                ticket_number=progress.ticket_number, closed=progress.closed,
                state=progress.state,
                service_name=i18n.translate_map(progress.current_service.names)
                if progress.current_service else None,
                step_name=progress.step_name, step_number=progress.step_number,
                step_count=progress.step_count, task_number=progress.task_number,
                task_count=progress.task_count, people_ahead=progress.people_ahead,
                estimated_wait_minutes=_minutes(progress.estimated_wait),
                counter_number=progress.counter.number if progress.counter else None,
                counter_name=i18n.translate_map(progress.counter.names)
                if progress.counter else None,
                remaining_services=[i18n.translate_map(service.names)
                                    for service in progress.remaining_services],
            )

    return respond(await in_transaction(request, work))


@operation("GET", "/offices/{office}/queue", summary="An office's queues and calls (public)",
           response=QueueState, errors=(404,), tag="queue")
async def queue_state(request: Request) -> Response:
    """Waiting counts, estimated waits and current calls of every service of an office."""
    code = request.path_params["office"]

    def work(session: Session) -> QueueState:
        office = _office_by_code(session, code)
        now = utcnow()
        overview = queue.queue_overview(session, office.id, now)  # type: ignore[arg-type]
        codes = {item.service.id: item.service.code for item in overview}
        calls = queue.current_calls(session, office.id)  # type: ignore[arg-type]
        return QueueState(
            office=office.code, at=now,
            services=[ServiceState(
                code=item.service.code, name=i18n.translate_map(item.service.names),
                prefix=item.service.prefix, waiting=item.waiting, on_hold=item.on_hold,
                counters_open=item.counters_open,
                estimated_wait_minutes=_minutes(item.estimated_wait) or 0,
                longest_wait_minutes=_minutes(item.longest_wait) or 0) for item in overview],
            calls=[CallOut(ticket_number=call.ticket_number, counter_number=call.counter_number,
                           service=codes.get(call.service_id, ""), called_at=call.called_at,
                           call_count=call.call_count) for call in calls],
        )

    return respond(await in_transaction(request, work))


# ---------------------------------------------------------------------------------------------
# Counters (staff)
# ---------------------------------------------------------------------------------------------

_STAFF_ERRORS = (401, 403, 404, 409)


@operation("GET", "/counters/{counter_id:int}", summary="A counter and its waiting list",
           response=CounterState, auth="staff", errors=(401, 403, 404), tag="counters")
async def get_counter(request: Request) -> Response:
    """The counter's services, its ticket in hand and the tickets waiting for it."""
    counter_id = _path_int(request, "counter_id")
    return respond(await in_transaction(request, lambda s: counter_state(s, counter_id)))


@operation("POST", "/counters/{counter_id:int}/open", summary="Sign in to a counter",
           response=CounterState, body=OpenCounterRequest, auth="staff",
           errors=(*_STAFF_ERRORS, 400, 422), tag="counters")
async def open_counter(request: Request) -> Response:
    """Sign the staff member in to the counter, serving the given services."""
    body = await parse_body(request, OpenCounterRequest)
    counter_id, user_id = _path_int(request, "counter_id"), _user_id(request)

    def work(session: Session) -> tuple[int, CounterState]:
        counter = session.get(Counter, counter_id)
        if counter is None:
            raise NotFound(_("This counter does not exist."))
        service_ids = _service_ids(session, counter.office_id, body.services, "services")
        counter = queue.open_counter(session, counter_id, user_id, service_ids)
        return counter.office_id, counter_state(session, counter_id)

    return await change(request, work)


@operation("POST", "/counters/{counter_id:int}/close", summary="Sign out of a counter",
           response=CounterState, body=NoBody, auth="staff", errors=(*_STAFF_ERRORS, 400, 422),
           tag="counters")
async def close_counter(request: Request) -> Response:
    """Close the counter (it must have no ticket in hand)."""
    await parse_body(request, NoBody)
    counter_id, user_id = _path_int(request, "counter_id"), _user_id(request)

    def work(session: Session) -> tuple[int, CounterState]:
        counter = queue.close_counter(session, counter_id, user_id)
        return counter.office_id, counter_state(session, counter_id)

    return await change(request, work)


@operation("POST", "/counters/{counter_id:int}/call-next", summary="Call the next ticket",
           response=TaskResult, body=NoBody, auth="staff", errors=(*_STAFF_ERRORS, 400, 422),
           tag="counters")
async def call_next(request: Request) -> Response:
    """Call the next ticket to the counter; `task` is null when nobody waits."""
    await parse_body(request, NoBody)
    counter_id, user_id, engine_rules = (_path_int(request, "counter_id"), _user_id(request),
                                         rules(request))

    def work(session: Session) -> tuple[int | None, TaskResult]:
        task = queue.call_next(session, counter_id, user_id, rules=engine_rules)
        if task is None:
            return None, TaskResult(task=None)
        return _office_of_task(session, task), TaskResult(task=task_out(session, task))

    return await change(request, work)


# ---------------------------------------------------------------------------------------------
# Task actions (staff)
# ---------------------------------------------------------------------------------------------

Act = Callable[[Session, int, int, Any, queue.QueueRules], Task]
TASK_ACTIONS: dict[str, tuple[str, type[BaseModel], Act]] = {
    "call": ("Call this ticket to a counter (out of order)", CallRequest,
             lambda s, task, user, body, r: queue.call_task(s, task, body.counter_id, user)),
    "recall": ("Call the ticket again", NoBody,
               lambda s, task, user, body, r: queue.recall(s, task, user)),
    "start": ("The resident arrived: start serving", NoBody,
              lambda s, task, user, body, r: queue.start(s, task, user)),
    "advance": ("Go to the service's next step", NoBody,
                lambda s, task, user, body, r: queue.advance_step(s, task, user)),
    "complete": ("Complete the task (the visit's next task joins its queue)", NoBody,
                 lambda s, task, user, body, r: queue.complete(s, task, user)),
    "no-show": ("The called resident did not come", NoBody,
                lambda s, task, user, body, r: queue.no_show(s, task, user)),
    "return": ("Put a called or no-show ticket back in line", NoBody,
               lambda s, task, user, body, r: queue.return_to_queue(s, task, user)),
    "hold": ("Put the ticket on hold", HoldRequest,
             lambda s, task, user, body, r: queue.hold(s, task, user, reason=body.reason)),
    "release": ("Release a held ticket into the queue", NoBody,
                lambda s, task, user, body, r: queue.release(s, task, user)),
    "transfer": ("Transfer the ticket to another service", TransferRequest,
                 lambda s, task, user, body, r: _transfer(s, task, user, body, r)),
    "cancel": ("Cancel the task or the whole visit", CancelRequest,
               lambda s, task, user, body, r: queue.cancel(
                   s, task, user, reason=body.reason, whole_visit=body.whole_visit)),
}


def _transfer(session: Session, task_id: int, user_id: int, body: TransferRequest,
              engine_rules: queue.QueueRules) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(_("This ticket does not exist."))
    [service_id] = _service_ids(session, _office_of_task(session, task), [body.service],
                                "service")
    return queue.transfer(session, task_id, service_id, user_id, rules=engine_rules)


def _task_endpoint(name: str, body_model: type[BaseModel], act: Act) -> Handler:
    async def endpoint(request: Request) -> Response:
        body = await parse_body(request, body_model)
        task_id, user_id, engine_rules = (_path_int(request, "task_id"), _user_id(request),
                                          rules(request))

        def work(session: Session) -> tuple[int, TaskResult]:
            task = act(session, task_id, user_id, body, engine_rules)
            return _office_of_task(session, task), TaskResult(task=task_out(session, task))

        return await change(request, work)

    endpoint.__name__ = endpoint.__qualname__ = f"task_{name.replace('-', '_')}"
    endpoint.__doc__ = TASK_ACTIONS[name][0]
    return endpoint


for _name, (_summary, _body, _act) in TASK_ACTIONS.items():
    operation("POST", f"/tasks/{{task_id:int}}/{_name}", summary=_summary, response=TaskResult,
              body=_body, auth="staff", errors=(*_STAFF_ERRORS, 400, 422),
              tag="tasks")(_task_endpoint(_name, _body, _act))


# ---------------------------------------------------------------------------------------------
# The OpenAPI document
# ---------------------------------------------------------------------------------------------

_STATUS_TEXT = {200: "OK", 201: "Created", 400: "Malformed JSON", 401: "Not signed in",
                403: "Not allowed", 404: "Not found", 409: "Not possible in the current state",
                413: "Body too large", 422: "Invalid fields",
                429: "Too many requests: wait the Retry-After seconds"}


def _openapi_path(path: str) -> tuple[str, list[dict[str, Any]]]:
    """`/tasks/{task_id:int}` → `/tasks/{task_id}` and its path parameters."""
    parameters, parts = [], []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            name, _, kind = part[1:-1].partition(":")
            schema = ({"type": "integer", "minimum": 1, "maximum": MAX_ID} if kind == "int"
                      else {"type": "string"})
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
            part = "{" + name + "}"
        parts.append(part)
    return "/".join(parts), parameters


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every operation, from the same table as the routes."""
    models: list[type[BaseModel]] = [ErrorOut]
    for op in OPERATIONS:
        models += [op.response] + ([op.body] if op.body else [])
    unique = list(dict.fromkeys(models))
    keys, schemas = models_json_schema(
        [(model, "validation") for model in unique],
        ref_template="#/components/schemas/{model}")

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return keys[(model, "validation")]

    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path, parameters = _openapi_path(op.path)
        responses: dict[str, Any] = {str(op.status): {
            "description": _STATUS_TEXT[op.status],
            "content": {"application/json": {"schema": ref(op.response)}}}}
        for status in op.errors:
            responses[str(status)] = {
                "description": _STATUS_TEXT[status],
                "content": {"application/json": {"schema": ref(ErrorOut)}}}
            if status == 429:
                responses["429"]["headers"] = {"Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 1}}}
        entry: dict[str, Any] = {
            "operationId": op.endpoint.__name__, "summary": op.summary, "tags": list(op.tags),
            "responses": responses,
        }
        if op.endpoint.__doc__:
            entry["description"] = op.endpoint.__doc__.strip()
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {"required": op.body is not NoBody, "content": {
                "application/json": {"schema": ref(op.body)}}}
        if op.auth == "kiosk":
            entry["security"] = [{"deviceToken": []}, {"staffSession": []}]
        elif op.auth == "staff":
            entry["security"] = [{"staffSession": []}]
        paths.setdefault(path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Frontyard API", "version": "1",
            "description": "Tickets for kiosks and ticket printers, ticket status for residents' "
                           "phones, queue state, and counter actions for signed-in staff. "
                           "Errors are JSON `{error, detail, fields}`; 409 means the action does "
                           "not fit the ticket's or counter's state.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "deviceToken": {"type": "http", "scheme": "bearer",
                                "description": "A kiosk's device token (`frontyard device add`)."},
                "staffSession": {"type": "apiKey", "in": "cookie", "name": "fy_session",
                                 "description": "A staff member's session after signing in."},
            },
        },
    }


async def openapi(request: Request) -> Response:
    """The OpenAPI document."""
    return JSONResponse(openapi_document())


routes = [
    *(Route(op.path, op.endpoint, methods=[op.method], name=f"api_{op.endpoint.__name__}")
      for op in OPERATIONS),
    Route(OPENAPI_PATH, openapi, name="api_openapi"),
]
