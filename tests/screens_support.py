"""Helpers shared by the screen and websocket tests: a seeded office, tickets issued the way
the kiosk does (with their announcement), and websocket reads that cannot hang a test."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from sqlmodel import Session, select

from composition.demo import seed_structure
from counter import queue
from counter.models import Counter, Service
from counter.topics import topic_of
from frontyard import database
from frontyard.auth import User
from frontyard.realtime import announce


@dataclass(frozen=True)
class Office:
    """The demo office's ids: services by code, counters by number."""

    id: int
    services: dict[str, int]
    counters: dict[str, int]


@pytest.fixture
def office(engine) -> Office:  # type: ignore[no-untyped-def]
    """The demo city hall: nine services (residents has three steps), eight counters."""
    with database.session_scope(engine) as session:
        seeded = seed_structure(session)
        services = {s.code: s.id for s in session.exec(select(Service))}
        counters = {c.number: c.id for c in session.exec(select(Counter))}
        return Office(seeded.id, services, counters)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Ticket:
    """What the kiosk hands a resident."""

    visit_id: int
    number: str
    token: str
    task_ids: list[int]


def issue(app: Any, office: Office, codes: list[str], *, locale: str = "en",
          details: dict[str, Any] | None = None, priority: bool = False) -> Ticket:
    """Issue a ticket through the engine and announce it, as the kiosk's endpoint does."""
    from counter.models import Task

    with database.session_scope(app.state.engine) as session:
        visit = queue.issue_ticket(session, office_id=office.id, service_codes=codes,
                                   locale=locale, priority=priority, details=details,
                                   now=database.utcnow())
        announce(session, app.state.hub, topic_of(office.id), {"type": "issued"})
        tasks = session.exec(select(Task.id).where(Task.visit_id == visit.id)
                             .order_by(Task.position)).all()
        return Ticket(visit.id, visit.ticket_number, visit.status_token, list(tasks))  # type: ignore[arg-type]


def user_id(engine: Any, username: str) -> int:
    """The id of a user."""
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return user.id  # type: ignore[return-value]


def open_counter(client: Any, office: Office, number: str, codes: list[str]) -> None:
    """Sign the client's staff member in to a counter through the form."""
    response = client.post("/counter/open", data={
        "counter_id": str(office.counters[number]),
        "service_id": [str(office.services[code]) for code in codes]},
        follow_redirects=False)
    assert response.status_code == 303, response.text


HTMX = {"HX-Request": "true"}


def receive(websocket: Any, timeout: float = 5.0) -> dict[str, Any]:
    """The next JSON message of a test websocket; fails instead of hanging."""

    async def next_message() -> Any:
        with anyio.fail_after(timeout):
            return await websocket._send_rx.receive()

    message = websocket.portal.call(next_message)
    websocket._raise_on_close(message)
    return json.loads(message["text"])  # type: ignore[no-any-return]


def assert_silent(websocket: Any, wait: float = 0.3) -> None:
    """Nothing arrives on the socket for `wait` seconds."""
    with pytest.raises(TimeoutError):
        receive(websocket, wait)


def receive_state(websocket: Any, timeout: float = 5.0) -> dict[str, Any]:
    """The next state message, skipping pings."""
    while True:
        message = receive(websocket, timeout)
        if message["type"] != "ping":
            return message
