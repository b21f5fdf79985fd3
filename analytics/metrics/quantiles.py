"""Medians and 90th percentiles: exact ones from raw values, estimates read from the rollups'
fixed duration buckets, and the running sums both paths merge before reading them.

Separate from the queries: the arithmetic is pure (no database), and the simulation reuses
`exact_quantile`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from analytics.metrics.results import DurationStats
from analytics.models import BUCKET_COUNT, BUCKET_EDGES_SECONDS, bucket_of


def exact_quantile(values_ms: list[int], q: float) -> float | None:
    """Quantile in seconds by linear interpolation between order statistics (position (n−1)·q)."""
    if not values_ms:
        return None
    ordered = sorted(values_ms)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return value / 1000.0


def bucket_bounds(index: int) -> tuple[float, float]:
    """Lower and upper edge (seconds) of a bucket; the last one is open-ended (upper = inf)."""
    upper = BUCKET_EDGES_SECONDS[index + 1] if index + 1 < BUCKET_COUNT else math.inf
    return float(BUCKET_EDGES_SECONDS[index]), upper


def histogram_quantile(histogram: list[int], q: float) -> float | None:
    """Quantile in seconds read from bucket counts, interpolating linearly inside the bucket
    that holds the ⌈q·n⌉-th smallest value (the open last bucket answers its lower edge)."""
    total = sum(histogram)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(histogram):
        if count and seen + count >= rank:
            lower, upper = bucket_bounds(index)
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * max(0.0, rank - seen) / count
        seen += count
    return None  # unreachable: the counts add up to `total`


@dataclass
class Sums:
    """Running count, sum and histogram (or raw values, for the exact path) of one duration."""

    count: int = 0
    total_ms: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * BUCKET_COUNT)
    values: list[int] | None = None

    def add(self, other: Sums) -> None:
        """Merge another partial sum into this one."""
        self.count += other.count
        self.total_ms += other.total_ms
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]
        if other.values is not None:
            self.values = (self.values or []) + other.values

    def stats(self) -> DurationStats:
        """Exact quantiles when raw values are known, bucket estimates otherwise."""
        if self.values is not None:
            histogram = [0] * BUCKET_COUNT
            for value in self.values:
                histogram[bucket_of(value)] += 1
            return DurationStats(self.count, self.total_ms, exact_quantile(self.values, 0.5),
                                 exact_quantile(self.values, 0.9), tuple(histogram))
        return DurationStats(self.count, self.total_ms, histogram_quantile(self.histogram, 0.5),
                             histogram_quantile(self.histogram, 0.9), tuple(self.histogram))
