"""The queue: offices, services, counters, visits and their tasks, and the event log."""

#: What other features may import (docs/architecture.md); everything else here is internal.
PUBLIC_MODULES = (
    "counter.models",  # offices, services, counters, visits, tasks, the event log
    "counter.queue",  # the queue engine: issue tickets, act on tasks, read the queue
    "counter.events",  # listeners of the events the engine records
    "counter.board_settings",  # what each call board shows, and in which languages
    "counter.hours",  # opening hours, closures, cut-offs: open now, and when it next opens
    "counter.appointments.models",  # bookable services, weekly hours, bookings
    "counter.appointments.slots",  # weekly hours and the slots of a day
    "counter.appointments.booking",  # book, move, cancel (never beyond capacity)
    "counter.appointments.checkin",  # the check-in window, its ticket, no-shows
    "counter.appointments.ics",  # a booking's iCalendar file
    "counter.topics",  # the realtime topic an office's queue changes are announced on
    "counter.waits",  # how an estimated wait may be told to residents (ranges, words)
)
