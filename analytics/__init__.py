"""Managers' analytics: processing times by hour and step, staffing by Erlang C, exports."""

#: What other features may import (docs/architecture.md); everything else here is internal.
PUBLIC_MODULES = ("analytics.rollups", "analytics.report")
