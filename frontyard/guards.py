"""Who is asking: the signed-in staff member or paired device, and role checks for endpoints."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from frontyard.auth import (
    Device,
    DeviceKind,
    Role,
    User,
    device_for_token,
    note_seen,
    session_epoch,
)
from frontyard.database import read_session
from frontyard.i18n import gettext as _

DEVICE_COOKIE = "fy_device"
#: Where a person with a temporary password must go before anything else.
PASSWORD_PATH = "/account/password"
#: A device's last-seen time is written at most this often (seconds): one write a minute.
SEEN_EVERY = 60
Endpoint = Callable[[Request], Awaitable[Response]]


def db(connection: HTTPConnection) -> Session:
    """A new session on the app's engine; use it in a `with` block."""
    return Session(connection.app.state.engine, expire_on_commit=False)


def current_user(connection: HTTPConnection) -> User | None:
    """The signed-in staff member, loaded once per request."""
    if "user" in connection.state._state:
        return connection.state.user  # type: ignore[no-any-return]
    user = None
    user_id = connection.session.get("user_id") if "session" in connection.scope else None
    if isinstance(user_id, int):
        with read_session(connection.app.state.engine) as session:
            user = session.get(User, user_id)
        if user is not None and (
            not user.active or connection.session.get("auth_epoch") != session_epoch(user)
        ):
            user = None  # deactivated, or the password or session version changed since
    connection.state.user = user
    return user


def device_token(connection: HTTPConnection) -> str | None:
    """A device token from the Authorization header or the pairing cookie."""
    authorization = connection.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return connection.cookies.get(DEVICE_COOKIE) or None


def current_device(connection: HTTPConnection) -> Device | None:
    """The paired kiosk or board making the request, if any."""
    if "device" in connection.state._state:
        return connection.state.device  # type: ignore[no-any-return]
    token = device_token(connection)
    device = None
    if token:
        with read_session(connection.app.state.engine) as session:
            device = device_for_token(session, token)
        if device is not None:
            note_seen(connection.app.state.engine, device, SEEN_EVERY)
    connection.state.device = device
    return device


def _password_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PASSWORD_PATH}?next={quote(target)}", status_code=303)


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def require_role(role: Role) -> Callable[[Endpoint], Endpoint]:
    """Let through staff whose role includes `role`; others are sent to log in or get 403."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            user = current_user(request)
            if user is None:
                if request.url.path.startswith("/api/"):
                    raise HTTPException(401, _("Please sign in."))
                return _login_redirect(request)
            if user.must_change_password and request.url.path != PASSWORD_PATH:
                if request.url.path.startswith("/api/"):
                    raise HTTPException(403, _("Choose a new password first."))
                return _password_redirect(request)
            if not user.role.includes(role):
                raise HTTPException(403)
            return await endpoint(request)

        return guarded

    return decorate


def require_device(kind: DeviceKind) -> Callable[[Endpoint], Endpoint]:
    """Let through a paired device of this kind, or any signed-in staff member."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            # Off the event loop: the look-up reads and, once a minute, writes (note_seen),
            # and on SQLite that write waits its turn behind the other writers.
            device = await run_in_threadpool(current_device, request)
            if device is not None and device.kind == kind:
                return await endpoint(request)
            user = current_user(request)
            if user is not None and user.must_change_password:
                return _password_redirect(request)
            if user is not None:
                return await endpoint(request)
            presented_token = device_token(request) is not None
            if not presented_token and not request.url.path.startswith("/api/"):
                return _login_redirect(request)
            raise HTTPException(403 if presented_token else 401)

        return guarded

    return decorate


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for the user (a new session defeats fixation)."""
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["auth_epoch"] = session_epoch(user)


def sign_out(request: Request) -> None:
    """End the session."""
    request.session.clear()


def any_role_label(role: Role) -> Any:
    """The translated name of a role, for pages."""
    labels = {Role.STAFF: _("Counter staff"), Role.MANAGER: _("Manager"), Role.ADMIN: _("Admin")}
    return labels[role]
