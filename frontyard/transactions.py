"""Database work from a request handler: one committed transaction, in a worker thread.

Handlers are async and the database may make a writer wait (SQLite's BEGIN IMMEDIATE, row
locks on PostgreSQL), so the work runs off the event loop and commits or rolls back as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from frontyard.database import session_scope

ResultT = TypeVar("ResultT")


async def in_transaction(request: Request, work: Callable[[Session], ResultT]) -> ResultT:
    """Run `work` in one committed transaction, in a worker thread (writers may wait)."""
    engine = request.app.state.engine

    def job() -> ResultT:
        with session_scope(engine) as session:
            return work(session)

    return await run_in_threadpool(job)
