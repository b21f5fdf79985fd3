"""Kiosk pages (touch screens in the lobby, paired as kiosk devices)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from frontyard.auth import DeviceKind
from frontyard.guards import require_device
from frontyard.templating import render


@require_device(DeviceKind.KIOSK)
async def kiosk_start(request: Request) -> Response:
    """The kiosk's first screen: choose a language."""
    return render(request, "kiosk/start.html")


routes = [Route("/kiosk", kiosk_start, name="kiosk_start")]
