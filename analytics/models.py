"""Rollup tables: the event log pre-aggregated per local hour, day and month, kept up to date as
events are written (see `analytics.rollups`) and re-buildable from the log at any time.

They are plain SQLAlchemy Core tables on SQLModel's metadata because the day and month tables
carry one column per histogram bucket, which is generated rather than written out by hand.

Each day-level table has a month-level twin keyed by the month (its first day) and the weekday
instead of the date: a month row is the sum of that month's day rows falling on that weekday,
so a long range reads its whole months from the month tables (with weekday filters intact) and
only the days of a partial month at either end from the day tables.
"""

from __future__ import annotations

from bisect import bisect_right

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
)
from sqlmodel import SQLModel

#: Lower edges, in seconds, of the fixed duration buckets; the last bucket is open-ended.
#: About 10–25 % wide, so a median read from buckets is off by at most one bucket's width.
BUCKET_EDGES_SECONDS: tuple[int, ...] = (
    0, 10, 20, 30, 45, 60, 90, 120, 150, 180, 240, 300, 360, 420, 480, 600, 720, 900, 1080,
    1200, 1500, 1800, 2100, 2400, 3000, 3600, 4500, 5400, 7200, 10800, 14400,
)
BUCKET_COUNT = len(BUCKET_EDGES_SECONDS)
#: Durations with a histogram; the same names prefix their columns.
DURATIONS: tuple[str, ...] = ("wait", "walk", "handling", "stay")
#: Event counts kept per hour.
COUNTS: tuple[str, ...] = ("arrivals", "issued", "calls", "recalls", "no_shows", "done")

#: `service_id` 0 means "no service known" and `step` "" means "no step": key columns can't be NULL.
NO_SERVICE = 0
NO_STEP = ""
NO_COUNTER = 0
NO_STAFF = 0


def bucket_of(duration_ms: int) -> int:
    """The index of the bucket holding a duration (negative durations go to the first bucket)."""
    return max(0, bisect_right(BUCKET_EDGES_SECONDS, duration_ms / 1000.0) - 1)


def bucket_column(metric: str, index: int) -> str:
    """The name of one histogram column, e.g. ``wait_b07``."""
    return f"{metric}_b{index:02d}"


def _counter(name: str) -> Column[int]:
    """A non-negative running total that starts at zero."""
    return Column(name, BigInteger, nullable=False, server_default="0", default=0)


def _when(name: str) -> Column[object]:
    """The local date or month that leads a rollup table's key.

    It leads so that a date range is one contiguous stretch of the primary key (and, on
    SQLite, of the table itself: these tables are stored WITHOUT ROWID)."""
    return Column(name, Date, primary_key=True)


def _office() -> Column[object]:
    """The office, second in every rollup key."""
    return Column("office_id", Integer, ForeignKey("office.id"), primary_key=True)


def _stage_key() -> list[Column[object]]:
    """Local date × office × service × step, the key shared by the hour and day tables."""
    return [_when("local_date"), _office(), Column("service_id", Integer, primary_key=True),
            Column("step", String(64), primary_key=True)]


def _counter_key(when: str) -> list[Column[object]]:
    """Local date or month × office × counter × staff member × service."""
    return [_when(when), _office(), Column("counter_id", Integer, primary_key=True),
            Column("staff_user_id", Integer, primary_key=True),
            Column("service_id", Integer, primary_key=True)]


def _hour_values() -> list[Column[int]]:
    """Counts, duration counts and sums, and open time: the values kept per hour."""
    return [*[_counter(name) for name in COUNTS],
            *[column for metric in DURATIONS for column in (_counter(f"{metric}_n"),
                                                            _counter(f"{metric}_ms"))],
            _counter("open_ms")]


def _day_values() -> list[Column[int]]:
    """Counts, open time, and per duration its count, sum and histogram: the values per day."""
    return [*[_counter(name) for name in COUNTS],
            _counter("open_ms"),
            *[column for metric in DURATIONS for column in (
                _counter(f"{metric}_n"), _counter(f"{metric}_ms"),
                *[_counter(bucket_column(metric, index)) for index in range(BUCKET_COUNT)])]]


def _month_key() -> list[Column[object]]:
    """Month × office × service × step × weekday, the key of the month-level stage tables."""
    return [_when("month"), _office(), Column("service_id", Integer, primary_key=True),
            Column("step", String(64), primary_key=True),
            Column("weekday", SmallInteger, primary_key=True)]


def _counter_values() -> list[Column[int]]:
    """Tasks done, handling count and sum, and open time: the values per counter."""
    return [_counter("done"), _counter("handling_n"), _counter("handling_ms"),
            _counter("open_ms")]


metadata = SQLModel.metadata

#: Per office × service × step × local date × local hour: counts and duration sums (for means,
#: rates and the hour × weekday heatmap) and counter-open milliseconds attributed to the service.
stage_hour = Table(
    "analytics_stage_hour",
    metadata,
    *_stage_key(),
    Column("hour", SmallInteger, primary_key=True),
    Column("weekday", SmallInteger, nullable=False),
    *_hour_values(),
    sqlite_with_rowid=False,
)

#: Per office × service × step × local date: the same counts, and duration counts, sums and
#: fixed-bucket histograms (for medians and p90 over any date range without touching the log).
#: Twelve times fewer rows than the hour table, so everything without an hour is read here.
stage_day = Table(
    "analytics_stage_day",
    metadata,
    *_stage_key(),
    Column("weekday", SmallInteger, nullable=False),
    *_day_values(),
    sqlite_with_rowid=False,
)

#: Per office × counter × staff member × service × local date: tasks done, handling time and
#: counter-open milliseconds (throughput per counter and per staff member).
counter_day = Table(
    "analytics_counter_day",
    metadata,
    *_counter_key("local_date"),
    Column("weekday", SmallInteger, nullable=False),
    *_counter_values(),
    sqlite_with_rowid=False,
)

#: `stage_hour` summed per month and weekday: (month, office, service, step, weekday, hour).
stage_hour_month = Table(
    "analytics_stage_hour_month",
    metadata,
    *_month_key(),
    Column("hour", SmallInteger, primary_key=True),
    *_hour_values(),
    sqlite_with_rowid=False,
)

#: `stage_day` summed per month and weekday: histograms add bucket by bucket, so quantiles over
#: whole months are the same as over their days.
stage_month = Table(
    "analytics_stage_month",
    metadata,
    *_month_key(),
    *_day_values(),
    sqlite_with_rowid=False,
)

#: `counter_day` summed per month and weekday.
counter_month = Table(
    "analytics_counter_month",
    metadata,
    *_counter_key("month"),
    Column("weekday", SmallInteger, primary_key=True),
    *_counter_values(),
    sqlite_with_rowid=False,
)

#: Per office × local date: tickets, queue entries and open time over all services. A date with
#: any of them is an open day; counting distinct dates needs dates, so this small table (one row
#: per office and day) answers it for any range instead of the wide stage tables.
office_day = Table(
    "analytics_office_day",
    metadata,
    _when("local_date"),
    _office(),
    Column("weekday", SmallInteger, nullable=False),
    _counter("issued"),
    _counter("arrivals"),
    _counter("open_ms"),
    sqlite_with_rowid=False,
)

#: The time zone the rollups' local dates and hours are in (one row): reading them in another
#: zone would silently shift every hour, so queries check it.
rollup_settings = Table(
    "analytics_rollup_settings",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("timezone", String(64), nullable=False),
)

#: Every table kept from the events, in the order writers lock their rows.
ROLLUP_TABLES: tuple[Table, ...] = (stage_hour, stage_day, counter_day, stage_hour_month,
                                    stage_month, counter_month, office_day)
#: Day-level table → its month-level twin.
MONTH_TABLES: dict[Table, Table] = {stage_hour: stage_hour_month, stage_day: stage_month,
                                    counter_day: counter_month}
