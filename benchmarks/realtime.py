"""Delivery latency of live screens: Frontyard against a minimal fan-out baseline.

    python benchmarks/realtime.py [--sizes 100 1000 3000] [--calls 15] [--pause-client-gc]

For each size N, one Frontyard worker (uvicorn, SQLite, per-message deflate off) serves N
websockets: a tenth are call boards, the rest residents' status pages spread over the visits
waiting in one service (at most 300, a busy lobby). A staff member then calls the next ticket
through the real endpoint (`POST /counter/call-next`: database write, announcement, renders),
and every socket's first state message after the POST began is timed. Between calls the
called ticket is served and completed (not timed). The same N sockets then connect to a
~40-line Starlette app that sends one pre-rendered fragment to every socket in a plain loop
when poked over HTTP. Printed per size: p50/p99/max latency of both, Frontyard's p99 as a
ratio to the baseline's, and the server's resident memory with all sockets open.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import websockets

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "tax"
COUNTER = "7"
MAX_VISITS = 300
#: Untimed calls first, on both servers: the first compiles queries and templates.
WARM_UP = 1
PASSWORD = "bench-staff-password"

BASELINE = '''
import asyncio
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute

FRAGMENT = '{"type":"state","parts":{"board-live":"' + "<li>A-001 → 3</li>" * 40 + '"}}'
sockets = set()


async def live(websocket):
    await websocket.accept()
    sockets.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except Exception:
        pass
    finally:
        sockets.discard(websocket)


async def fire(request):
    for websocket in list(sockets):
        try:
            await websocket.send_text(FRAGMENT)
        except Exception:
            sockets.discard(websocket)
    return PlainTextResponse("ok")


app = Starlette(routes=[WebSocketRoute("/ws", live), Route("/fire", fire, methods=["POST"])])
'''


def free_port() -> int:
    """An unused TCP port on localhost."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident memory of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve(app: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start one uvicorn worker and wait until it accepts connections."""
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning",
         "--ws", "websockets-sansio", "--ws-per-message-deflate", "false"],
        cwd=cwd, env={**os.environ, **env})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def prepare_frontyard(data_dir: Path, visits: int) -> tuple[dict[str, str], list[str], str]:
    """Migrate and seed a database; returns the server's environment, status tokens and a
    board token."""
    sys.path.insert(0, str(ROOT))
    from composition import wiring
    from composition.demo import seed_structure
    from counter import queue
    from frontyard import database
    from frontyard.auth import DeviceKind, Role, create_device, create_user
    from frontyard.settings import Settings

    env = {"FRONTYARD_DATA_DIR": str(data_dir), "FRONTYARD_SECRET_KEY": "benchmark-secret-key",
           "FRONTYARD_BASE_URL": "http://127.0.0.1"}
    settings = Settings(data_dir=data_dir, secret_key=env["FRONTYARD_SECRET_KEY"])
    wiring.connect_features()  # the seeded queue is counted by analytics, as served
    database.upgrade(settings.resolved_database_url())
    engine = database.make_engine(settings.resolved_database_url())
    with database.session_scope(engine) as session:
        office = seed_structure(session)
        create_user(session, "bench", PASSWORD, Role.STAFF)
        _, board_token, _ = create_device(session, "bench-board", DeviceKind.BOARD, office.id)
        tokens = [queue.issue_ticket(session, office_id=office.id, service_codes=[SERVICE],
                                     locale="ja").status_token for _ in range(visits)]
    engine.dispose()
    return env, tokens, board_token


class Clients:
    """N websockets that timestamp every state message they receive."""

    def __init__(self, pause_gc: bool = False) -> None:
        self.pause_gc = pause_gc
        self.sockets: list[websockets.ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.arrivals: list[float | None] = []
        self.mark = 0.0

    async def connect(self, url: str, count: int, hello: list[str | None],
                      headers: dict[str, str] | None = None) -> None:
        """Open `count` sockets (in batches, like phones arriving) and read their first state."""
        for start in range(0, count, 200):
            batch = [self._open(url, hello[i % len(hello)] if hello else None, headers)
                     for i in range(start, min(count, start + 200))]
            await asyncio.gather(*batch)

    async def _open(self, url: str, hello: str | None, headers: dict[str, str] | None) -> None:
        connection = await websockets.connect(url, additional_headers=headers, compression=None,
                                              max_queue=None, open_timeout=60)
        if hello is not None:
            await connection.send(hello)
        index = len(self.sockets)
        self.sockets.append(connection)
        self.arrivals.append(None)
        self.readers.append(asyncio.create_task(self._read(connection, index)))

    async def _read(self, connection: websockets.ClientConnection, index: int) -> None:
        async for message in connection:
            now = time.perf_counter()
            if '"ping"' in message[:20]:
                await connection.send('{"type":"pong"}')
            elif self.arrivals[index] is None and now >= self.mark:
                self.arrivals[index] = now

    async def measure(self, action: object, timeout: float = 20.0) -> list[float]:
        """Run an action; the latency (ms) of every socket's first message after it began.

        This process holds thousands of sockets' objects: they are frozen out of its garbage
        collector first, or a full collection (over 100 ms) now and then stops every reader
        at once and counts as the server's latency. With `pause_gc`, its collector is also
        paused while it listens: the stricter yardstick, under which the baseline at 1,000
        sockets is about twice as fast (see docs/realtime.md)."""
        await self.quiet()
        gc.freeze()
        if self.pause_gc:
            gc.disable()
        try:
            self.arrivals = [None] * len(self.sockets)
            self.mark = time.perf_counter()
            await action()  # type: ignore[operator]
            deadline = time.monotonic() + timeout
            while any(a is None for a in self.arrivals) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        finally:
            gc.enable()
        return [(a - self.mark) * 1000 for a in self.arrivals if a is not None]

    async def quiet(self, period: float = 0.4) -> None:
        """Wait until no socket has received anything for `period` seconds."""
        self.arrivals = [None] * len(self.sockets)
        self.mark = time.perf_counter()
        while True:
            await asyncio.sleep(period)
            if all(a is None for a in self.arrivals):
                return
            self.arrivals = [None] * len(self.sockets)
            self.mark = time.perf_counter()

    async def close(self) -> None:
        """Close every socket."""
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*(s.close() for s in self.sockets), return_exceptions=True)


async def run_frontyard(size: int, calls: int,
                        pause_gc: bool) -> tuple[list[float], float, int]:
    """Latencies (ms) of `calls` calls with `size` sockets, the server's RSS and sockets seen."""
    visits = min(MAX_VISITS, max(size, 1)) + WARM_UP + calls
    with tempfile.TemporaryDirectory() as folder:
        env, tokens, board_token = prepare_frontyard(Path(folder), visits)
        port = free_port()
        env["FRONTYARD_BASE_URL"] = f"http://127.0.0.1:{port}"
        server = serve("composition.asgi:app", port, env, ROOT)
        clients = Clients(pause_gc)
        try:
            base = f"http://127.0.0.1:{port}"
            headers = {"Origin": base, "Sec-Fetch-Site": "same-origin"}
            async with httpx2.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
                await http.post("/login", data={"username": "bench", "password": PASSWORD})
                await http.post("/counter/open", data={"counter_id": COUNTER,
                                                        "service_id": ["5"]})
                boards = max(1, size // 10)
                ws = f"ws://127.0.0.1:{port}"
                await clients.connect(f"{ws}/ws/board?lang=en", boards, [],
                                      {"Authorization": f"Bearer {board_token}"})
                hellos = [json.dumps({"type": "hello", "token": t}) for t in
                          tokens[WARM_UP + calls:][:MAX_VISITS]]
                await clients.connect(f"{ws}/ws/status", size - boards, hellos)
                await clients.quiet()
                memory = rss_mib(server.pid)
                latencies: list[float] = []
                for number in range(WARM_UP + calls):
                    async def call() -> None:
                        response = await http.post("/counter/call-next",
                                                   headers={"HX-Request": "true"})
                        assert response.status_code == 200, response.text[:300]
                    measured = await clients.measure(call)
                    if number >= WARM_UP:  # the first call compiles queries and templates
                        latencies += measured
                    await serve_and_complete(http)
                return latencies, memory, len(clients.sockets)
        finally:
            await clients.close()
            server.terminate()
            server.wait()


async def serve_and_complete(http: httpx2.AsyncClient) -> None:
    """Finish the called ticket so the counter is free for the next call (not timed)."""
    page = (await http.get("/counter")).text
    marker = 'data-current-task="'
    task_id = page.split(marker, 1)[1].split('"', 1)[0]
    for action in ("start", "complete"):
        await http.post(f"/counter/tasks/{task_id}/{action}", headers={"HX-Request": "true"})


async def run_baseline(size: int, calls: int, pause_gc: bool) -> tuple[list[float], float]:
    """Latencies (ms) of the plain loop, and its RSS."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "baseline_app.py").write_text(BASELINE)
        port = free_port()
        server = serve("baseline_app:app", port, {}, Path(folder))
        clients = Clients(pause_gc)
        try:
            await clients.connect(f"ws://127.0.0.1:{port}/ws", size, [])
            memory = rss_mib(server.pid)
            latencies: list[float] = []
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for number in range(WARM_UP + calls):
                    async def fire() -> None:
                        await http.post("/fire")
                    measured = await clients.measure(fire)
                    if number >= WARM_UP:
                        latencies += measured
            return latencies, memory
        finally:
            await clients.close()
            server.terminate()
            server.wait()


def summary(latencies: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max in milliseconds."""
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, ordered[-1]


async def main(sizes: list[int], calls: int, pause_gc: bool) -> None:
    """Run every size and print the table."""
    print(f"{'clients':>7} | {'frontyard p50/p99/max ms':>26} | {'baseline p50/p99/max ms':>25}"
          f" | {'p99 ratio':>9} | {'RSS MiB fy/base':>15}")
    for size in sizes:
        measured, memory, connected = await run_frontyard(size, calls, pause_gc)
        baseline, base_memory = await run_baseline(size, calls, pause_gc)
        fy, base = summary(measured), summary(baseline)
        missing = connected * calls - len(measured)
        print(f"{size:>7} | {fy[0]:7.1f} {fy[1]:8.1f} {fy[2]:8.1f} | "
              f"{base[0]:7.1f} {base[1]:7.1f} {base[2]:8.1f} | {fy[1] / base[1]:9.2f} | "
              f"{memory:6.0f} / {base_memory:5.0f}" + (f"  ({missing} not received)"
                                                         if missing else ""), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 3000])
    parser.add_argument("--calls", type=int, default=15)
    parser.add_argument("--pause-client-gc", action="store_true",
                        help="pause the measuring process's garbage collector while it listens")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.sizes, arguments.calls, arguments.pause_client_gc))
