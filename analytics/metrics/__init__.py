"""The managers' aggregates: arrivals, waits, walks, handling and stay times, no-shows, counters
open and throughput, filtered by local date range, office, service, step and weekday.

`metrics` reads the rollup tables (fast, for pages and exports); `metrics_from_log` replays the
event log itself (the slow reference the rollups are tested against). Both return `Metrics`;
they agree exactly on every count and sum, and medians/p90 from the rollups are read from
fixed buckets (see docs/analytics.md).

This is the package's interface; its modules hold the result types (`results`), the quantiles
(`quantiles`), the rollup queries (`from_rollups`) and the event-log reference (`from_log`).
"""

from analytics.metrics.from_log import metrics_from_facts, metrics_from_log
from analytics.metrics.from_rollups import Part, metrics, split_range
from analytics.metrics.quantiles import bucket_bounds, exact_quantile, histogram_quantile
from analytics.metrics.results import (
    Breakdown,
    CallStats,
    DurationStats,
    Filters,
    HourCell,
    Metrics,
    Throughput,
)

__all__ = [
    "Breakdown",
    "CallStats",
    "DurationStats",
    "Filters",
    "HourCell",
    "Metrics",
    "Part",
    "Throughput",
    "bucket_bounds",
    "exact_quantile",
    "histogram_quantile",
    "metrics",
    "metrics_from_facts",
    "metrics_from_log",
    "split_range",
]
