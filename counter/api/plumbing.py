"""How an API endpoint is declared and runs: the table of operations (each registered behind its
guard and described for the OpenAPI document), body parsing, the transaction that commits a
change with its announcement, and small request helpers. Shared by every resource module;
names with a leading underscore are for this package only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, TypeVar

from pydantic import BaseModel, ValidationError
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from counter import queue
from counter.api.schemas import MAX_ID
from counter.topics import topic_of
from frontyard import realtime
from frontyard.auth import DeviceKind, Role
from frontyard.errors import DomainError, NotFound, ValidationFailed
from frontyard.guards import current_user, require_device, require_role
from frontyard.i18n import gettext as _
from frontyard.jsonbody import loads_body
from frontyard.transactions import in_transaction

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 64 * 1024

ModelT = TypeVar("ModelT", bound=BaseModel)
ResultT = TypeVar("ResultT")

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
#: What a staff member's action may answer besides success.
_STAFF_ERRORS = (401, 403, 404, 409)


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
            realtime.announce(session, hub, topic_of(office_id),
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
