"""Benchmark: importing one year of one office's events with `frontyard analytics import`.

Generates 2025's 261 working days of one office (15 services, three with the steps
受付 → 確認 → 交付; 15 counters opening and closing, some changing services at lunch) as a CSV
file sorted by `timestamp, event` to the second — the order that lost arrivals before events
of one second were put in a causal order — with 5 % no-shows (half of them come back), holds,
second procedures and a few rows repeated. Then runs the real command in a fresh process on a
fresh, migrated database (SQLite, or a new PostgreSQL database with `--postgres URL`), and
prints rows per second and the command's peak RSS; with `--check`, the rollups the import
wrote are compared with `rebuild_rollups` from the log afterwards.

Run: `python benchmarks/import.py [--days 261] [--postgres URL] [--check] [--file PATH]`
(`--file` keeps the generated file and reuses it next time: generating takes longer than
importing). A whole year takes
about a minute on SQLite; each run is killed after `--timeout` seconds. Results are recorded
in docs/analytics.md ("Importing events").
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time as clock
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import drop_database, prepare_database
from sqlalchemy import select
from sqlmodel import Session

from analytics.models import ROLLUP_TABLES
from analytics.rollups import rebuild_rollups
from counter.models import Counter, Office, Service
from frontyard import database
from frontyard.auth import Role, User

TOKYO = ZoneInfo("Asia/Tokyo")
SERVICES = 15
STEPS = ("受付", "確認", "交付")
HEADER = ["visit", "ticket", "office", "service", "step", "event", "timestamp", "counter", "task",
          "staff"]


def working_days(count: int) -> list[date]:
    """The first `count` weekdays of 2025."""
    days, day = [], date(2025, 1, 1)
    while len(days) < count and day.year == 2025:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def seed(url: str) -> None:
    """The office `bench` with its services, counters and one staff account per counter."""
    engine = database.make_engine(url)
    with database.session_scope(engine) as session:
        office = Office(code="bench", names={"en": "Bench"})
        session.add(office)
        session.flush()
        for index in range(SERVICES):
            session.add_all([
                Service(office_id=office.id, code=f"s{index}", prefix=chr(65 + index),
                        steps=list(STEPS) if index < 3 else [], sort_order=index),
                Counter(office_id=office.id, number=str(index + 1)),
                User(username=f"staff-{index + 1}", password_hash="!", role=Role.STAFF)])
    engine.dispose()


def day_rows(day: date, rng: random.Random, visits: int) -> list[list[str]]:
    """One day's rows (seconds resolution), unsorted."""
    opening = datetime.combine(day, time(8, 30), TOKYO)
    closing = datetime.combine(day, time(17, 30), TOKYO)
    rows: list[list[str]] = []

    def add(visit: str, ticket: str, service: str, step: str, kind: str, at: datetime,
            counter: str = "", task: str = "") -> None:
        staff = f"staff-{counter}" if counter else ""
        rows.append([visit, ticket, "bench", service, step, kind,
                     at.replace(microsecond=0).isoformat(), counter, task, staff])

    for index in range(SERVICES):
        counter = str(index + 1)
        add("", "", f"s{index}", "", "counter_opened", opening, counter)
        if index % 4 == 0:  # lunch: the counter also takes the next service
            add("", "", f"s{index};s{(index + 1) % SERVICES}", "", "counter_services",
                datetime.combine(day, time(12), TOKYO), counter)
        add("", "", "", "", "counter_closed", closing, counter)
    for number in range(visits):
        visit, ticket = f"{day:%Y%m%d}-{number}", f"T-{number:04d}"
        at = datetime.combine(day, time(9), TOKYO) + timedelta(seconds=rng.randrange(7 * 3600))
        add(visit, ticket, "s0", "", "issued", at)
        tasks = [rng.randrange(SERVICES)] + ([rng.randrange(SERVICES)] if rng.random() < 0.2
                                              else [])
        for position, service in enumerate(tasks):
            code, counter, task = f"s{service}", str(service + 1), f"t{position}"
            steps = STEPS if service < 3 else ("",)
            add(visit, ticket, code, steps[0], "queued", at, task=task)
            if rng.random() > 0.1:  # else called at once: `called` sorts before `queued`
                at += timedelta(seconds=rng.expovariate(1 / 600))
            add(visit, ticket, code, steps[0], "called", at, counter, task)
            if rng.random() < 0.05:
                add(visit, ticket, code, steps[0], "no_show", at + timedelta(seconds=90),
                    counter, task)
                if rng.random() < 0.5:
                    at += timedelta(seconds=rng.randrange(120, 900))
                    add(visit, ticket, code, steps[0], "returned", at, counter, task)
                    at += timedelta(seconds=rng.randrange(1, 300))
                    add(visit, ticket, code, steps[0], "called", at, counter, task)
                else:
                    add(visit, ticket, code, steps[0], "cancelled", at + timedelta(seconds=90),
                        task=task)
                    break
            add(visit, ticket, code, steps[0], "started", at + timedelta(seconds=rng.choice(
                [0, 0, 20, 40])), counter, task)
            for step in steps[1:]:
                at += timedelta(seconds=rng.expovariate(1 / 180))
                add(visit, ticket, code, step, "step", at, counter, task)
            at += timedelta(seconds=rng.expovariate(1 / 420) + 20)
            add(visit, ticket, code, steps[-1], "done", at, counter, task)
        add(visit, ticket, "", "", "visit_closed", at)
    if rows and rng.random() < 0.3:  # an occasional repeated row, as from a doubled export
        rows.append(list(rng.choice(rows)))
    return rows


def generate(path: Path, days: int, visits: int) -> int:
    """Write the file sorted by `timestamp, event`; the number of rows."""
    rng = random.Random(2025)
    total = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for day in working_days(days):
            rows = day_rows(day, rng, visits)
            rows.sort(key=lambda row: (row[6], row[5]))
            writer.writerows(rows)
            total += len(rows)
    return total


def rollups(url: str) -> dict[str, list[Any]]:
    """Every rollup row, sorted."""
    engine = database.make_engine(url)
    with Session(engine) as session:
        tables = {table.name: sorted(tuple(row) for row in session.execute(select(table)))
                  for table in ROLLUP_TABLES}
    engine.dispose()
    return tables


def rebuilt(url: str) -> dict[str, list[Any]]:
    """The rollups after `rebuild_rollups` from the log."""
    engine = database.make_engine(url)
    with database.session_scope(engine) as session:
        rebuild_rollups(session, tz="Asia/Tokyo")
    engine.dispose()
    return rollups(url)


def run(args: argparse.Namespace, workdir: Path) -> None:
    """Generate, import in a child process, report."""
    csv_path = args.file or workdir / "year.csv"
    started = clock.perf_counter()
    if args.file and args.file.exists():  # generated by an earlier run with the same options
        rows = sum(1 for _line in csv_path.open(encoding="utf-8")) - 1
    else:
        rows = generate(csv_path, args.days, args.visits)
    print(f"generated {rows:,} rows ({csv_path.stat().st_size / 1e6:.1f} MB) in "
          f"{clock.perf_counter() - started:.1f} s")
    kind = "postgresql" if args.postgres else "sqlite"
    url = prepare_database(kind, workdir, args.postgres)
    try:
        seed(url)
        env = {**os.environ, "FRONTYARD_DATABASE_URL": url, "FRONTYARD_DATA_DIR": str(workdir)}
        command = [str(Path(sys.executable).parent / "frontyard"), "analytics", "import",
                   str(csv_path)]
        started = clock.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True,
                                timeout=args.timeout, check=False)
        seconds = clock.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mib, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
        print(result.stdout.splitlines()[-1] if result.stdout else "", result.stderr[-2000:])
        if result.returncode:
            raise SystemExit(f"import failed ({result.returncode})")
        print(f"{kind}: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s "
              f"({cpu:.1f} CPU s = {rows / cpu:,.0f} rows per CPU second), peak RSS "
              f"{peak_mib:,.0f} MiB (the whole command: start-up, both passes, rollups, "
              f"commit); load average {os.getloadavg()[0]:.0f}")
        if args.check:
            imported = rollups(url)
            same = imported == rebuilt(url)
            print(f"rollups equal to a rebuild from the log: {same}")
            if not same:
                raise SystemExit(1)
    finally:
        if kind == "postgresql":
            drop_database(url)


def main() -> None:
    """Parse the options and run once."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=261, help="working days (261: 2025)")
    parser.add_argument("--visits", type=int, default=330, help="visits per day")
    parser.add_argument("--postgres", default="", help="a PostgreSQL server's URL")
    parser.add_argument("--check", action="store_true", help="compare with a rebuild")
    parser.add_argument("--file", type=Path, default=None,
                        help="keep the generated file here, and reuse it if it exists")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the import")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frontyard-import-") as workdir:
        run(args, Path(workdir))


if __name__ == "__main__":
    main()
