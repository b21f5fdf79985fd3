"""The queue: offices, services, counters, visits and their tasks, and the event log."""

#: What other features may import (docs/architecture.md); everything else here is internal.
PUBLIC_MODULES = ("counter.models", "counter.queue", "counter.events", "counter.api")
