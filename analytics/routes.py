"""Analytics pages for managers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from frontyard.auth import Role
from frontyard.guards import require_role
from frontyard.templating import render


@require_role(Role.MANAGER)
async def dashboard(request: Request) -> Response:
    """The managers' overview."""
    return render(request, "analytics/dashboard.html")


routes = [Route("/analytics", dashboard, name="analytics")]
