"""Today's ticket numbers across a restore: never hand out again a number already printed.

A backup taken at 10:00 and restored at 11:30 knows nothing of the tickets issued in between,
but those residents hold printed numbers. Before the restore replaces the database, today's
sequences are read from it (with its write-ahead log, so the very last ticket counts); after
it, each of today's sequences continues past the higher of the two. When the old database
cannot be read, the operator's `--skip-numbers N` moves every sequence of today N further,
and a warning says so either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from counter.models import Office, Service, TicketSequence
from counter.queue import format_ticket_number
from frontyard.database import utcnow

#: (office code, prefix) → the last number issued today.
Sequences = dict[tuple[str, str], int]

_sequences = TicketSequence.__table__  # type: ignore[attr-defined]
_offices = Office.__table__  # type: ignore[attr-defined]
_services = Service.__table__  # type: ignore[attr-defined]


def todays_sequences(connection: Connection, tz: ZoneInfo, now: datetime) -> Sequences:
    """The last number of each of today's sequences (local day), by office code and prefix."""
    rows = connection.execute(
        select(_offices.c.code, _sequences.c.prefix, _sequences.c.last_number)
        .join(_offices, _offices.c.id == _sequences.c.office_id)
        .where(_sequences.c.day == now.astimezone(tz).date()))
    return {(code, prefix): int(last) for code, prefix, last in rows}


def _prefixes(connection: Connection) -> dict[str, set[str]]:
    """Every office's service prefixes, by office code."""
    found: dict[str, set[str]] = {}
    rows = connection.execute(select(_offices.c.code, _services.c.prefix)
                              .join(_services, _services.c.office_id == _offices.c.id))
    for code, prefix in rows:
        found.setdefault(code, set()).add(prefix)
    return found


def _set_last(connection: Connection, office_id: int, prefix: str, day: object,
              last: int, exists: bool) -> None:
    """Set one sequence's last number (creating the row when today has none yet)."""
    if exists:
        connection.execute(update(_sequences).where(
            _sequences.c.office_id == office_id, _sequences.c.prefix == prefix,
            _sequences.c.day == day).values(last_number=last))
    else:
        connection.execute(insert(_sequences).values(office_id=office_id, prefix=prefix,
                                                     day=day, last_number=last))


@dataclass
class TicketNumbers:
    """The restore's carryover (`frontyard.backup.Carryover`) for today's ticket numbers."""

    tz: ZoneInfo
    skip: int = 0
    now: Callable[[], datetime] = field(default=utcnow)

    def read(self, connection: Connection) -> Sequences:
        """Today's sequences of the database about to be replaced."""
        return todays_sequences(connection, self.tz, self.now())

    def apply(self, connection: Connection, previous: object | None,
              why_unknown: str) -> list[str]:
        """Move today's sequences of the restored data past every number already issued."""
        now = self.now()
        day = now.astimezone(self.tz).date()
        restored = todays_sequences(connection, self.tz, now)
        offices = dict(connection.execute(select(_offices.c.code, _offices.c.id)).all())
        before: Sequences = previous if isinstance(previous, dict) else {}
        keys = set(restored) | set(before)
        if self.skip:  # every prefix may have printed tickets the backup does not know
            keys |= {(code, prefix) for code, prefixes in _prefixes(connection).items()
                     for prefix in prefixes}
        notes = []
        if previous is None:
            notes.append(f"warning: the tickets issued today after the backup are unknown: "
                         f"{why_unknown}. " + (
                             f"Today's numbers skip {self.skip} (--skip-numbers)." if self.skip
                             else "Today's numbering continues from the backup's: if tickets "
                             "were printed since, restore again with --skip-numbers N (N at "
                             "least the tickets printed since the backup) so that no number "
                             "is handed out twice."))
        if not keys and previous is not None:
            notes.append("No ticket was issued today, neither in the backup nor since: today's "
                         "numbering is unchanged.")
        for code, prefix in sorted(keys):
            if code not in offices:
                notes.append(f"warning: office {code!r} is not in the backup; its tickets "
                             "of today are lost.")
                continue
            kept = restored.get((code, prefix), 0)
            issued = max(kept, before.get((code, prefix), 0))
            last = issued + self.skip
            if last != kept:
                _set_last(connection, offices[code], prefix, day, last,
                          (code, prefix) in restored)
            if issued > kept:
                notes.append(
                    f"warning: office {code!r}: tickets {format_ticket_number(prefix, kept + 1)}"
                    f" to {format_ticket_number(prefix, issued)} were issued today after the "
                    "backup and are not in the restored data; residents holding them need "
                    "new tickets.")
            notes.append(f"Office {code!r}: the next {prefix} ticket today is "
                         f"{format_ticket_number(prefix, last + 1)}.")
        return notes
