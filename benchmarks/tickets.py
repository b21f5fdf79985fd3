"""Benchmark: 20 ticket printers issuing at once, each as fast as it is answered.

    python benchmarks/tickets.py [--configs sqlite pg1 pg2] [--clients 20] [--tickets 50]
                                 [--caddy] [--postgres URL]

Per configuration (SQLite with one worker, PostgreSQL with one and with two workers), on a
fresh database with the demo office and one kiosk device per client: the workers
(`frontyard serve`, the real served app) start, optionally behind Caddy with the repository's
Caddyfile (`--caddy`), and `--clients` printers each send `--tickets` `POST /api/v1/tickets`
one after the other with their own device token over their own connection (closed loop: a
printer sends its next ticket when the last one is answered), all at once.

Printed per configuration: tickets per second, p50/p95/p99/max latency, the slowest requests
(which printer, which of its tickets, when), errors, the numbers' uniqueness, and the workers'
CPU seconds (the machine is shared: compare CPU with wall time). Results are recorded in
docs/load.md ("Twenty printers at once").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx2  # noqa: E402
from load import drop_database, prepare_database  # noqa: E402

from tests.processes import Processes, seed  # noqa: E402

SERVICES = ["residents", "insurance", "tax", "childcare"]


@dataclass
class Result:
    """The latencies of one configuration's run."""

    name: str
    latencies: list[tuple[float, int, int, float]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    numbers: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds (nearest rank; NaN without values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children (its workers), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(value) for value in fields[11:15]) / ticks


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live descendants (uvicorn's --workers children)."""
    total = cpu_seconds(pid)
    for child in Path("/proc").glob("[0-9]*"):
        try:
            parent = int(Path(child, "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            total += tree_cpu(int(child.name))
    return total


async def printer(number: int, token: str, client: httpx2.AsyncClient, tickets: int,
                  start: float, result: Result) -> None:
    """One printer issuing its tickets one after the other over its own connection."""
    async with client:
        for n in range(tickets):
            sent = time.perf_counter()
            try:
                response = await client.post(
                    "/api/v1/tickets", headers={"Authorization": f"Bearer {token}"},
                    json={"services": [SERVICES[(number + n) % len(SERVICES)]],
                          "locale": "en"})
            except httpx2.HTTPError as error:
                result.errors[type(error).__name__] += 1
                continue
            took = time.perf_counter() - sent
            result.latencies.append((took, number, n, sent - start))
            if response.status_code != 201:
                result.errors[f"HTTP {response.status_code}"] += 1
            else:
                result.numbers.append(response.json()["ticket_number"])


def run_configuration(name: str, args: argparse.Namespace) -> Result:
    """One configuration from a fresh database to its killed workers."""
    kind = "sqlite" if name == "sqlite" else "postgresql"
    workers = 2 if name == "pg2" else 1
    with tempfile.TemporaryDirectory(prefix="frontyard-tickets-") as directory:
        workdir = Path(directory)
        url = prepare_database(kind, workdir, args.postgres)
        processes = Processes(url, workdir)
        try:
            world = seed(url, kiosks=args.clients)
            started = [processes.start_worker() for _ in range(workers)]
            if args.caddy:
                base_url = "http://" + processes.start_caddy(started)
            else:
                if workers > 1:
                    raise SystemExit("several workers need --caddy in front of them")
                base_url = started[0].url
            result = Result(name + (" + Caddy" if args.caddy else ""))
            pids = [worker.process.pid for worker in started]

            async def everyone() -> None:
                # Clients first (each loads certificates: ~50 ms of CPU), then all at once.
                clients = [httpx2.AsyncClient(base_url=base_url, timeout=60)
                           for _token in world["kiosks"]]
                cpu_before = sum(map(tree_cpu, pids))
                begin = time.perf_counter()
                await asyncio.gather(*(printer(n, token, client, args.tickets, begin, result)
                                       for n, (token, client) in enumerate(
                                           zip(world["kiosks"], clients, strict=True))))
                result.seconds = time.perf_counter() - begin
                result.cpu = sum(map(tree_cpu, pids)) - cpu_before

            asyncio.run(everyone())
            return result
        finally:
            processes.close()
            if kind == "postgresql":
                drop_database(url)


def report(result: Result) -> None:
    """Print one configuration's figures."""
    times = [latency for latency, *_rest in result.latencies]
    duplicates = [number for number, count in Counter(result.numbers).items() if count > 1]
    print(f"\n== {result.name}: {len(times)} tickets in {result.seconds:.1f} s = "
          f"{len(times) / result.seconds:.1f}/s; workers' CPU {result.cpu:.1f} s")
    print(f"latency mean {1000 * sum(times) / max(1, len(times)):.0f} ms, "
          f"p50 {percentile(times, 0.5):.0f} ms, p95 {percentile(times, 0.95):.0f} ms, "
          f"p99 {percentile(times, 0.99):.0f} ms, max {1000 * max(times, default=0):.0f} ms")
    print(f"errors: {dict(result.errors) or 0}; duplicate numbers: {duplicates or 0}")
    slowest = sorted(result.latencies, reverse=True)[:8]
    print("slowest: " + ", ".join(f"{1000 * took:.0f} ms (printer {printer}, ticket {n}, "
                                  f"sent at {at:.2f} s)" for took, printer, n, at in slowest))


def main() -> None:
    """Run the chosen configurations one after the other."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=["sqlite", "pg1"],
                        choices=["sqlite", "pg1", "pg2"])
    parser.add_argument("--clients", type=int, default=20, help="printers at once")
    parser.add_argument("--tickets", type=int, default=50, help="tickets per printer")
    parser.add_argument("--caddy", action="store_true", help="through Caddy")
    parser.add_argument("--postgres", default=os.environ.get(
        "FRONTYARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    print(f"{args.clients} printers × {args.tickets} tickets; load average before: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    results: list[Any] = [run_configuration(name, args) for name in args.configs]
    for result in results:
        report(result)


if __name__ == "__main__":
    main()
