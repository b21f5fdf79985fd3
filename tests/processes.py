"""Real processes for fault tests and load benchmarks: Frontyard workers (`frontyard serve`)
and Caddy in front of them, on free loopback ports, always killed at the end."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from frontyard import PROJECT_ROOT

SECRET = "fault-tests-shared-secret-key-0123456789"
STAFF_PASSWORD = "processes-staff-password"
#: Limits out of the way: the tests drive many tickets from few kiosks on purpose.
UNLIMITED = {"FRONTYARD_TICKET_RATE_LIMIT": "1000000", "FRONTYARD_STATUS_RATE_LIMIT": "1000000"}


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident memory of a process, in MiB (NaN once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Poll `url` until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if httpx2.get(url, timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy in {timeout} s")


@dataclass
class Worker:
    """One `frontyard serve` process."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """Its websocket base URL."""
        return f"ws://127.0.0.1:{self.port}"


@dataclass
class Processes:
    """Starts workers and Caddy; `close()` kills every one of them (use it in a finally)."""

    database_url: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)
    #: Clients and sockets to close before the processes go (see `keep`).
    resources: ExitStack = field(default_factory=ExitStack)

    def keep(self, resource: Any) -> Any:
        """Have `close()` close an HTTP client or a websocket (entered as a context)."""
        if isinstance(resource, httpx2.Client):  # possibly in use already: just close it
            self.resources.callback(resource.close)
            return resource
        return self.resources.enter_context(resource)

    def worker_env(self, port: int) -> dict[str, str]:
        """The environment of a worker: same database and secret as its siblings."""
        return {**os.environ, "FRONTYARD_DATABASE_URL": self.database_url,
                "FRONTYARD_SECRET_KEY": SECRET, "FRONTYARD_DATA_DIR": str(self.workdir),
                "FRONTYARD_BASE_URL": f"http://127.0.0.1:{port}", **UNLIMITED, **self.env}

    def start_worker(self, port: int | None = None, workers: int = 1) -> Worker:
        """Start `frontyard serve` on a port (a fresh one by default) and wait for /healthz."""
        port = port or free_port()
        log = self.workdir / f"worker-{port}-{len(self.started)}.log"
        command = [sys.executable, "-m", "composition.cli", "serve", "--port", str(port)]
        if workers > 1:
            command += ["--workers", str(workers)]
        with log.open("ab") as output:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=self.worker_env(port),
                                       stdout=output, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.started.append(process)
        worker = Worker(port, process, log)
        wait_until_healthy(f"{worker.url}/healthz", process)
        return worker

    def start_caddy(self, upstreams: list[Worker], port: int | None = None) -> str:
        """Caddy with the repository's Caddyfile in front of the workers, over plain HTTP.

        The Caddyfile is used as shipped except that the site address becomes
        `http://127.0.0.1:<port>` and `tls internal` goes (no certificates on loopback).
        """
        port = port or free_port()
        source = (PROJECT_ROOT / "Caddyfile").read_text()
        config = plain_http_caddyfile(source, port)
        path = self.workdir / f"Caddyfile-{port}"
        path.write_text(config)
        env = {"HOME": str(self.workdir), "XDG_DATA_HOME": str(self.workdir),
               "XDG_CONFIG_HOME": str(self.workdir), "PATH": os.environ.get("PATH", ""),
               "FRONTYARD_UPSTREAMS": " ".join(f"127.0.0.1:{w.port}" for w in upstreams),
               "FRONTYARD_STATIC": str(PROJECT_ROOT / "static")}
        with (self.workdir / f"caddy-{port}.log").open("ab") as output:
            process = subprocess.Popen(["caddy", "run", "--config", str(path), "--adapter",
                                        "caddyfile"], env=env, stdout=output,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(process)
        wait_until_healthy(f"http://127.0.0.1:{port}/healthz", process)
        return f"127.0.0.1:{port}"

    def kill(self, worker: Worker) -> None:
        """SIGKILL a worker (and any children): no shutdown, no goodbye to its clients."""
        kill_group(worker.process, signal.SIGKILL)

    def close(self) -> None:
        """Close the clients, then kill everything that was started, whatever its state."""
        with suppress(Exception):  # a socket to a killed worker may fail to close cleanly
            self.resources.close()
        for process in self.started:
            kill_group(process, signal.SIGKILL)


class TcpProxy:
    """A TCP relay (to PostgreSQL) that a test can cut, as an outage looks to the workers:
    open connections reset, new ones refused; `restore` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        """Accept and relay connections (again)."""
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        if self.listener is not None:
            with suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            self.listener.close()
            self.listener = None
        with self.lock:
            for connection in self.connections:
                with suppress(OSError):  # linger 0: a reset, as when a server goes away
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                          struct.pack("ii", 1, 0))
                    connection.close()
            self.connections.clear()


def kill_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Send `sig` to the process's own group (uvicorn's --workers children too) and reap it."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def plain_http_caddyfile(source: str, port: int) -> str:
    """The shipped Caddyfile served over plain HTTP on a loopback port, admin API off."""
    site = re.compile(r"^\{\$FRONTYARD_HOST[^}]*\}\s*\{", re.MULTILINE)
    assert site.search(source), "the Caddyfile's site address changed; update this helper"
    config = site.sub(f"http://127.0.0.1:{port} {{", source, count=1)
    config = re.sub(r"^\s*tls internal\s*$", "", config, flags=re.MULTILINE)
    return "{\n\tadmin off\n\tauto_https off\n}\n\n" + config


def seed(database_url: str, kiosks: int = 20, staff: int = 4) -> dict[str, Any]:
    """The demo structure, kiosks and a board of its office, and staff members."""
    from sqlmodel import select

    from composition import wiring
    from composition.demo import seed_structure
    from counter.models import Counter, Service
    from frontyard import database
    from frontyard.auth import DeviceKind, Role, create_device, create_user
    from frontyard.settings import Settings

    wiring.connect_features()  # the seeded queue is counted by analytics, as served
    engine = database.make_engine(Settings(database_url=database_url).resolved_database_url())
    try:
        with database.session_scope(engine) as session:
            office = seed_structure(session)
            kiosk_tokens = [create_device(session, f"kiosk-{n}", DeviceKind.KIOSK,
                                          office_id=office.id)[1] for n in range(kiosks)]
            _, board, _ = create_device(session, "board", DeviceKind.BOARD, office_id=office.id)
            names = [f"staff{n}" for n in range(1, staff + 1)]
            for name in names:
                create_user(session, name, STAFF_PASSWORD, Role.STAFF)
            services = {s.code: s.id for s in session.exec(select(Service))}
            counters = {c.number: c.id for c in session.exec(select(Counter))}
            return {"office_id": office.id, "office": office.code, "kiosks": kiosk_tokens,
                    "board": board, "staff": names, "services": services,
                    "counters": counters}
    finally:
        engine.dispose()


def staff_client(base_url: str, username: str) -> httpx2.Client:
    """An HTTP client signed in as a staff member through the real form."""
    client = httpx2.Client(base_url=base_url, timeout=30,
                          headers={"Sec-Fetch-Site": "same-origin"})
    response = client.post("/login", data={"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 303, response.text
    return client


def issue(client: httpx2.Client, kiosk: str, services: list[str]) -> dict[str, Any]:
    """Issue a ticket through the API as a kiosk."""
    response = client.post("/api/v1/tickets", json={"services": services, "locale": "en"},
                           headers={"Authorization": f"Bearer {kiosk}"})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


class Screen:
    """A live screen as the browser runs it: reads every message on a thread, answers the
    server's pings (a silent screen is closed after 50 s) and keeps the newest state."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.state: dict[str, Any] | None = None
        self.states = 0
        self.closed = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for raw in self.socket:
                message = json.loads(raw)
                if message.get("type") == "ping":
                    self.socket.send(json.dumps({"type": "pong"}))
                elif message.get("type") == "state":
                    with self._changed:
                        self.state, self.states = message, self.states + 1
                        self._changed.notify_all()
        except Exception:  # closed under us: the test decides whether that matters
            pass
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait_for(self, condition: Any, timeout: float = 30) -> dict[str, Any]:
        """The first state (the current one included) that satisfies `condition`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (self.state is not None and condition(self.state)):
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError(f"no state matched (closed={self.closed}); "
                                         f"last: {self.state}")
                self._changed.wait(left)
            return self.state


def next_state(socket: Any, timeout: float = 10) -> dict[str, Any]:
    """The next state message of a websocket (pings skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message.get("type") == "state":
            return message  # type: ignore[no-any-return]
