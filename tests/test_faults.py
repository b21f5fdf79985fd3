"""Faults survived, with real processes on PostgreSQL: a worker SIGKILLed under connected
screens, the whole service restarted mid-day, and a burst of kiosks through Caddy.

Each test starts `frontyard serve` workers (and Caddy) on free loopback ports against its own
test database and kills every process in its teardown.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from collections import Counter as Tally
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from sqlmodel import Session, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from counter.models import Event, EventKind, Task, TaskState, Visit
from frontyard import database
from frontyard.settings import Settings
from tests.aio import run_async
from tests.conftest import empty_database, skip_or_fail
from tests.consistency import problems
from tests.processes import Processes, Screen, Worker, issue, next_state, seed, staff_client

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_base_url: str | None) -> str:
    """This run's PostgreSQL test database, emptied; skipped (failed in CI) without one."""
    if postgres_base_url is None:
        skip_or_fail("fault tests need PostgreSQL: set FRONTYARD_TEST_POSTGRES_URL")
    assert postgres_base_url is not None
    empty_database(postgres_base_url)
    return postgres_base_url


@pytest.fixture
def processes(pg: str, tmp_path) -> Iterator[Processes]:  # type: ignore[no-untyped-def]
    """Starts workers and Caddy for one test; kills them all afterwards, pass or fail."""
    running = Processes(pg, tmp_path)
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def engine(pg: str):  # type: ignore[no-untyped-def]
    """An engine on the test database, to check what the workers wrote."""
    engine = database.make_engine(Settings(database_url=pg).resolved_database_url())
    yield engine
    engine.dispose()


def board_socket(processes: Processes, base: str, world: dict[str, Any]) -> ClientConnection:
    """A call board (paired by its device cookie) watching the office at `base` (ws://…)."""
    return processes.keep(connect(  # type: ignore[no-any-return]
        f"{base}/ws/board?office={world['office_id']}&lang=en",
        additional_headers={"Cookie": f"fy_device={world['board']}"}, open_timeout=10))


def status_socket(processes: Processes, base: str, token: str) -> ClientConnection:
    """A resident's phone following one ticket at `base` (ws://…)."""
    socket: ClientConnection = processes.keep(connect(f"{base}/ws/status", open_timeout=10))
    socket.send(json.dumps({"type": "hello", "token": token, "lang": "en"}))
    return socket


def reconnect(workers: list[Worker], opener: Any) -> tuple[ClientConnection, Worker]:
    """What a screen does after losing its socket: try the workers until one answers."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for worker in workers:
            try:
                return opener(worker), worker
            except (OSError, ConnectionClosed, TimeoutError):
                continue
        time.sleep(0.2)
    raise AssertionError("no worker accepted the screen again")


def state_until(socket: ClientConnection, condition: Any, timeout: float = 15) -> dict[str, Any]:
    """Read states until one satisfies `condition`; fail with the last one otherwise."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            state = next_state(socket, timeout=deadline - time.monotonic())
        except TimeoutError:
            break
        if condition(state):
            return state
    raise AssertionError(f"no state matched; last: {state}")


def called_numbers(board: dict[str, Any]) -> set[str]:
    """Ticket numbers the board shows as called (its calling and recent lists)."""
    return set(re.findall(r'data-ticket="([A-Z]-\d+)"', board["parts"]["board-live"]))


def waiting_counts(board: dict[str, Any]) -> dict[str, int]:
    """The board's waiting count per service code."""
    html = board["parts"]["board-live"]
    return {code: int(count) for code, count in re.findall(
        r'data-service="(\w+)">.*?<span class="count">(\d+)</span>', html, flags=re.S)}


def test_worker_killed_under_connected_screens(processes, engine):
    """SIGKILL the worker a board and a phone are connected to: they reconnect to the
    survivor and get the full, correct state; nothing issued or called is lost."""
    world = seed(processes.database_url)
    survivor, doomed = processes.start_worker(), processes.start_worker()
    kiosk = processes.keep(httpx2.Client(base_url=survivor.url, timeout=30))
    staff = processes.keep(staff_client(survivor.url, world["staff"][0]))
    counter = world["counters"]["1"]
    tickets = [issue(kiosk, world["kiosks"][0], ["residents"]) for _ in range(3)]

    board = board_socket(processes, doomed.ws_url, world)
    phone = status_socket(processes, doomed.ws_url, tickets[0]["status_token"])
    assert next_state(board)["type"] == "state"
    assert 'data-state="waiting"' in next_state(phone)["parts"]["status-live"]

    assert staff.post(f"/api/v1/counters/{counter}/open",
                      json={"services": ["residents"]}).status_code == 200
    first = staff.post(f"/api/v1/counters/{counter}/call-next").json()["task"]
    assert first["ticket_number"] == tickets[0]["ticket_number"]
    # The call made on the survivor reached the screens on the other worker (NOTIFY).
    state_until(board, lambda s: tickets[0]["ticket_number"] in called_numbers(s))
    state_until(phone, lambda s: 'data-state="called"' in s["parts"]["status-live"])

    processes.kill(doomed)
    with pytest.raises((ConnectionClosed, TimeoutError)):
        while True:
            board.recv(timeout=5)
    # While the screens are away: one more ticket and the next call, on the survivor.
    late = issue(kiosk, world["kiosks"][1], ["residents"])
    staff.post(f"/api/v1/tasks/{first['id']}/start")
    staff.post(f"/api/v1/tasks/{first['id']}/complete")
    second = staff.post(f"/api/v1/counters/{counter}/call-next").json()["task"]
    assert second["ticket_number"] == tickets[1]["ticket_number"]

    board, where = reconnect([doomed, survivor],
                             lambda w: board_socket(processes, w.ws_url, world))
    assert where is survivor
    shown = next_state(board)  # the full state, at once
    assert {tickets[0]["ticket_number"], tickets[1]["ticket_number"]} <= called_numbers(shown)
    assert waiting_counts(shown)["residents"] == 2  # tickets 3 and the late one
    phone, _ = reconnect([doomed, survivor], lambda w: status_socket(
        processes, w.ws_url, tickets[1]["status_token"]))
    card = next_state(phone)["parts"]["status-live"]
    assert 'data-state="called"' in card and "counter 1" in card

    with Session(engine) as session:
        numbers = set(session.exec(select(Visit.ticket_number)).all())
        calls = session.exec(select(Event).where(Event.kind == EventKind.CALLED)).all()
    assert numbers == {t["ticket_number"] for t in [*tickets, late]}
    assert len(calls) == 2
    assert problems(engine) == []


def _snapshot(client: httpx2.Client, world: dict[str, Any]) -> dict[str, Any]:
    """What the service says about queues and counters (times aside)."""
    queue = client.get(f"/api/v1/offices/{world['office']}/queue").json()
    counters = {}
    for number in ("1", "4"):
        state = client.get(f"/api/v1/counters/{world['counters'][number]}").json()
        current = state["current"]
        counters[number] = (state["is_open"], state["staff_user_id"], state["services"],
                            current and (current["ticket_number"], current["state"]),
                            [w["ticket_number"] for w in state["waiting"]])
    services = [(s["code"], s["waiting"], s["on_hold"], s["counters_open"])
                for s in queue["services"]]
    calls = sorted((c["ticket_number"], c["counter_number"]) for c in queue["calls"])
    return {"services": services, "calls": calls, "counters": counters}


def test_whole_service_restarted_mid_day(processes, engine):
    """Kill every worker and start them again: queues, numbering and open counters are as
    before, and the next ticket continues the sequence."""
    world = seed(processes.database_url)
    workers = [processes.start_worker(), processes.start_worker()]
    kiosk = processes.keep(httpx2.Client(base_url=workers[0].url, timeout=30))
    clerk = processes.keep(staff_client(workers[1].url, world["staff"][0]))
    other = processes.keep(staff_client(workers[0].url, world["staff"][1]))
    issued = [issue(kiosk, world["kiosks"][n % 3], codes) for n, codes in enumerate(
        [["residents"], ["insurance"], ["residents", "insurance"], ["residents"],
         ["insurance"], ["residents"]])]
    one, four = world["counters"]["1"], world["counters"]["4"]
    clerk.post(f"/api/v1/counters/{one}/open", json={"services": ["residents"]})
    other.post(f"/api/v1/counters/{four}/open", json={"services": ["insurance"]})
    task = clerk.post(f"/api/v1/counters/{one}/call-next").json()["task"]
    clerk.post(f"/api/v1/tasks/{task['id']}/start")
    other.post(f"/api/v1/counters/{four}/call-next")
    before = _snapshot(clerk, world)

    for worker in workers:
        processes.kill(worker)
    workers = [processes.start_worker(w.port) for w in workers]

    clerk = processes.keep(httpx2.Client(base_url=workers[1].url, timeout=30,
                                        cookies=clerk.cookies,
                                        headers={"Sec-Fetch-Site": "same-origin"}))
    assert _snapshot(clerk, world) == before  # and the staff session survived the restart
    next_a = issue(kiosk, world["kiosks"][0], ["residents"])
    last_a = max(int(t["ticket_number"].split("-")[1]) for t in issued
                 if t["ticket_number"].startswith("A-"))
    assert next_a["ticket_number"] == f"A-{last_a + 1:03d}"
    # The counter in hand carries on where it stopped.
    done = clerk.post(f"/api/v1/tasks/{task['id']}/advance")
    assert done.status_code == 200, done.text
    assert problems(engine) == []


def test_burst_of_kiosks_through_caddy(processes, engine):
    """20 kiosks × 50 tickets at once through Caddy to two workers: no duplicate number, no
    gap in the numbers or the events, and a board through Caddy shows every ticket."""
    if shutil.which("caddy") is None:
        skip_or_fail("caddy not installed (apt-get install caddy)")
    world = seed(processes.database_url)
    workers = [processes.start_worker(), processes.start_worker()]
    address = processes.start_caddy(workers)
    services = ["residents", "insurance", "tax", "childcare"]
    board = Screen(board_socket(processes, f"ws://{address}", world))
    board.wait_for(lambda state: True)

    async def kiosk(number: int, client: httpx2.AsyncClient) -> list[str]:
        token = world["kiosks"][number]
        numbers = []
        for n in range(50):
            response = await client.post(
                "/api/v1/tickets", headers={"Authorization": f"Bearer {token}"},
                json={"services": [services[(number + n) % len(services)]]})
            assert response.status_code == 201, response.text
            numbers.append(response.json()["ticket_number"])
        return numbers

    async def burst() -> list[str]:
        async with httpx2.AsyncClient(base_url=f"http://{address}", timeout=60,
                                     limits=httpx2.Limits(max_connections=20)) as client:
            results = await asyncio.gather(*(kiosk(n, client) for n in range(20)))
        return [number for numbers in results for number in numbers]

    started = time.monotonic()
    numbers = run_async(burst())
    elapsed = time.monotonic() - started
    assert len(numbers) == len(set(numbers)) == 1000
    by_prefix = Tally(number.split("-")[0] for number in numbers)
    for prefix, count in by_prefix.items():
        issued = sorted(int(n.split("-")[1]) for n in numbers if n.startswith(prefix + "-"))
        assert issued == list(range(1, count + 1)), f"gap in {prefix}"

    with Session(engine) as session:
        visits = session.exec(select(Visit)).all()
        events = session.exec(select(Event.visit_id, Event.kind)).all()
        waiting = Tally(session.exec(select(Task.service_id).where(
            Task.state == TaskState.WAITING)).all())
    per_visit = Tally((visit_id, kind) for visit_id, kind in events)
    assert len(visits) == 1000
    assert all(per_visit[(v.id, EventKind.ISSUED)] == 1 and per_visit[(v.id, EventKind.QUEUED)]
               == 1 for v in visits)
    expected = {code: waiting[world["services"][code]] for code in services}
    assert sum(expected.values()) == 1000
    shown = board.wait_for(lambda s: all(
        waiting_counts(s).get(code) == count for code, count in expected.items()))
    assert sum(waiting_counts(shown).values()) == 1000
    assert problems(engine) == []
    print(f"1000 tickets through Caddy in {elapsed:.1f} s")


def test_caddy_keeps_versioned_static_files_a_year_and_compresses(processes):
    """Pages link static files with a content version; Caddy lets browsers keep those for a
    year (an upgrade changes their URL), revalidates unversioned ones, and compresses."""
    address = processes.start_caddy([processes.start_worker()])
    with httpx2.Client(base_url=f"http://{address}", timeout=30) as client:
        page = client.get("/crowding").text
        linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
        assert linked and all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in linked)
        stylesheet = next(url for url in linked if url.startswith("/static/css/frontyard.css"))
        versioned = client.get(stylesheet, headers={"Accept-Encoding": "gzip"})
        assert versioned.status_code == 200
        assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert versioned.headers["content-encoding"] == "gzip"
        unversioned = client.get("/static/css/frontyard.css")
        assert "immutable" not in unversioned.headers.get("cache-control", "")
