"""What every queue page and socket shares: reading the database in a worker thread, a positive
integer from a query or form, the office a screen asks for, and the close code of a refused
socket. Names with a leading underscore are for this package only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from counter import views
from frontyard.database import read_session
from frontyard.errors import NotFound
from frontyard.live import Fanout

#: Policy violation: the socket was refused (not signed in, wrong origin, unknown token).
REFUSED = 1008


def _engine(connection: HTTPConnection) -> Any:
    return connection.app.state.engine


def _fanout(connection: HTTPConnection) -> Fanout:
    return connection.app.state.fanout  # type: ignore[no-any-return]


def _int(value: Any) -> int | None:
    """A positive integer from a query or form value, or None."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _read(connection: HTTPConnection, reader: Callable[[Session], Any]) -> Any:
    """Run a read-only function with a read session (call it in a worker thread)."""
    with read_session(_engine(connection)) as session:
        return reader(session)


async def _in_thread(connection: HTTPConnection, reader: Callable[[Session], Any]) -> Any:
    return await run_in_threadpool(_read, connection, reader)


async def _office_or_refuse(websocket: WebSocket, office_id: int | None) -> Any:
    """The office a screen asks for (or the first one); None after refusing the socket."""
    try:
        return await _in_thread(websocket, lambda s: views.office_or_default(s, office_id))
    except NotFound:
        await websocket.close(REFUSED)
        return None
