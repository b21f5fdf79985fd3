"""The iCalendar file (RFC 5545) of a booking: one event at the booked time, written in the
city's time zone (DTSTART;TZID=…) with its VTIMEZONE, so calendars show the local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from counter.appointments.models import Booking


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y%m%dT%H%M%S")


def _offset(moment: datetime, tz: tzinfo) -> str:
    delta = moment.astimezone(tz).utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def booking_ics(booking: Booking, *, summary: str, location: str, description: str,
                now: datetime, tz: tzinfo) -> str:
    """The .ics text: DTSTART/DTEND in the city's zone `tz` (an IANA zone), with a VTIMEZONE
    holding the zone's offset at the booked time."""
    end = booking.slot_start + timedelta(minutes=booking.slot_minutes)
    name = str(getattr(tz, "key", "UTC"))
    offset = _offset(booking.slot_start, tz)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Frontyard//Appointments//EN",
        "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-TIMEZONE:{name}",
        "BEGIN:VTIMEZONE", f"TZID:{name}", "BEGIN:STANDARD", "DTSTART:19700101T000000",
        f"TZOFFSETFROM:{offset}", f"TZOFFSETTO:{offset}", "END:STANDARD", "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f"UID:booking-{booking.id}-{booking.checkin_code}@frontyard",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART;TZID={name}:{_local(booking.slot_start, tz)}",
        f"DTEND;TZID={name}:{_local(end, tz)}",
        f"SUMMARY:{_escape(summary)}", f"LOCATION:{_escape(location)}",
        f"DESCRIPTION:{_escape(description)}", "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"
