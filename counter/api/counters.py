"""The API's counter resource for signed-in staff: read a counter and its waiting list, sign in
to it and out of it, and call the next ticket.
"""

from __future__ import annotations

from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import Response

from counter import queue
from counter.api.lookups import _office_of_task, _service_ids, task_out
from counter.api.plumbing import (
    _STAFF_ERRORS,
    _path_int,
    _user_id,
    change,
    in_transaction,
    operation,
    parse_body,
    respond,
    rules,
)
from counter.api.schemas import CounterState, NoBody, OpenCounterRequest, TaskResult, WaitingOut
from counter.models import Counter, Service
from frontyard.errors import NotFound
from frontyard.i18n import gettext as _


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
