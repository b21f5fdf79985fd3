"""A town of its own for the call-board tests: one office with three services and counters on
two floors, a second office, two call boards and a kiosk; and calls made as a terminal makes
them (with their announcement)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from counter import queue
from counter.models import Counter, CounterAllowedService, Office, Service
from counter.topics import topic_of
from frontyard import database
from frontyard.auth import DeviceKind, Role, User, create_device
from frontyard.realtime import announce


@dataclass(frozen=True)
class Town:
    """Ids and tokens of the seeded town."""

    office_id: int
    services: dict[str, int]  # by code
    counters: dict[str, int]  # by number
    staff: dict[str, int]  # by counter number
    boards: dict[str, int]  # device ids by name
    tokens: dict[str, str]  # device tokens by name


def seed_town(engine: Any) -> Town:
    """Office "minato": zei (Z), kokuho (K), jumin (J); counters 1 and 2 on 1F, counter 3 on
    2F (it may serve jumin only); office "kita" with nenkin; boards "lobby" and "upstairs" and
    kiosk "entrance" of minato, board "kita-hall" of kita."""
    with database.session_scope(engine) as session:
        minato = Office(code="minato", names={"ja": "港支所", "en": "Minato branch"})
        kita = Office(code="kita", names={"ja": "北支所", "en": "Kita branch"})
        session.add_all([minato, kita])
        session.flush()
        services = {}
        for order, (code, prefix, ja, en) in enumerate([
                ("zei", "Z", "税", "Taxes"), ("kokuho", "K", "国保", "Health insurance"),
                ("jumin", "J", "住民票", "Residence")]):
            service = Service(office_id=minato.id, code=code, prefix=prefix, sort_order=order,
                              names={"ja": ja, "en": en})
            session.add(service)
            services[code] = service
        nenkin = Service(office_id=kita.id, code="nenkin", prefix="N", names={"ja": "年金"})
        session.add(nenkin)
        counters, staff = {}, {}
        for number, zone in (("1", "1F"), ("2", "1F"), ("3", "2F")):
            counter = Counter(office_id=minato.id, number=number, zone=zone,
                              names={"ja": f"{number}番窓口", "en": f"Desk {number}"})
            user = User(username=f"minato-{number}", password_hash="!", role=Role.STAFF)
            session.add_all([counter, user])
            counters[number], staff[number] = counter, user
        session.flush()
        session.add(CounterAllowedService(counter_id=counters["3"].id,
                                          service_id=services["jumin"].id))
        boards, tokens = {}, {}
        for name, kind, office in (("lobby", DeviceKind.BOARD, minato),
                                   ("upstairs", DeviceKind.BOARD, minato),
                                   ("entrance", DeviceKind.KIOSK, minato),
                                   ("kita-hall", DeviceKind.BOARD, kita)):
            device, token, _code = create_device(session, name, kind, office_id=office.id)
            boards[name], tokens[name] = device.id, token
        session.flush()
        return Town(minato.id, {code: s.id for code, s in services.items()},  # type: ignore[misc]
                    {n: c.id for n, c in counters.items()},  # type: ignore[misc]
                    {n: u.id for n, u in staff.items()}, boards, tokens)  # type: ignore[misc]


@pytest.fixture
def town(engine) -> Town:  # type: ignore[no-untyped-def]
    """The seeded town (see `seed_town`)."""
    return seed_town(engine)


def bearer(town: Town, name: str) -> dict[str, str]:
    """The headers a paired device sends."""
    return {"Authorization": f"Bearer {town.tokens[name]}"}


def call(app: Any, town: Town, code: str, number: str) -> str:
    """Issue a ticket for a service and call it to a counter; returns the ticket number."""
    with database.session_scope(app.state.engine) as session:
        visit = queue.issue_ticket(session, office_id=town.office_id, service_codes=[code])
        queue.open_counter(session, town.counters[number], town.staff[number],
                           [town.services[code]])
        task = queue.call_next(session, town.counters[number], town.staff[number])
        assert task is not None
        announce(session, app.state.hub, topic_of(town.office_id),
                 {"type": "task", "task": task.id, "action": "call"})
        return visit.ticket_number
