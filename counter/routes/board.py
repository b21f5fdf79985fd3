"""The lobby's call board and its live socket: a paired board shows its own office, and the
calls and languages of its settings (`counter.board_settings`); a staff member's browser shows
every call, in Japanese and the languages of `?lang=` (English by default).
"""

from __future__ import annotations

import json

from sqlmodel import Session
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from counter import screens, views
from counter.board_settings import (
    ROTATE_SECONDS,
    BoardConfig,
    board_config,
    for_board,
    languages_from_query,
)
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


def _board_config(connection: HTTPConnection, session: Session, office_id: int) -> BoardConfig:
    """A paired board's own settings, read now; otherwise every call, in the languages of
    `?lang=` (one code or several, comma-separated)."""
    device = current_device(connection)
    if device is not None and device.kind == DeviceKind.BOARD and device.id is not None:
        config = board_config(session, device.id, office_id)
        if config is not None:
            return config
    return BoardConfig(languages=languages_from_query(connection.query_params.get("lang")))


def _city_name(names: dict[str, str], rotating: list[str]) -> list[tuple[str, str]]:
    """The city's name in Japanese and the board's rotating languages (once if the same)."""
    pairs: list[tuple[str, str]] = []
    for code in screens.board_languages(rotating) if names else ():
        with i18n.use_locale(code):
            text = i18n.translate_map(names)
        if text and str(text) not in {str(shown) for _, shown in pairs}:
            pairs.append((i18n.BY_CODE[code].html_lang, text))
    return pairs


@require_device(DeviceKind.BOARD)
async def call_board(request: Request) -> Response:
    """The lobby's call board; `?lang=` sets the languages after Japanese (English by default)
    unless the board's settings give them."""
    office_id = _board_office_id(request)

    tz = request.app.state.settings.tz

    def read(session: Session) -> tuple[BoardView, BoardConfig, branding.Brand]:
        office = views.office_or_default(session, office_id)
        config = _board_config(request, session, office.id)  # type: ignore[arg-type]
        view = board_view(session, office.id, utcnow(), tz)  # type: ignore[arg-type]
        return for_board(view, config.shows), config, branding.brand_of(session, office.id)

    view, config, brand = await _in_thread(request, read)
    context = screens.board_context(view, config.languages)
    context["brand"] = brand
    context["city_name"] = _city_name(brand.names, list(config.languages)[:1])
    lang = ",".join(config.languages) or screens.JAPANESE
    context["socket_url"] = f"/ws/board?office={view.office.id}&lang={lang}"
    context["seen_calls"] = json.dumps(
        [call["id"] for call in screens.board_calls(view, config.languages)])
    context["rotate_every"] = ROTATE_SECONDS * 1000
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
    config = await _in_thread(websocket, lambda s: _board_config(websocket, s, office.id))
    await websocket.accept()
    device = current_device(websocket)
    # The owner label also lets a change of the board's settings close its socket: the
    # screen reconnects at once and gets the new settings (`admin.boards`).
    owner = device_owner(device.id) if device and device.id else None  # type: ignore[arg-type]
    await _fanout(websocket).serve(websocket, BoardAudience(office.id, config), owner=owner)


routes = [Route("/board", call_board, name="call_board")]
sockets = [WebSocketRoute("/ws/board", board_socket, name="board_socket")]
