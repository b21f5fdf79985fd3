"""Managers' analytics: processing times by hour and step, staffing by Erlang C, exports."""

#: What other features may import (docs/architecture.md); everything else here is internal.
PUBLIC_MODULES = (
    "analytics.rollups",
    "analytics.report",
    "analytics.metrics",  # measured durations (the navigator's usual time at a counter)
    "analytics.forecast",  # the usual week's arrivals (the navigator's busy and quieter times)
    "analytics.week_ahead",  # each service's arrival history
)
