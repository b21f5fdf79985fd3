"""The public crowding page (how crowded each service is now) and its live socket."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from counter import screens, views
from counter.routes.common import _fanout, _in_thread, _int, _office_or_refuse
from counter.screens import CrowdingAudience
from frontyard import i18n
from frontyard.database import utcnow
from frontyard.templating import render


async def crowding(request: Request) -> Response:
    """The public page: how crowded each service is now (`?office=` picks a branch)."""
    office_id = _int(request.query_params.get("office"))
    tz = request.app.state.settings.tz
    view = await _in_thread(request, lambda s: views.crowding_view(s, office_id, utcnow(), tz))
    context = screens.crowding_context(view)
    context["socket_url"] = f"/ws/crowding?office={view.office.id}"
    return render(request, "counter/crowding.html", context)


async def crowding_socket(websocket: WebSocket) -> None:
    """Live updates of the crowding page, in the page's language."""
    office = await _office_or_refuse(websocket, _int(websocket.query_params.get("office")))
    if office is None:
        return
    await websocket.accept()
    audience = CrowdingAudience(office.id, i18n.current_locale())  # type: ignore[arg-type]
    await _fanout(websocket).serve(websocket, audience)


routes = [Route("/crowding", crowding, name="crowding")]
sockets = [WebSocketRoute("/ws/crowding", crowding_socket, name="crowding_socket")]
