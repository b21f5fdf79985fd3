"""The staff terminal: choosing a counter, signing in and out, calling and acting on tickets,
the pre-filled details (every view audited), and the terminal's live socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from counter import queue, screens, views
from counter.models import Counter, Task, Visit, VisitDetails
from counter.routes.common import REFUSED, _engine, _fanout, _in_thread, _int
from counter.screens import TerminalAudience
from counter.topics import topic_of
from frontyard import audit, i18n
from frontyard.auth import Role, User
from frontyard.database import session_scope, utcnow
from frontyard.errors import Conflict, DomainError, NotFound, ValidationFailed
from frontyard.guards import current_user, require_role
from frontyard.i18n import gettext as _
from frontyard.live import same_origin
from frontyard.realtime import announce
from frontyard.revocation import user_owner
from frontyard.templating import render


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@require_role(Role.STAFF)
async def staff_terminal(request: Request) -> Response:
    """The counter staff's terminal, or the choice of a counter to sign in to."""
    user = current_user(request)
    assert user is not None
    counter = await _in_thread(request, lambda s: views.counter_of_user(s, user.id))
    if counter is None:
        return await _counter_choice(request)
    view = await _in_thread(request, lambda s: views.terminal_view(s, counter.id, utcnow()))
    return render(request, "counter/terminal.html", screens.terminal_context(view))


async def _counter_choice(request: Request) -> Response:
    chosen = _int(request.query_params.get("counter"))
    user = current_user(request)
    assert user is not None

    def read(session: Session) -> dict[str, Any]:
        try:
            office = views.office_or_default(session, _int(request.query_params.get("office")))
        except NotFound:  # a new installation: no office set up yet
            return {"office": None, "choices": [], "selected": None, "services": [],
                    "offices": [], "users": {}}
        choices = views.counter_choices(session, office.id)  # type: ignore[arg-type]
        selected = next((c for c in choices if c.counter.id == chosen), None)
        users = {u.id: u for u in session.exec(select(User))}
        # Only the services this staff member (and the chosen counter) may serve are offered.
        services = views.active_services(session, office.id)  # type: ignore[arg-type]
        mine = set(queue.allowed(session, user.id, selected.counter.id if selected else None,
                                 [service.id for service in services]))  # type: ignore[misc]
        return {"office": office, "choices": choices, "selected": selected,
                "services": [service for service in services if service.id in mine],
                "offices": session.exec(select(views.Office)).all(), "users": users}

    return render(request, "counter/choose.html", await _in_thread(request, read))


def _form_ids(form: FormData, name: str) -> list[int]:
    return [number for value in form.getlist(name) if (number := _int(value)) is not None]


@require_role(Role.STAFF)
async def open_counter(request: Request) -> Response:
    """Sign in to a counter with the chosen services (again: change the services)."""
    user = current_user(request)
    assert user is not None
    form = await request.form()
    counter_id = _int(form.get("counter_id"))
    service_ids = _form_ids(form, "service_id")
    if counter_id is None:
        message = _("Choose a counter.")
        raise ValidationFailed(message, counter_id=message)

    def change(session: Session) -> None:
        counter = queue.open_counter(session, counter_id, user.id, service_ids, utcnow())
        announce(session, request.app.state.hub, topic_of(counter.office_id),
                 {"type": "counter", "counter": counter.id})

    await run_in_threadpool(_write, request, change)
    return RedirectResponse("/counter", status_code=303)


@require_role(Role.STAFF)
async def close_counter(request: Request) -> Response:
    """Sign out of the counter (it must have no ticket in hand)."""
    user = current_user(request)
    assert user is not None

    def change(session: Session) -> None:
        counter = _my_counter(session, user)
        queue.close_counter(session, counter.id, user.id, utcnow())  # type: ignore[arg-type]
        announce(session, request.app.state.hub, topic_of(counter.office_id),
                 {"type": "counter", "counter": counter.id})

    await run_in_threadpool(_write, request, change)
    return RedirectResponse("/counter", status_code=303)


def _write(connection: HTTPConnection, change: Callable[[Session], Any]) -> Any:
    """Run a change in one transaction (call it in a worker thread)."""
    with session_scope(_engine(connection)) as session:
        return change(session)


def _my_counter(session: Session, user: User) -> Counter:
    counter = views.counter_of_user(session, user.id)  # type: ignore[arg-type]
    if counter is None:
        raise Conflict(_("Sign in to a counter first."))
    return counter


#: Actions on the ticket a counter has in hand: only that counter may take them.
AT_COUNTER_ACTIONS = {"recall", "start", "advance", "complete", "no-show"}


def _check_scope(session: Session, task_id: int, counter: Counter, action: str) -> Task:
    """The task, if this counter may act on it: same office, not in another counter's hands."""
    task = session.get(Task, task_id)
    visit = session.get(Visit, task.visit_id) if task else None
    if task is None or visit is None or visit.office_id != counter.office_id:
        raise NotFound(_("This ticket does not exist."))
    elsewhere = task.counter_id is not None and task.counter_id != counter.id
    if elsewhere or (action in AT_COUNTER_ACTIONS and task.counter_id != counter.id):
        raise Conflict(_("%(number)s is not at your counter.")
                       % {"number": visit.ticket_number})
    return task


def _task_action(action: str, session: Session, task_id: int, counter: Counter, user: User,
                 form: FormData, rules: queue.QueueRules) -> Task:
    """Apply one staff action to a task through the queue engine."""
    now = utcnow()
    uid: int = user.id  # type: ignore[assignment]
    reason = str(form.get("reason", ""))[:queue.MAX_REASON] or None
    simple = {"recall": queue.recall, "start": queue.start, "advance": queue.advance_step,
              "complete": queue.complete, "no-show": queue.no_show,
              "return": queue.return_to_queue, "release": queue.release}
    if action in simple:
        return simple[action](session, task_id, uid, now)  # type: ignore[no-any-return,operator]
    if action == "call":
        return queue.call_task(session, task_id, counter.id, uid, now)  # type: ignore[arg-type]
    if action == "hold":
        return queue.hold(session, task_id, uid, now, reason=reason)
    if action == "cancel":
        return queue.cancel(session, task_id, uid, now, reason=reason,
                            whole_visit=form.get("whole_visit") == "1")
    if action == "transfer":
        target = _int(form.get("service_id"))
        if target is None:
            message = _("Choose another service of this office.")
            raise ValidationFailed(message, service_id=message)
        return queue.transfer(session, task_id, target, uid, now, rules=rules)
    raise HTTPException(404)


TASK_ACTIONS = {"call", "recall", "start", "advance", "complete", "no-show", "return", "hold",
                "release", "transfer", "cancel"}


@require_role(Role.STAFF)
async def task_action(request: Request) -> Response:
    """Act on one ticket (call this one, recall, start, complete, hold…)."""
    action = request.path_params["action"]
    task_id = _int(request.path_params["task_id"])
    if action not in TASK_ACTIONS or task_id is None:
        raise HTTPException(404)
    form = await request.form()
    rules = queue.QueueRules.from_settings(request.app.state.settings)
    user = current_user(request)
    assert user is not None

    def change(session: Session) -> None:
        counter = _my_counter(session, user)
        _check_scope(session, task_id, counter, action)
        _task_action(action, session, task_id, counter, user, form, rules)
        announce(session, request.app.state.hub, topic_of(counter.office_id),
                 {"type": "task", "task": task_id, "action": action})

    return await _act(request, user, change)


@require_role(Role.STAFF)
async def call_next(request: Request) -> Response:
    """Call the next ticket among the counter's services."""
    user = current_user(request)
    assert user is not None
    rules = queue.QueueRules.from_settings(request.app.state.settings)

    def change(session: Session) -> None:
        counter = _my_counter(session, user)
        task = queue.call_next(session, counter.id, user.id, utcnow(), rules=rules)  # type: ignore[arg-type]
        if task is None:
            raise Conflict(_("Nobody is waiting for this counter's services."))
        announce(session, request.app.state.hub, topic_of(counter.office_id),
                 {"type": "task", "task": task.id, "action": "call"})

    return await _act(request, user, change)


async def _act(request: Request, user: User, change: Callable[[Session], None]) -> Response:
    """Run an action; htmx gets the terminal back (with the refusal in place), forms a redirect."""
    message, status = None, 200
    try:
        await run_in_threadpool(_write, request, change)
    except DomainError as error:
        if not _is_htmx(request):
            raise
        message, status = str(error.message), error.status_code
    if not _is_htmx(request):
        return RedirectResponse("/counter", status_code=303)
    await _fanout(request).settled()  # the public screens first (see Fanout.settled)

    def read(session: Session) -> views.TerminalView | None:
        counter = views.counter_of_user(session, user.id)  # type: ignore[arg-type]
        return views.terminal_view(session, counter.id, utcnow()) if counter else None  # type: ignore[arg-type]

    view = await _in_thread(request, read)
    if view is None:  # not signed in to a counter (any more)
        message = message or _("Sign in to a counter first.")
        return render(request, "counter/_alert.html", {"message": message},
                      status_code=status if status != 200 else 409)
    return render(request, "counter/_terminal_live.html",
                  screens.terminal_context(view, message), status_code=status)


@require_role(Role.STAFF)
async def task_details(request: Request) -> Response:
    """The pre-filled details of the ticket at the staff member's counter; every view audited."""
    task_id = _int(request.path_params["task_id"])
    if task_id is None:
        raise HTTPException(404)
    user = current_user(request)
    assert user is not None

    def read_and_audit(session: Session) -> dict[str, Any]:
        counter = _my_counter(session, user)
        task = _check_scope(session, task_id, counter, "details")
        if task.counter_id != counter.id:
            visit = session.get(Visit, task.visit_id)
            raise Conflict(_("%(number)s is not at your counter.")
                           % {"number": visit.ticket_number if visit else "?"})
        details = session.get(VisitDetails, task.visit_id)
        if details is not None:
            audit.record(session, user.id, "view_details", task.visit_id, task_id=task.id,
                         counter_id=counter.id)
        visit = session.get(Visit, task.visit_id)
        return {"task": task, "details": details,
                "public_id": visit.public_id if visit is not None else None}

    try:
        context = await run_in_threadpool(_write, request, read_and_audit)
    except DomainError as error:
        return render(request, "counter/_details.html",
                      screens.details_context(None, None, str(error.message)),
                      status_code=error.status_code)
    response = render(request, "counter/_details.html",
                      screens.details_context(context["task"], context["details"], None,
                                              context["public_id"]))
    response.headers["Cache-Control"] = "no-store"
    return response


async def terminal_socket(websocket: WebSocket) -> None:
    """Live updates of the terminal of the counter the staff member is signed in to."""
    user = current_user(websocket)
    if user is None or not same_origin(websocket, (websocket.app.state.settings.base_url,)):
        await websocket.close(REFUSED)
        return
    counter = await _in_thread(websocket, lambda s: views.counter_of_user(s, user.id))
    if counter is None:
        await websocket.close(REFUSED)
        return
    await websocket.accept()
    audience = TerminalAudience(counter.office_id, counter.id, i18n.current_locale())
    await _fanout(websocket).serve(websocket, audience, owner=user_owner(user.id))  # type: ignore[arg-type]


routes = [
    Route("/counter", staff_terminal, name="staff_terminal"),
    Route("/counter/open", open_counter, methods=["POST"], name="open_counter"),
    Route("/counter/close", close_counter, methods=["POST"], name="close_counter"),
    Route("/counter/call-next", call_next, methods=["POST"], name="call_next"),
    Route("/counter/tasks/{task_id}/details", task_details, name="task_details"),
    Route("/counter/tasks/{task_id}/{action}", task_action, methods=["POST"],
          name="task_action"),
]
sockets = [WebSocketRoute("/ws/counter", terminal_socket, name="terminal_socket")]
