"""Appointments (来庁予約): bookable services, their slots, bookings and the check-in rule.

Booked residents join the same queue as walk-ins: checking in issues an ordinary ticket
(`counter.queue.issue_ticket`), linked to its booking, which the serving rule of
`counter.queue.call_next` puts ahead of walk-ins near its time, within the priority streak.

- `models`: the tables (weekly booking hours, bookings, the per-slot tally);
- `slots`: the weekly hours and the free slots of a day;
- `booking`: booking, moving and cancelling without ever exceeding a slot's capacity;
- `checkin`: the check-in window, the ticket it issues, and no-shows;
- `ics`: the iCalendar file of a booking.
"""
