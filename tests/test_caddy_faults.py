"""Production as documented survives faults: the shipped Caddyfile in front of two workers on
PostgreSQL, with a worker killed under load, aborted uploads, and a database outage.

Real processes (tests/processes.py), each test on its own ports, all killed in teardown.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import skip_or_fail
from tests.processes import Processes, TcpProxy, Worker, seed
from tests.test_faults import pg as pg  # fixtures, used by name
from tests.test_faults import processes as processes

pytestmark = pytest.mark.postgres
SAME_SITE = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture(autouse=True)
def caddy() -> None:
    """These tests are about Caddy: skipped without it (failed in CI)."""
    if shutil.which("caddy") is None:
        skip_or_fail("caddy not installed (apt-get install caddy)")


@dataclass
class Outcome:
    """One request of the load: when it started and ended, and whether it got its answer."""

    started: float
    ended: float
    ok: bool
    what: str


class Load:
    """Kiosks issuing tickets and phones reading the queue through Caddy, on threads, until
    stopped; every request's outcome is kept."""

    def __init__(self, address: str, world: dict[str, Any], clients: int = 6) -> None:
        self.address, self.world = address, world
        self.outcomes: list[Outcome] = []
        self.running = True
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True)
                        for n in range(clients)]
        for thread in self.threads:
            thread.start()

    def _run(self, number: int) -> None:
        kiosk = {"Authorization": f"Bearer {self.world['kiosks'][number]}"}
        with httpx2.Client(base_url=f"http://{self.address}", timeout=20) as client:
            while self.running:
                started = time.monotonic()
                try:
                    if number % 2:
                        response = client.get(f"/api/v1/offices/{self.world['office']}/queue")
                        ok = response.status_code == 200
                    else:
                        response = client.post("/api/v1/tickets", headers=kiosk,
                                               json={"services": ["residents"]})
                        ok = response.status_code == 201
                    what = f"{response.request.method} {response.status_code}"
                except httpx2.HTTPError as error:
                    ok, what = False, f"{'GET' if number % 2 else 'POST'} {error!r}"
                self.outcomes.append(Outcome(started, time.monotonic(), ok, what))
                time.sleep(0.02)

    def stop(self) -> list[Outcome]:
        """Stop the clients and return what happened."""
        self.running = False
        for thread in self.threads:
            thread.join(timeout=30)
        return self.outcomes


def two_workers_behind_caddy(processes: Processes,
                             env: dict[str, str] | None = None) -> tuple[dict[str, Any], list[Any],
                                                                          str]:
    """The demo office seeded, two workers (with `env`) and Caddy as docs/deploy.md says."""
    world = seed(processes.database_url)
    processes.env.update(env or {})
    workers = [processes.start_worker(), processes.start_worker()]
    return world, workers, processes.start_caddy(workers)


def wait_until(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until `condition` held (polled every 10 ms); fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "condition not met in time"
        time.sleep(0.01)
    return time.monotonic() - started


def worker_processes(server: Worker) -> list[int]:
    """The uvicorn worker processes under a `frontyard serve --workers N` supervisor."""
    found = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True,
                           text=True, check=False).stdout.split()
    return [int(pid) for pid in found
            if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()]


def sockets_closed(pid: int) -> bool:
    """Whether a killed process has let go of its files and sockets (a zombie, or gone)."""
    try:
        return not any(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return True


def test_killed_worker_under_load_fails_only_requests_in_flight(processes):
    """SIGKILL one of two workers under load (docs/deploy.md: `--workers 2` behind Caddy):
    only requests it was answering fail, every later one is served within 3 s; with no
    worker left, Caddy's page is the friendly one that reloads itself."""
    world = seed(processes.database_url)
    server = processes.start_worker(workers=2)
    address = processes.start_caddy([server])
    workers = worker_processes(server)
    assert len(workers) == 2
    load = Load(address, world)
    time.sleep(1.5)
    killed_at = time.monotonic()
    os.kill(workers[1], signal.SIGKILL)
    wait_until(lambda: sockets_closed(workers[1]), 10)
    dead_at = time.monotonic()
    time.sleep(4)
    outcomes = load.stop()

    failed = [o for o in outcomes if not o.ok]
    before = [o for o in outcomes if o.ended < killed_at]
    after = [o for o in outcomes if o.started > dead_at + 3]
    assert before and all(o.ok for o in before), [o.what for o in before if not o.ok]
    # In flight when the worker died: started before it was gone, at most one per client.
    assert all(o.started < dead_at for o in failed), (round(dead_at - killed_at, 3), [
        (round(o.started - killed_at, 3), o.what) for o in failed])
    assert len(failed) <= len(load.threads)
    assert len(after) >= len(load.threads) and all(o.ok for o in after)

    processes.kill(server)
    with httpx2.Client(base_url=f"http://{address}", timeout=30) as client:
        page = client.get("/kiosk")
    assert page.status_code in {502, 503}
    assert "しばらくお待ちください" in page.text and "Please wait a moment" in page.text
    assert '<meta http-equiv="refresh" content="3">' in page.text
    assert "<script" not in page.text


def aborted_upload(address: str, path: str, headers: str = "") -> None:
    """Announce 100 bytes, send 10, hang up (the issue's trigger; no sign-in needed)."""
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(f"POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 100\r\n"
                    f"Content-Type: application/x-www-form-urlencoded\r\n"
                    f"Sec-Fetch-Site: same-origin\r\n{headers}\r\nusername=a".encode())
        time.sleep(0.2)  # the request reaches a worker and starts reading its body


def test_aborted_uploads_do_not_affect_others(processes):
    """Eight uploads broken off mid-body (sign-in form, API) while kiosks work: every other
    request is answered, and the workers log no error for them."""
    world, workers, address = two_workers_behind_caddy(processes)
    load = Load(address, world)
    time.sleep(0.5)
    kiosk = f"Authorization: Bearer {world['kiosks'][10]}\r\n"
    for _ in range(4):
        aborted_upload(address, "/login")
        aborted_upload(address, "/api/v1/tickets", kiosk)
    time.sleep(3)
    outcomes = load.stop()
    assert len(outcomes) > len(load.threads)
    assert all(o.ok for o in outcomes), [o.what for o in outcomes if not o.ok]
    for worker in workers:
        log = worker.log.read_text()
        assert "Traceback" not in log and "ERROR" not in log, log[-3000:]


def test_database_outage_is_a_translated_wait_page_and_recovers(processes, pg):
    """PostgreSQL unreachable (a relay cut): the kiosk shows the 'please wait' page in the
    resident's language, the API answers 503, nothing answers 500; within 3 s of the
    database coming back the kiosk continues the resident's session where it was."""
    url = make_url(pg)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        world, workers, address = two_workers_behind_caddy(
            processes, {"FRONTYARD_DATABASE_URL": proxied})
        kiosk = processes.keep(httpx2.Client(
            base_url=f"http://{address}", timeout=30,
            headers={**SAME_SITE, "Authorization": f"Bearer {world['kiosks'][0]}"}))
        assert kiosk.post("/kiosk/start", data={"locale": "vi"}).status_code == 303
        assert kiosk.post("/kiosk/events", data={"event": ["moving_in"]}).status_code == 303
        questions = kiosk.get("/kiosk/questions")
        assert questions.status_code == 200 and 'name="household_ages"' in questions.text

        proxy.cut()
        statuses = set()
        for _ in range(6):  # both workers, pages and API, reads and writes
            page = kiosk.get("/kiosk/questions")
            statuses.add(page.status_code)
            assert page.status_code == 503, page.text[:300]
            assert "Vui lòng chờ trong giây lát" in page.text  # the resident's language
            assert '<meta http-equiv="refresh" content="3">' in page.text
            assert page.headers["retry-after"] == "3"
            issued = kiosk.post("/api/v1/tickets", json={"services": ["residents"]})
            assert issued.status_code == 503 and issued.headers["retry-after"] == "3"
            time.sleep(0.3)

        proxy.restore()
        took = wait_until(lambda: kiosk.get("/kiosk/questions").status_code == 200, 3)
        page = kiosk.get("/kiosk/questions")
        assert 'name="household_ages"' in page.text  # the session was kept: same step
        assert kiosk.post("/api/v1/tickets", json={"services": ["residents"]}).status_code == 201
        print(f"back {took:.2f} s after the database")
        for worker in workers:
            log = worker.log.read_text()
            assert "unhandled error" not in log and "Exception in ASGI" not in log, log[-3000:]
    finally:
        proxy.cut()
