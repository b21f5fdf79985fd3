"""The lobby's call board and its live socket: a paired board shows its own office, in Japanese
and a second language.
"""

from __future__ import annotations

import json

from sqlmodel import Session
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from counter import screens, views
from counter.board_view import BoardView, board_view
from counter.routes.common import REFUSED, _fanout, _in_thread, _int, _office_or_refuse
from counter.screens import BoardAudience
from frontyard import branding, i18n
from frontyard.auth import DeviceKind
from frontyard.database import utcnow
from frontyard.guards import current_device, current_user, require_device
from frontyard.live import same_origin
from frontyard.revocation import device_owner
from frontyard.templating import render


def _board_office_id(connection: HTTPConnection) -> int | None:
    """A paired board shows its own office; staff may pick one with ?office=."""
    device = current_device(connection)
    if device is not None and device.kind == DeviceKind.BOARD and device.office_id:
        return device.office_id
    return _int(connection.query_params.get("office"))


def _city_name(names: dict[str, str], second: str) -> list[tuple[str, str]]:
    """The city's name in Japanese and the board's second language (once if the same)."""
    pairs: list[tuple[str, str]] = []
    for code in screens.board_languages(second) if names else ():
        with i18n.use_locale(code):
            text = i18n.translate_map(names)
        if text and str(text) not in {str(shown) for _, shown in pairs}:
            pairs.append((i18n.BY_CODE[code].html_lang, text))
    return pairs


@require_device(DeviceKind.BOARD)
async def call_board(request: Request) -> Response:
    """The lobby's call board; `?lang=` sets its second language (English by default)."""
    second = screens.second_language(request.query_params.get("lang"))
    office_id = _board_office_id(request)

    tz = request.app.state.settings.tz

    def read(session: Session) -> tuple[BoardView, branding.Brand]:
        office = views.office_or_default(session, office_id)
        return (board_view(session, office.id, utcnow(), tz),  # type: ignore[arg-type]
                branding.brand_of(session, office.id))

    view, brand = await _in_thread(request, read)
    context = screens.board_context(view, second)
    context["brand"], context["city_name"] = brand, _city_name(brand.names, second)
    context["socket_url"] = f"/ws/board?office={view.office.id}&lang={second}"
    context["seen_calls"] = json.dumps([call["id"] for call in screens.board_calls(view, second)])
    with i18n.use_locale(screens.JAPANESE):
        return render(request, "counter/board.html", context)


def _may_watch_board(websocket: WebSocket) -> bool:
    device = current_device(websocket)
    if device is not None and device.kind == DeviceKind.BOARD:
        return True
    return current_user(websocket) is not None


async def board_socket(websocket: WebSocket) -> None:
    """Live updates of a call board."""
    if not _may_watch_board(websocket) or not same_origin(
            websocket, (websocket.app.state.settings.base_url,)):
        await websocket.close(REFUSED)
        return
    office = await _office_or_refuse(websocket, _board_office_id(websocket))
    if office is None:
        return
    await websocket.accept()
    second = screens.second_language(websocket.query_params.get("lang"))
    device = current_device(websocket)
    owner = device_owner(device.id) if device and device.id else None  # type: ignore[arg-type]
    await _fanout(websocket).serve(websocket, BoardAudience(office.id, second), owner=owner)


routes = [Route("/board", call_board, name="call_board")]
sockets = [WebSocketRoute("/ws/board", board_socket, name="board_socket")]
