"""The residents' status pages, opened from a ticket's QR code, and their live socket. The
page's address holds the ticket's status token, the key to the page: the socket takes the token
in its first message, and the logs hide it (`frontyard.logs.hide_segment_after`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from counter import queue, screens, statuses
from counter.models import Visit
from counter.routes.common import REFUSED, _fanout, _in_thread, _read
from counter.screens import StatusAudience
from frontyard import i18n
from frontyard.database import utcnow
from frontyard.live import error_message
from frontyard.logs import hide_segment_after
from frontyard.ratelimit import (
    RateLimited,
    count_unknown_token,
    limit_status_polling,
    refuse_token_guessing,
)
from frontyard.templating import render

#: Too many requests for this status page: the client should reconnect after a while.
TRY_AGAIN_LATER = 1013
#: How long a status page may take to say which ticket it shows.
HELLO_TIMEOUT = 10.0
#: Where a status page lives; the segment after it is the token, hidden from every log line.
STATUS_PREFIX = "/status/"

hide_segment_after(STATUS_PREFIX)


# ---------------------------------------------------------------------------------------------
# Residents' status pages
# ---------------------------------------------------------------------------------------------


def _status_locale(requested: str | None, visit: Visit) -> str:
    """The language the resident switched to, else the one chosen at the kiosk."""
    if requested and i18n.is_supported(requested):
        return requested
    return visit.locale if i18n.is_supported(visit.locale) else "ja"


def _visit_for(connection: HTTPConnection, token: str) -> Visit | None:
    if not screens.TOKEN_PATTERN.match(token):
        return None
    return _read(connection, lambda s: queue.visit_for_token(s, token))  # type: ignore[no-any-return]


async def status_page(request: Request) -> Response:
    """A resident's live status page, opened from the ticket's QR code. No personal data."""
    token = request.path_params["token"]
    refuse_token_guessing(request)
    visit = await run_in_threadpool(_visit_for, request, token)
    if visit is None:
        count_unknown_token(request)
        raise HTTPException(404)
    locale = _status_locale(request.query_params.get("lang"), visit)
    i18n.set_locale(locale)  # the 429 too is in the ticket's language
    limit_status_polling(request, token)
    found = await _in_thread(
        request, lambda s: statuses.resident_statuses(s, [visit.id], utcnow()))  # type: ignore[list-item]
    context = screens.status_context(found[visit.id])
    context.update(token=token, locale=locale, language=i18n.BY_CODE[locale],
                   switcher=[lang for lang in i18n.LANGUAGES])
    response = render(request, "counter/status.html", context)
    # The address is the key to this page: no caching, no referrer, no search engine.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


async def status_socket(websocket: WebSocket) -> None:
    """Live updates of one status page. The token comes in the first message, not in the
    address, so that no proxy or server log ever records it."""
    await websocket.accept()
    hello = await _receive_hello(websocket)
    token = hello.get("token") if hello else None
    asked = hello.get("lang") if hello else None
    requested = asked if isinstance(asked, str) and i18n.is_supported(asked) else None
    visit = None
    try:
        with i18n.use_locale(requested or i18n.current_locale()):
            refuse_token_guessing(websocket)
        if isinstance(token, str):
            visit = await run_in_threadpool(_visit_for, websocket, token)
            if visit is None:
                count_unknown_token(websocket)
        if visit is not None:
            with i18n.use_locale(_status_locale(requested, visit)):
                limit_status_polling(websocket, token)  # type: ignore[arg-type]
    except RateLimited as refused:  # the page reconnects later with its backoff
        with contextlib.suppress(Exception):
            await websocket.send_text(error_message(str(refused.message)))
            await websocket.close(TRY_AGAIN_LATER)
        return
    if visit is None:
        with contextlib.suppress(Exception):
            await websocket.send_text(json.dumps({"type": "gone"}))
            await websocket.close(REFUSED)
        return
    locale = _status_locale(requested, visit)
    audience = StatusAudience(visit.office_id, visit.id, locale)  # type: ignore[arg-type]
    await _fanout(websocket).serve(websocket, audience)


async def _receive_hello(websocket: WebSocket) -> dict[str, Any] | None:
    """The client's first message, `{"type": "hello", "token": …, "lang": …}`, or None."""
    try:
        text = await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT)
        message = json.loads(text) if len(text) < 1024 else None
    except Exception:  # timeout, disconnect, binary frame or not JSON
        return None
    if isinstance(message, dict) and message.get("type") == "hello":
        return message
    return None


routes = [Route(STATUS_PREFIX + "{token}", status_page, name="status_page")]
sockets = [WebSocketRoute("/ws/status", status_socket, name="status_socket")]
