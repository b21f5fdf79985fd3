"""The API's task actions for signed-in staff (call, recall, start, complete, hold, transfer,
cancel…): one table of actions from which every endpoint and its OpenAPI entry are made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from counter import queue
from counter.api.lookups import _office_of_task, _service_ids, task_out
from counter.api.plumbing import (
    _STAFF_ERRORS,
    Handler,
    _path_int,
    _user_id,
    change,
    operation,
    parse_body,
    rules,
)
from counter.api.schemas import (
    CallRequest,
    CancelRequest,
    HoldRequest,
    NoBody,
    TaskResult,
    TransferRequest,
)
from counter.models import Task
from frontyard.errors import NotFound
from frontyard.i18n import gettext as _

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
