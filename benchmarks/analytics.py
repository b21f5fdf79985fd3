"""Benchmark: the managers' aggregates over one year of a large city.

Generates one year (2025's working days) for two offices of 15 services (three with the steps
受付 → 確認 → 交付) and 15 counters each — by default 1,000,000 visits and about 8,300,000
events, written in bulk straight into the tables (the demo path through the engine is far too
slow for this volume) — then builds the rollups with `rebuild_rollups` and times:

- `analytics.metrics.metrics` (rollups) for ranges from a day to the whole year, on SQLite and
  PostgreSQL, for all offices, one office, one office and service, and one office on Mondays,
  each in a read session of its own as the page reads; ranges that start or end inside a month
  read those days from the day tables and the whole months between from the month tables, so
  some ranges cross months' ends on purpose; for all offices also with `months=False` (days
  only, as before the month tables);
- the naive full scan, `metrics_from_log` (replays the events of the range in Python; run for
  ranges up to `--naive-max-days`, as a year of ORM objects does not fit a sane memory budget);
- the same aggregates computed by DuckDB over the same events (loaded from a CSV dump of the
  SQLite event table), as the near-limit reference of a columnar engine.

Run: `python benchmarks/analytics.py [--visits N] [--postgres URL] [--skip-generate | --rebuild]`
(DuckDB: `pip install 'frontyard[bench]'`). Results are recorded in docs/analytics.md.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import random
import sqlite3
import statistics
import sys
import time as clock
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from analytics.metrics import Filters, metrics, metrics_from_log
from analytics.models import ROLLUP_TABLES
from analytics.rollups import rebuild_rollups
from composition.schema import metadata
from counter.models import Counter, Event, Office, Service, Task, Visit
from frontyard import database
from frontyard.auth import Role, User
from frontyard.settings import Settings

TOKYO = ZoneInfo("Asia/Tokyo")
YEAR = 2025
OFFICES = 2
SERVICES_PER_OFFICE = 15
STEPPED = 3  # the first services of each office have three steps
STEPS = ("受付", "確認", "交付")
#: label, first and last local date, whether the naive scan runs on it (it takes minutes)
RANGES = [("1 day", date(2025, 6, 10), date(2025, 6, 10), True),
          ("1 week", date(2025, 6, 9), date(2025, 6, 15), True),
          ("1 month", date(2025, 6, 1), date(2025, 6, 30), True),
          ("10 Jun–9 Jul", date(2025, 6, 10), date(2025, 7, 9), False),
          ("1 quarter", date(2025, 4, 1), date(2025, 6, 30), False),
          ("15 Mar–14 Jun", date(2025, 3, 15), date(2025, 6, 14), False),
          ("1 year", date(2025, 1, 1), date(2025, 12, 31), False),
          ("13 Jan–19 Dec", date(2025, 1, 13), date(2025, 12, 19), False),
          ("2 Jan–30 Dec", date(2025, 1, 2), date(2025, 12, 30), False)]
BATCH = 20_000


# --- generating a year ---------------------------------------------------------------------------

@dataclass
class Ids:
    """Next free ids (the tables are empty, so ids are handed out here, not by the database)."""

    visit: int = 1
    task: int = 1
    event: int = 1


def working_days() -> list[date]:
    """Monday–Friday of the benchmark year."""
    day, days = date(YEAR, 1, 1), []
    while day.year == YEAR:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def seed_structure(session: Session) -> list[tuple[int, list[int], list[int], list[int]]]:
    """Offices with services, one counter per service and two staff per counter."""
    offices = []
    for number in range(OFFICES):
        office = Office(code=f"bench-{number}", names={"en": f"Bench {number}"})
        session.add(office)
        session.flush()
        services, counters, staff = [], [], []
        for index in range(SERVICES_PER_OFFICE):
            service = Service(office_id=office.id, code=f"s{index}", prefix=chr(65 + index),
                              steps=list(STEPS) if index < STEPPED else [], sort_order=index)
            session.add(service)
            session.flush()
            counter = Counter(office_id=office.id, number=str(index + 1))
            user = User(username=f"bench-{number}-{index}", password_hash="!", role=Role.STAFF)
            session.add_all([counter, user])
            session.flush()
            services.append(service.id)
            counters.append(counter.id)
            staff.append(user.id)
        offices.append((office.id, services, counters, staff))
    return offices  # type: ignore[return-value]


def minutes(rng: random.Random, mean: float) -> timedelta:
    """An exponential duration with the given mean in minutes."""
    return timedelta(minutes=rng.expovariate(1.0 / mean))


def day_rows(day: date, office: tuple[int, list[int], list[int], list[int]], visits: int,
             ids: Ids, rng: random.Random) -> tuple[list[dict], list[dict], list[dict]]:
    """One office's day: visits, tasks and events (counters open 08:30–17:15)."""
    office_id, services, counters, staff = office
    opening = datetime.combine(day, time(8, 30), TOKYO)
    visit_rows, task_rows, events = [], [], []

    def event(at: datetime, kind: str, **values: Any) -> None:
        events.append({"id": ids.event, "at": at.astimezone(UTC), "kind": kind,
                       "office_id": office_id, "visit_id": values.get("visit_id"),
                       "task_id": values.get("task_id"), "service_id": values.get("service_id"),
                       "step": values.get("step"), "counter_id": values.get("counter_id"),
                       "staff_user_id": values.get("staff_user_id"),
                       "data": values.get("data", {})})
        ids.event += 1

    for index, counter in enumerate(counters):
        event(opening, "counter_opened", counter_id=counter, staff_user_id=staff[index],
              data={"service_ids": [services[index]]})
        event(opening + timedelta(hours=8, minutes=45), "counter_closed", counter_id=counter,
              staff_user_id=staff[index])
    for number in range(visits):
        # Two peaks: mornings and lunchtime.
        hour = rng.choices(range(9), weights=(8, 16, 13, 10, 14, 11, 8, 7, 5))[0]
        issued = opening + timedelta(hours=hour, minutes=rng.uniform(0, 60))
        visit_id = ids.visit
        ids.visit += 1
        route = rng.sample(range(len(services)), k=rng.choices((1, 2, 3), (65, 25, 10))[0])
        at = issued
        event(at, "issued", visit_id=visit_id, service_id=services[route[0]])
        done_at = None
        for position, service_index in enumerate(route):
            service, task_id = services[service_index], ids.task
            ids.task += 1
            task = {"visit_id": visit_id, "task_id": task_id, "service_id": service}
            steps = STEPS if service_index < STEPPED else (None,)
            event(at, "queued", step=steps[0], **task)
            at += minutes(rng, 12)
            worker = {"counter_id": counters[service_index], "staff_user_id": staff[service_index]}
            event(at, "called", **task, **worker)
            state = "done"
            if rng.random() < 0.03:
                at += timedelta(minutes=3)
                event(at, "no_show", **task, **worker)
                state = "cancelled"
            else:
                at += minutes(rng, 1)
                event(at, "started", step=steps[0], **task, **worker)
                for step in steps[1:]:
                    at += minutes(rng, 4)
                    event(at, "step", step=step, **task, **worker)
                at += minutes(rng, 8)
                event(at, "done", step=steps[-1], **task, **worker)
                done_at = at
            task_rows.append({"id": task_id, "visit_id": visit_id, "service_id": service,
                              "position": position, "state": state, "step_index": 0,
                              "call_count": 1, "done_at": done_at if state == "done" else None})
        event(at, "visit_closed", visit_id=visit_id)
        visit_rows.append({"id": visit_id, "office_id": office_id,
                           "ticket_number": f"{number:05d}", "ticket_day": day,
                           "status_token": f"bench-{visit_id}", "public_id": f"bench-{visit_id}",
                           "locale": "ja",
                           "priority": False, "issued_at": issued.astimezone(UTC),
                           "closed_at": at.astimezone(UTC)})
    return visit_rows, task_rows, events


def write_rows(connection: Any, table: Any, rows: list[dict]) -> None:
    """Bulk insert: COPY on PostgreSQL (an order of magnitude faster), executemany on SQLite."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        for start in range(0, len(rows), BATCH):
            connection.execute(insert(table), rows[start:start + BATCH])
        return
    columns = list(rows[0])
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([json.dumps(value) if isinstance(value, dict) else value
                            for value in (row[column] for column in columns)])


def generate(engine: Engine, total_visits: int) -> int:
    """Empty the tables and write the year; returns the number of events."""
    metadata().drop_all(engine)
    metadata().create_all(engine)
    with database.session_scope(engine) as session:
        offices = seed_structure(session)
    days = working_days()
    per_day = total_visits // (len(days) * OFFICES)
    ids, rng = Ids(), random.Random(2025)
    started = clock.perf_counter()
    for number, day in enumerate(days):
        with engine.begin() as connection:
            for office in offices:
                visits, tasks, events = day_rows(day, office, per_day, ids, rng)
                for model, rows in ((Visit, visits), (Task, tasks), (Event, events)):
                    write_rows(connection, model.__table__, rows)  # type: ignore[attr-defined]
        if number % 25 == 0:
            print(f"  day {number + 1}/{len(days)}: {ids.event - 1:,} events, "
                  f"{clock.perf_counter() - started:.0f} s", flush=True)
    return ids.event - 1


# --- timing --------------------------------------------------------------------------------------

def timed(function: Callable[[], Any], repeat: int) -> float:
    """The median wall time of `repeat` runs (after one warm-up), in milliseconds."""
    function()
    times = []
    for _ in range(repeat):
        started = clock.perf_counter()
        function()
        times.append((clock.perf_counter() - started) * 1000)
    return statistics.median(times)


def filter_sets(first_office: int, first_service: int) -> list[tuple[str, dict[str, Any]]]:
    """The filter variations timed for each range."""
    return [("all offices", {}), ("one office", {"office_id": first_office}),
            ("office+service", {"office_id": first_office, "service_id": first_service}),
            ("office, Mondays", {"office_id": first_office, "weekdays": frozenset({0})})]


def read_metrics(engine: Engine, filters: Filters, months: bool = True) -> None:
    """metrics() in a read session of its own, as a page request does."""
    with database.read_session(engine) as session:
        metrics(session, filters, months=months)


def time_rollups(engine: Engine, repeat: int) -> dict[tuple[str, str], float]:
    """metrics() per range and filter set, and days only (`months=False`) for all offices."""
    results = {}
    with Session(engine) as session:
        office = session.execute(text("SELECT min(id) FROM office")).scalar_one()
        service = session.execute(text("SELECT min(id) FROM service")).scalar_one()
    for label, start, end, _naive in RANGES:
        for name, extra in filter_sets(office, service):
            filters = Filters(start, end, **extra)
            results[(label, name)] = timed(lambda f=filters: read_metrics(engine, f), repeat)
        every_day = Filters(start, end)
        results[(label, "days only")] = timed(
            lambda f=every_day: read_metrics(engine, f, months=False), repeat)
    return results


def time_naive(engine: Engine, max_days: int) -> dict[str, float]:
    """metrics_from_log per range (one run each: they are slow), all offices."""
    results = {}
    for label, start, end, naive in RANGES:
        if not naive or (end - start).days + 1 > max_days:
            continue
        with Session(engine) as session:
            started = clock.perf_counter()
            metrics_from_log(session, Filters(start, end))
            results[label] = (clock.perf_counter() - started) * 1000
        gc.collect()
    return results


# --- DuckDB --------------------------------------------------------------------------------------

DUCK_QUERIES = {
    # Arrivals (queue entries) and tickets per service, weekday and local hour.
    "heatmap": """
        SELECT service_id, dayofweek(local) AS weekday, hour(local) AS hour,
               count(*) FILTER (WHERE kind = 'queued') AS arrivals,
               count(*) FILTER (WHERE kind = 'issued') AS issued
        FROM ev WHERE kind IN ('queued', 'issued') GROUP BY ALL""",
    # Wait, walk and per-step handling per service and step: count, mean, median, p90.
    "durations": """
        WITH seq AS (
          SELECT task_id, service_id, kind, step, local,
                 lead(local) OVER w AS next_at, lead(kind) OVER w AS next_kind,
                 lag(local) OVER w AS previous_at, lag(kind) OVER w AS previous_kind
          FROM ev WHERE task_id IS NOT NULL WINDOW w AS (PARTITION BY task_id ORDER BY at_utc, id)),
        times AS (
          SELECT service_id, step, 'wait' AS metric, epoch(local - previous_at) AS s
            FROM seq WHERE kind = 'called' AND previous_kind = 'queued'
          UNION ALL SELECT service_id, step, 'walk', epoch(next_at - local)
            FROM seq WHERE kind = 'called' AND next_kind = 'started'
          UNION ALL SELECT service_id, step, 'handling', epoch(next_at - local)
            FROM seq WHERE kind IN ('started', 'step') AND next_kind IN ('step', 'done'))
        SELECT metric, service_id, step, count(*), avg(s), quantile_cont(s, 0.5),
               quantile_cont(s, 0.9) FROM times GROUP BY ALL""",
    # Stay: ticket → last done of closed visits.
    "stay": """
        SELECT service_id, count(*), avg(s), quantile_cont(s, 0.5), quantile_cont(s, 0.9) FROM (
          SELECT any_value(service_id) FILTER (WHERE kind = 'issued') AS service_id,
                 epoch(max(local) FILTER (WHERE kind = 'done')
                       - min(local) FILTER (WHERE kind = 'issued')) AS s
          FROM ev WHERE visit_id IS NOT NULL GROUP BY visit_id) WHERE s IS NOT NULL
        GROUP BY ALL""",
    # Calls and no-shows per service and step.
    "calls": """
        SELECT service_id, count(*) FILTER (WHERE kind = 'called'),
               count(*) FILTER (WHERE kind = 'no_show')
        FROM ev WHERE kind IN ('called', 'no_show') GROUP BY ALL""",
    # Throughput per counter and staff member.
    "throughput": """
        SELECT counter_id, staff_user_id, count(*) FROM ev WHERE kind = 'done' GROUP BY ALL""",
    # Counter open time cut at local hour boundaries.
    "counters_open": """
        WITH spans AS (
          SELECT counter_id, local AS opened, lead(local) OVER (
            PARTITION BY counter_id ORDER BY at_utc, id) AS closed, kind
          FROM ev WHERE kind IN ('counter_opened', 'counter_closed')),
        hours AS (
          SELECT counter_id, unnest(range(date_trunc('hour', opened), closed,
                                          INTERVAL 1 HOUR)) AS h, opened, closed
          FROM spans WHERE kind = 'counter_opened' AND closed IS NOT NULL)
        SELECT dayofweek(h), hour(h),
               sum(epoch(least(closed, h + INTERVAL 1 HOUR) - greatest(opened, h)))
        FROM hours GROUP BY ALL""",
}


def dump_events(sqlite_path: Path, target: Path) -> None:
    """The SQLite event table as CSV (DuckDB's SQLite reader is a download away here)."""
    source = sqlite3.connect(sqlite_path)
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "at", "kind", "office_id", "visit_id", "task_id", "service_id",
                         "step", "counter_id", "staff_user_id"])
        cursor = source.execute("SELECT id, at, kind, office_id, visit_id, task_id, service_id,"
                                " step, counter_id, staff_user_id FROM event ORDER BY id")
        while rows := cursor.fetchmany(100_000):
            writer.writerows(rows)
    source.close()


def time_duckdb(csv_path: Path, repeat: int) -> tuple[float, dict[str, float]]:
    """Load the events into DuckDB (timed once), then time all queries per range."""
    import duckdb

    connection = duckdb.connect()
    started = clock.perf_counter()
    connection.execute(f"""
        CREATE TABLE event AS SELECT * EXCLUDE ("at"), "at" AS at_utc,
                                     "at" + INTERVAL 9 HOUR AS local
        FROM read_csv('{csv_path}', header = true, timestampformat = '%Y-%m-%d %H:%M:%S.%f')""")
    load = (clock.perf_counter() - started) * 1000
    results = {}
    for label, start, end, _naive in RANGES:
        low = datetime.combine(start, time())
        high = datetime.combine(end + timedelta(days=1), time())

        def run(low: datetime = low, high: datetime = high) -> None:
            # Whole visits that begin in the range, and the counter events of the range.
            # Views take no parameters; the bounds are our own dates, not input.
            bounds = f"local >= TIMESTAMP '{low}' AND local < TIMESTAMP '{high}'"
            connection.execute(
                "CREATE OR REPLACE TEMP VIEW ev AS SELECT * FROM event WHERE visit_id IN ("
                f"SELECT visit_id FROM event WHERE kind = 'issued' AND {bounds})"
                f" OR (visit_id IS NULL AND {bounds})")
            for query in DUCK_QUERIES.values():
                connection.execute(query).fetchall()

        results[label] = timed(run, repeat)
    connection.close()
    return load, results


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (the machine may be shared)."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


# --- main ----------------------------------------------------------------------------------------

def prepare(url: str, visits: int, skip: bool, rebuild: bool) -> Engine:
    """An engine on a generated, rolled-up database (reused as it is with `skip`; with
    `rebuild`, the events are kept and only the rollups are built again)."""
    engine = database.make_engine(url)
    if skip:
        return engine
    if rebuild:
        metadata().create_all(engine, tables=list(ROLLUP_TABLES))  # those that are missing
    else:
        started = clock.perf_counter()
        events = generate(engine, visits)
        print(f"  generated {visits:,} visits, {events:,} events in "
              f"{clock.perf_counter() - started:.0f} s", flush=True)
    started = clock.perf_counter()
    with database.session_scope(engine) as session:
        rebuild_rollups(session)
    print(f"  rebuild_rollups: {clock.perf_counter() - started:.0f} s", flush=True)
    with engine.connect() as connection:
        for table in ("event", *(table.name for table in ROLLUP_TABLES)):
            count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            print(f"  {table}: {count:,} rows")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return engine


def report(name: str, rollups: dict[tuple[str, str], float], naive: dict[str, float],
           duck: dict[str, float] | None) -> Iterator[str]:
    """Lines of the result table for one database."""
    yield f"\n{name}: metrics() from the rollups, median ms (worst of the filter sets); " \
          "days only = all offices without the month tables"
    yield f"{'range':<14} {'all':>8} {'office':>8} {'+serv.':>8} {'Mon':>8} {'days only':>9}  " \
          f"{'naive ms':>10} {'naive/fy':>9} {'duckdb ms':>10} {'fy/duckdb':>9}"
    for label, _start, _end, _naive in RANGES:
        cells = [rollups[(label, n)] for n, _ in filter_sets(0, 0)]
        worst = max(cells)
        line = f"{label:<14} " + " ".join(f"{c:8.1f}" for c in cells)
        line += f" {rollups[(label, 'days only')]:9.1f}"
        if label in naive:
            line += f"   {naive[label]:10.0f} {naive[label] / worst:8.0f}×"
        else:
            line += f"   {'—':>10} {'':>9}"
        if duck and label in duck:
            line += f" {duck[label]:10.1f} {worst / duck[label]:8.2f}×"
        yield line


def main() -> None:
    """Generate, time and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--sqlite", type=Path, default=Path("/tmp/frontyard-bench.sqlite3"))
    parser.add_argument("--postgres", default=os.environ.get("FRONTYARD_BENCH_POSTGRES_URL"),
                        help="e.g. postgresql://postgres@127.0.0.1:5432/frontyard_bench "
                             "(the database must exist; its tables are replaced)")
    reuse = parser.add_mutually_exclusive_group()
    reuse.add_argument("--skip-generate", action="store_true",
                       help="reuse the databases of a previous run")
    reuse.add_argument("--rebuild", action="store_true",
                       help="keep the generated events, rebuild the rollups from them")
    parser.add_argument("--naive-max-days", type=int, default=31, help="0: no naive scan")
    parser.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB reference")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    databases = [("SQLite", f"sqlite:///{args.sqlite}")]
    if args.postgres:
        databases.append(("PostgreSQL",
                          Settings(database_url=args.postgres).resolved_database_url()))
    duck: dict[str, float] | None = None
    output: list[str] = []
    for name, url in databases:
        print(f"{name}: preparing {url}", flush=True)
        engine = prepare(url, args.visits, args.skip_generate, args.rebuild)
        output.append(f"{name}: load average before timing {load_average()}")
        rollups = time_rollups(engine, args.repeat)
        output.append(f"{name}: load average after the rollups {load_average()}")
        print(f"{name}: naive scans", flush=True)
        naive = time_naive(engine, args.naive_max_days)
        if name == "SQLite" and not args.no_duckdb:
            try:
                dump = args.sqlite.with_suffix(".events.csv")
                dump_events(args.sqlite, dump)
                load, duck = time_duckdb(dump, args.repeat)
                output.append(f"DuckDB: loading {dump.stat().st_size / 1e6:.0f} MB of CSV took "
                              f"{load / 1000:.1f} s (not counted below)")
            except ImportError:
                output.append("DuckDB not installed: pip install 'frontyard[bench]'")
        output += report(name, rollups, naive, duck)
        engine.dispose()
        for line in output:
            print(line)
        output = []


if __name__ == "__main__":
    main()
