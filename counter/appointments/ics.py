"""The iCalendar file (RFC 5545) of a booking: one event at the booked time, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from counter.appointments.models import Booking


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def booking_ics(booking: Booking, *, summary: str, location: str, description: str,
                now: datetime) -> str:
    """The .ics text: DTSTART/DTEND in UTC (the same instant as the city's local time)."""
    end = booking.slot_start + timedelta(minutes=booking.slot_minutes)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Frontyard//Appointments//EN",
        "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "BEGIN:VEVENT",
        f"UID:booking-{booking.id}-{booking.checkin_code}@frontyard",
        f"DTSTAMP:{_utc(now)}", f"DTSTART:{_utc(booking.slot_start)}", f"DTEND:{_utc(end)}",
        f"SUMMARY:{_escape(summary)}", f"LOCATION:{_escape(location)}",
        f"DESCRIPTION:{_escape(description)}", "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"
