"""The queue: offices, services, counters, visits and their tasks, and the event log."""
