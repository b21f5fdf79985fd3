"""Queue pages: the staff terminal, the call board, the public crowding page, the status page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from counter.api import routes as api_routes
from frontyard.auth import DeviceKind, Role
from frontyard.guards import require_device, require_role
from frontyard.templating import render


@require_role(Role.STAFF)
async def staff_terminal(request: Request) -> Response:
    """The counter staff's terminal."""
    return render(request, "counter/terminal.html")


@require_device(DeviceKind.BOARD)
async def call_board(request: Request) -> Response:
    """The lobby's call board."""
    return render(request, "counter/board.html")


async def crowding(request: Request) -> Response:
    """The public page: how crowded each counter is now."""
    return render(request, "counter/crowding.html")


routes = [
    Route("/counter", staff_terminal, name="staff_terminal"),
    Route("/board", call_board, name="call_board"),
    Route("/crowding", crowding, name="crowding"),
    *api_routes,
]
