"""What the kiosk's screens and the staff's form pages share: redirects, no-store, today.

Both halves of `kiosk.routes` answer with uncached pages (their transactions come from
`frontyard.transactions`); the helpers live here so neither half imports the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

NO_STORE = {"Cache-Control": "no-store"}


def go(path: str) -> Response:
    """A 303 redirect that is not cached either."""
    return RedirectResponse(path, status_code=303, headers=NO_STORE)


def city_today(request: Request) -> Any:
    """Today in the city's time zone (dates of birth, deadlines, forms)."""
    return datetime.now(request.app.state.settings.tz).date()
