"""What the kiosk's screens and the staff's form pages share: transactions, redirects, no-store.

Both halves of `kiosk.routes` answer with uncached pages run in one transaction; the helpers
live here so neither half imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from frontyard.database import session_scope

NO_STORE = {"Cache-Control": "no-store"}
T = TypeVar("T")


async def in_transaction(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in one committed transaction, in a worker thread (writers may wait)."""
    engine = request.app.state.engine

    def job() -> T:
        with session_scope(engine) as session:
            return work(session)

    return await run_in_threadpool(job)


def go(path: str) -> Response:
    """A 303 redirect that is not cached either."""
    return RedirectResponse(path, status_code=303, headers=NO_STORE)


def city_today(request: Request) -> Any:
    """Today in the city's time zone (dates of birth, deadlines, forms)."""
    return datetime.now(request.app.state.settings.tz).date()
