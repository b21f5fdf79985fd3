"""Sustained load through Caddy: tickets issued and called while 2,000 phones, 50 staff
terminals and 5 call boards are connected.

    python benchmarks/load.py [--configs sqlite pg2 pg4] [--seconds 60] [--phones 2000]
                              [--issue-rate 4] [--call-rate 4] [--postgres URL]

Per configuration (SQLite with one worker; PostgreSQL with two and with four workers), on
loopback only:

1. a fresh database gets the demo office, 50 counters, 50 staff members and `--phones`
   tickets already waiting (spread over the services), one phone per ticket;
2. the workers (`frontyard serve`) start behind Caddy, run with the repository's Caddyfile
   over plain HTTP;
3. every screen connects through Caddy: the phones (`/ws/status`), one terminal per staff
   member signed in at its own counter (`/ws/counter`) and the boards (`/ws/board`); they
   answer pings like the browser pages do;
4. for `--seconds`, kiosks issue tickets at `--issue-rate` a second and the staff call at
   `--call-rate` a second in all (each call first starts and completes the ticket the counter
   holds), both open-loop: requests are sent on schedule, whatever the answers' pace.

Printed: requests per second, p50/p99 latency of each action, p50/p99 websocket delivery
(from the moment the action's request is sent to the first message a screen it changes
receives: the called phone showing "called", each board listing the call, the caller's
terminal, every other phone waiting in that service), errors, and each worker's memory (RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402
import websockets  # noqa: E402

from tests.processes import Processes, rss_mib, seed  # noqa: E402

BOARDS = 5
STAFF = 50
CONNECT_BATCH = 100
CALLED = 'data-state=\\"called\\"'  # as it appears inside the JSON text frame


# ---------------------------------------------------------------------------------------------
# Setting up a configuration
# ---------------------------------------------------------------------------------------------


def prepare_database(kind: str, workdir: Path, postgres: str) -> str:
    """A fresh, migrated database: a SQLite file, or a new PostgreSQL database."""
    from sqlalchemy.engine import make_url

    from frontyard import database
    from frontyard.settings import Settings

    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'load.sqlite3'}"
    else:
        import psycopg

        base = make_url(postgres)
        name = f"frontyard_load_{os.getpid()}"
        admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
    database.upgrade(Settings(database_url=url).resolved_database_url())
    return url


def drop_database(url: str) -> None:
    """Remove a PostgreSQL database made by `prepare_database`."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(database="postgres", drivername="postgresql").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def populate(url: str, phones: int, staff: int = STAFF) -> dict[str, Any]:
    """The office with `staff` counters and staff members, and `phones` tickets waiting."""
    from argon2 import PasswordHasher
    from sqlmodel import select

    from counter import queue
    from counter.models import Counter, Service
    from frontyard import auth, database
    from frontyard.settings import Settings

    # Fifty production-strength hashes would cost half a minute here; sign-in speed is not
    # what this benchmark measures (the workers verify whatever parameters the hash names).
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    world = seed(url, kiosks=5, staff=staff)
    engine = database.make_engine(Settings(database_url=url).resolved_database_url())
    try:
        with database.session_scope(engine) as session:
            office_id = world["office_id"]
            for number in range(len(world["counters"]) + 1, staff + 1):
                session.add(Counter(office_id=office_id, number=str(number),
                                    names={"ja": f"{number}番窓口", "en": f"Counter {number}"}))
            session.flush()
            counters = {c.number: c.id for c in session.exec(select(Counter))}
            codes = [s.code for s in session.exec(select(Service).order_by(Service.sort_order))]
            tickets = []
            for n in range(phones):
                visit = queue.issue_ticket(session, office_id=office_id,
                                           service_codes=[codes[n % len(codes)]], locale="en")
                tickets.append((visit.status_token, codes[n % len(codes)]))
        world.update(counters=counters, codes=codes, tickets=tickets)
        return world
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


@dataclass
class Stats:
    """Latencies and errors of one run."""

    actions: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    delivery: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    requests: int = 0

    def error(self, kind: str) -> None:
        """Count one error of a kind."""
        self.errors[kind] += 1


@dataclass
class Screen:
    """One connected websocket and what it waits for."""

    kind: str  # phone, board, terminal
    key: str = ""  # the phone's service, the terminal's counter number
    socket: Any = None
    pending: float | None = None  # when the first unseen change for it was sent
    called_at: float | None = None  # phone: when its own call was sent
    expect: dict[str, float] = field(default_factory=dict)  # board: number → call sent


def percentile(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds (NaN without values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def read_screen(screen: Screen, stats: Stats, running: asyncio.Event) -> None:
    """Answer pings and time the states that arrive."""
    try:
        async for raw in screen.socket:
            now = time.perf_counter()
            if len(raw) < 40 and '"ping"' in raw:
                await screen.socket.send('{"type": "pong"}')
                continue
            if screen.kind == "phone" and screen.called_at is not None and CALLED in raw:
                stats.delivery["phone (called)"].append(now - screen.called_at)
                screen.called_at = None
            if screen.kind == "board" and screen.expect:
                calls = {call["number"] for call in json.loads(raw).get("calls", [])}
                for number in [n for n in screen.expect if n in calls]:
                    stats.delivery["board"].append(now - screen.expect.pop(number))
            if screen.pending is not None:
                label = {"phone": "phone (same queue)", "terminal": "terminal"}.get(screen.kind)
                if label:
                    stats.delivery[label].append(now - screen.pending)
                screen.pending = None
    except websockets.ConnectionClosed:
        if running.is_set():
            stats.error(f"{screen.kind} socket closed")


async def connect_screens(address: str, world: dict[str, Any], staff: list[httpx2.AsyncClient],
                          stats: Stats, running: asyncio.Event) -> list[Screen]:
    """Every phone, terminal and board, connected through Caddy in batches."""
    base = f"ws://{address}"
    screens: list[Screen] = []

    async def phone(token: str, code: str) -> Screen:
        socket = await websockets.connect(f"{base}/ws/status", open_timeout=60,
                                          max_size=2**22, compression=None)
        await socket.send(json.dumps({"type": "hello", "token": token, "lang": "en"}))
        return Screen("phone", code, socket)

    async def board() -> Screen:
        socket = await websockets.connect(
            f"{base}/ws/board?office={world['office_id']}&lang=en", open_timeout=60,
            additional_headers={"Cookie": f"fy_device={world['board']}"}, max_size=2**22,
            compression=None)
        return Screen("board", "", socket)

    async def terminal(number: int, client: httpx2.AsyncClient) -> Screen:
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        socket = await websockets.connect(f"{base}/ws/counter", open_timeout=60,
                                          additional_headers={"Cookie": cookie},
                                          max_size=2**22, compression=None)
        return Screen("terminal", str(number), socket)

    factories = [lambda: board() for _ in range(BOARDS)]
    factories += [lambda n=n, c=c: terminal(n, c) for n, c in enumerate(staff, start=1)]
    factories += [lambda t=t, c=c: phone(t, c) for t, c in world["tickets"]]
    for start in range(0, len(factories), CONNECT_BATCH):
        batch = await asyncio.gather(*(make() for make in factories[start:start + CONNECT_BATCH]),
                                     return_exceptions=True)
        for result in batch:
            if isinstance(result, BaseException):
                stats.error(f"connect: {type(result).__name__}")
            else:
                screens.append(result)
                asyncio.get_running_loop().create_task(read_screen(result, stats, running))
    return screens


# ---------------------------------------------------------------------------------------------
# The load
# ---------------------------------------------------------------------------------------------


async def timed(stats: Stats, kind: str, request: Any) -> httpx2.Response | None:
    """Send a request, record its latency; None (and an error) when it failed."""
    started = time.perf_counter()
    try:
        response = await request
    except httpx2.HTTPError as error:
        stats.error(f"{kind}: {type(error).__name__}")
        return None
    stats.requests += 1
    stats.actions[kind].append(time.perf_counter() - started)
    if response.status_code >= 400:
        stats.error(f"{kind}: HTTP {response.status_code}")
        return None
    return response


async def sign_in_staff(address: str, world: dict[str, Any]) -> list[httpx2.AsyncClient]:
    """Fifty staff members, each signed in and at their own counter serving one service."""
    from tests.processes import STAFF_PASSWORD

    clients = []
    for number, name in enumerate(world["staff"], start=1):
        client = httpx2.AsyncClient(base_url=f"http://{address}", timeout=60,
                                   headers={"Sec-Fetch-Site": "same-origin"})
        response = await client.post("/login", data={"username": name,
                                                      "password": STAFF_PASSWORD})
        assert response.status_code == 303, response.text
        code = world["codes"][(number - 1) % len(world["codes"])]
        counter = world["counters"][str(number)]
        response = await client.post(f"/api/v1/counters/{counter}/open",
                                     json={"services": [code]})
        assert response.status_code == 200, response.text
        clients.append(client)
    return clients


async def run_load(address: str, world: dict[str, Any], staff: list[httpx2.AsyncClient],
                   screens: list[Screen], seconds: float, issue_rate: float,
                   call_rate: float, stats: Stats) -> float:
    """Issue and call on schedule for `seconds`; returns the time it really took."""
    phones: dict[str, list[Screen]] = defaultdict(list)
    by_token: dict[str, Screen] = {}
    for screen, (token, _) in zip([s for s in screens if s.kind == "phone"], world["tickets"],
                                  strict=False):
        phones[screen.key].append(screen)
        by_token[token] = screen
    boards = [s for s in screens if s.kind == "board"]
    terminals = {s.key: s for s in screens if s.kind == "terminal"}
    holding: dict[int, int | None] = dict.fromkeys(range(1, len(staff) + 1))
    busy: set[int] = set()
    tasks: set[asyncio.Task[None]] = set()
    kiosk = httpx2.AsyncClient(base_url=f"http://{address}", timeout=60)

    async def issue(n: int) -> None:
        token = world["kiosks"][n % len(world["kiosks"])]
        code = world["codes"][n % len(world["codes"])]
        await timed(stats, "issue ticket", kiosk.post(
            "/api/v1/tickets", json={"services": [code], "locale": "en"},
            headers={"Authorization": f"Bearer {token}"}))

    async def call(number: int) -> None:
        client, counter = staff[number - 1], world["counters"][str(number)]
        code = world["codes"][(number - 1) % len(world["codes"])]
        try:
            task_id = holding[number]
            if task_id is not None:
                await timed(stats, "start", client.post(f"/api/v1/tasks/{task_id}/start"))
                await timed(stats, "complete", client.post(f"/api/v1/tasks/{task_id}/complete"))
                holding[number] = None
            sent = time.perf_counter()
            for screen in phones[code]:
                screen.pending = screen.pending or sent
            terminals[str(number)].pending = terminals[str(number)].pending or sent
            response = await timed(stats, "call next", client.post(
                f"/api/v1/counters/{counter}/call-next"))
            task = response.json()["task"] if response is not None else None
            if task is not None:
                holding[number] = task["id"]
                for board in boards:
                    board.expect[task["ticket_number"]] = sent
                status = await_status_token(task)
                if status in by_token:
                    by_token[status].called_at = sent
        finally:
            busy.discard(number)

    def await_status_token(task: dict[str, Any]) -> str | None:
        return world["visit_tokens"].get(task["visit_id"])

    started = time.perf_counter()
    issue_numbers, staff_cycle = itertools.count(), itertools.cycle(range(1, len(staff) + 1))
    next_issue = next_call = started
    while (now := time.perf_counter()) - started < seconds:
        if now >= next_issue:
            task = asyncio.create_task(issue(next(issue_numbers)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            next_issue += 1 / issue_rate
        if now >= next_call:
            for _ in range(len(staff)):  # the next counter that is not mid-action
                number = next(staff_cycle)
                if number not in busy:
                    busy.add(number)
                    task = asyncio.create_task(call(number))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    break
            else:
                stats.error("call skipped: every counter busy")
            next_call += 1 / call_rate
        await asyncio.sleep(max(0.0, min(next_issue, next_call) - time.perf_counter()))
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(2)  # let the last deliveries arrive
    await kiosk.aclose()
    return elapsed


def visit_tokens(url: str) -> dict[int, str]:
    """Visit id → status token, to find the phone of a called ticket."""
    from sqlmodel import Session, select

    from counter.models import Visit
    from frontyard import database
    from frontyard.settings import Settings

    engine = database.make_engine(Settings(database_url=url).resolved_database_url())
    try:
        with Session(engine) as session:
            return {v.id: v.status_token for v in session.exec(select(Visit))}  # type: ignore[misc]
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# One configuration, end to end
# ---------------------------------------------------------------------------------------------


async def measure(address: str, world: dict[str, Any], args: argparse.Namespace,
                  workers: list[Any]) -> tuple[Stats, float, float, list[float]]:
    """Connect everything, run the load, and return the statistics."""
    stats = Stats()
    running = asyncio.Event()
    running.set()
    staff = await sign_in_staff(address, world)
    connect_started = time.perf_counter()
    screens = await connect_screens(address, world, staff, stats, running)
    connected_in = time.perf_counter() - connect_started
    await asyncio.sleep(3)  # initial states delivered
    for screen in screens:
        screen.pending = None
    elapsed = await run_load(address, world, staff, screens, args.seconds, args.issue_rate,
                             args.call_rate, stats)
    memory = [rss_mib(worker.process.pid) for worker in workers]
    running.clear()
    for screen in screens:
        with contextlib.suppress(Exception):
            await screen.socket.close()
    for client in staff:
        await client.aclose()
    stats.errors["screens connected"] = len(screens)  # shown, not an error (see report)
    return stats, elapsed, connected_in, memory


def run_configuration(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Set up, measure and tear down one configuration."""
    kind, workers_wanted = {"sqlite": ("sqlite", 1), "pg2": ("pg", 2), "pg4": ("pg", 4)}[name]
    workdir = Path(tempfile.mkdtemp(prefix=f"frontyard-load-{name}-"))
    url = prepare_database(kind, workdir, args.postgres)
    processes = Processes(url, workdir, env={"FRONTYARD_LOG_FORMAT": "json"})
    try:
        world = populate(url, args.phones, args.staff)
        world["visit_tokens"] = visit_tokens(url)
        workers = [processes.start_worker() for _ in range(workers_wanted)]
        address = processes.start_caddy(workers)
        stats, elapsed, connected_in, memory = asyncio.run(
            measure(address, world, args, workers))
    finally:
        processes.close()
        if kind == "pg":
            drop_database(url)
    return {"name": name, "workers": workers_wanted, "stats": stats, "elapsed": elapsed,
            "connected_in": connected_in, "memory": memory}


def report(result: dict[str, Any]) -> None:
    """Print one configuration's figures."""
    stats: Stats = result["stats"]
    connected = stats.errors.pop("screens connected", 0)
    print(f"\n== {result['name']}: {result['workers']} worker(s); {connected} screens "
          f"connected in {result['connected_in']:.1f} s; load ran {result['elapsed']:.1f} s")
    print(f"throughput: {stats.requests / result['elapsed']:.1f} requests/s "
          f"({len(stats.actions['issue ticket']) / result['elapsed']:.2f} tickets/s, "
          f"{len(stats.actions['call next']) / result['elapsed']:.2f} calls/s)")
    print(f"{'action':<22}{'n':>7}{'p50 ms':>10}{'p99 ms':>10}")
    for kind, values in stats.actions.items():
        print(f"{kind:<22}{len(values):>7}{percentile(values, 0.5):>10.0f}"
              f"{percentile(values, 0.99):>10.0f}")
    print(f"{'delivery':<22}{'n':>7}{'p50 ms':>10}{'p99 ms':>10}")
    for kind, values in sorted(stats.delivery.items()):
        print(f"{kind:<22}{len(values):>7}{percentile(values, 0.5):>10.0f}"
              f"{percentile(values, 0.99):>10.0f}")
    errors = sum(stats.errors.values())
    detail = ", ".join(f"{kind}: {n}" for kind, n in sorted(stats.errors.items()))
    print(f"errors: {errors}" + (f" ({detail})" if detail else ""))
    print("memory per worker (RSS): " + ", ".join(f"{m:.0f} MiB" for m in result["memory"])
          + f" (mean {statistics.fmean(result['memory']):.0f} MiB)")


def main() -> None:
    """Run the chosen configurations one after the other."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=["sqlite", "pg2", "pg4"],
                        choices=["sqlite", "pg2", "pg4"])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=STAFF, help="staff terminals")
    parser.add_argument("--issue-rate", type=float, default=4.0, help="tickets per second")
    parser.add_argument("--call-rate", type=float, default=4.0, help="calls per second")
    parser.add_argument("--postgres", default=os.environ.get(
        "FRONTYARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    print(f"load: {args.phones} phones, {args.staff} terminals, {BOARDS} boards; "
          f"{args.issue_rate}/s tickets, {args.call_rate}/s calls for {args.seconds:.0f} s; "
          f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name in args.configs:
        report(run_configuration(name, args))


if __name__ == "__main__":
    main()
