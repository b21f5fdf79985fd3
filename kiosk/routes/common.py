"""What the kiosk's screens and the staff's form pages share: redirects, no-store, today.

Both halves of `kiosk.routes` answer with uncached pages (their transactions come from
`frontyard.transactions`); the helpers live here so neither half imports the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from frontyard.i18n import lazy_gettext

NO_STORE = {"Cache-Control": "no-store"}
#: The largest value a kiosk form reads. Caddy refuses bodies over 2 MB (Caddyfile), so what
#: reaches us is read whole and comes back in the form with a message next to the field.
FORM_PART_LIMIT = 2 * 1024 * 1024
#: Shown in the form when the submission could not be read at all (nothing of it is kept).
UNREADABLE_FORM = lazy_gettext("What you entered was too long to be read. Please enter it again, "
                               "shorter.")


async def read_form(request: Request) -> FormData | None:
    """The submitted form, or None when it cannot be read (a value past FORM_PART_LIMIT, too
    many fields): the screen then shows itself again with UNREADABLE_FORM, in the resident's
    language and with the kiosk session kept, instead of Starlette's English 400 page."""
    try:
        return await request.form(max_part_size=FORM_PART_LIMIT)
    except (HTTPException, MultiPartException):
        return None


def go(path: str) -> Response:
    """A 303 redirect that is not cached either."""
    return RedirectResponse(path, status_code=303, headers=NO_STORE)


def city_today(request: Request) -> Any:
    """Today in the city's time zone (dates of birth, deadlines, forms)."""
    return datetime.now(request.app.state.settings.tz).date()
