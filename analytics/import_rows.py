"""Reading and checking the rows of an import file (CSV, schema in docs/analytics.md).

Rows are read one line at a time from a binary stream, so a file of any length is checked in
constant memory; each becomes a `Row` (ids instead of codes) or problems with its line number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any, BinaryIO, NamedTuple

from sqlmodel import Session, select

from analytics.timeline import COUNTER_KINDS
from counter.models import Counter, EventKind, Office, Service
from frontyard.auth import User
from frontyard.errors import ValidationFailed
from frontyard.i18n import gettext as _

#: The columns of an import file, in the order exports write them.
COLUMNS = ("visit", "ticket", "office", "service", "step", "event", "timestamp", "counter",
           "task", "staff")
REQUIRED_COLUMNS = ("office", "event", "timestamp")
#: Several services of a counter opening are separated by this character.
SERVICE_SEPARATOR = ";"
#: The largest file imported (web and CLI): one year of one busy office is about 50 MB
#: (666,000 rows); memory grows with the visits of the file, not its rows.
MAX_BYTES = 200 * 1024 * 1024
#: Reporting stops after this many problems (a wrong export format fails on every line).
MAX_PROBLEMS = 200
_LENGTHS = {"visit": 64, "ticket": 16, "step": 64, "task": 64}
_KINDS = {kind.value: kind for kind in EventKind}
VISIT_KINDS = frozenset({EventKind.ISSUED, EventKind.VISIT_CLOSED})
#: What an event of each type cannot do without.
_NEEDED = {kind: tuple(COLUMNS.index(name) for name in (
    ("counter",) if kind in COUNTER_KINDS else ("visit", "ticket") if kind in VISIT_KINDS
    else ("visit", "ticket", "service"))) for kind in EventKind}


@dataclass(frozen=True)
class Problem:
    """One wrong row (line 1 is the header)."""

    line: int
    message: str


class ImportRejected(ValidationFailed):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(_("The file was not imported: %(count)d problem(s) found.")
                         % {"count": len(problems)})
        self.problems = problems


class Row(NamedTuple):
    """One checked row, with the ids it refers to (a tuple: small, hashable, comparable)."""

    line: int
    kind: EventKind
    at: datetime
    office_id: int
    visit: str | None
    ticket: str | None
    service_ids: tuple[int, ...]
    step: str | None
    counter_id: int | None
    task: str | None
    staff_id: int | None

    def identity(self) -> tuple[object, ...]:
        """Everything but the line: two rows with the same identity are one event twice."""
        return self[1:]


def task_key(row: Row) -> str | None:
    """Which task of its visit a row is about: its `task` column, else one task per service."""
    if row.kind in VISIT_KINDS or row.kind in COUNTER_KINDS:
        return None
    return row.task or f"service:{row.service_ids[0]}"


@dataclass
class Catalog:
    """Offices, services, counters and staff of the database, by the codes files use."""

    offices: dict[str, int]
    services: dict[tuple[int, str], int]
    counters: dict[tuple[int, str], int]
    staff: dict[str, int]
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session) -> Catalog:
        """Read the codes once."""
        return cls(
            {office.code: office.id for office in session.exec(select(Office))},  # type: ignore[misc]
            {(s.office_id, s.code): s.id for s in session.exec(select(Service))},  # type: ignore[misc]
            {(c.office_id, c.number): c.id for c in session.exec(select(Counter))},  # type: ignore[misc]
            {u.username: u.id for u in session.exec(select(User))},  # type: ignore[misc]
        )

    def full(self) -> bool:
        """Enough problems reported: the rest of the file is not checked."""
        return len(self.problems) >= MAX_PROBLEMS


def file_size(stream: BinaryIO) -> int:
    """The stream's length in bytes (it is left at its start)."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def _check_size(stream: BinaryIO) -> None:
    """Refuse an empty or too large file (the stream is left at its start)."""
    size = file_size(stream)
    if not size:
        raise ImportRejected([Problem(1, _("The file is empty."))])
    if size > MAX_BYTES:
        raise ImportRejected([Problem(1, _("The file is larger than %(size)d MB.")
                                      % {"size": MAX_BYTES // 1024 // 1024})])


def _first_bad_line(stream: BinaryIO) -> int:
    """The number of the first line that is not UTF-8 (the stream is read from its start)."""
    stream.seek(0)
    for number, raw in enumerate(stream, start=1):
        try:
            raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            return number
    return 1


def read_rows(stream: BinaryIO) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(line number, the row's values in the order of COLUMNS, "" for a column the file lacks)
    for each data row of a UTF-8 CSV stream (a BOM is allowed); the header is checked first.
    A row with the wrong number of fields comes as (its count, the header's) instead."""
    _check_size(stream)
    # Decoded in blocks, not line by line: a line's number is looked for only when one fails.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from _parse(csv.reader(text))
    except UnicodeDecodeError as error:
        raise ImportRejected([Problem(_first_bad_line(stream), _(
            "The file is not UTF-8 text."))]) from error
    finally:
        text.detach()  # the caller's stream stays open for the second pass


def _header(reader: Any) -> tuple[int, list[int]]:
    """The header's width and where each of COLUMNS is in a row (the width: a missing column
    reads the "" appended after the row's own values)."""
    try:
        header = [name.strip().lower() for name in next(reader, [])]
    except csv.Error as error:
        raise ImportRejected([Problem(1, str(error))]) from error
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise ImportRejected([Problem(1, _(
            "The header must name the columns %(columns)s (required: %(required)s), each once; "
            "missing: %(missing)s; unknown: %(unknown)s.") % {
            "columns": ", ".join(COLUMNS), "required": ", ".join(REQUIRED_COLUMNS),
            "missing": ", ".join(missing) or "–", "unknown": ", ".join(unknown) or "–"})])
    width = len(header)
    return width, [header.index(name) if name in header else width for name in COLUMNS]


def _parse(reader: Any) -> Iterator[tuple[int, tuple[str, ...]]]:
    """The rows of `read_rows` from a CSV reader over the file's text."""
    width, places = _header(reader)
    pick = itemgetter(*places)
    strip = str.strip
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportRejected([Problem(reader.line_num, _(
                "This line is not valid CSV: %(error)s") % {"error": error})]) from error
        if len(values) != width:
            if any(value.strip() for value in values):
                yield reader.line_num, (str(len(values)), str(width))
            continue
        values.append("")
        fields = tuple(map(strip, pick(values)))
        if any(fields):
            yield reader.line_num, fields


def check_rows(rows: Iterable[tuple[int, tuple[str, ...]]], catalog: Catalog) -> Iterator[Row]:
    """Check every row against the schema and the database; problems go to the catalog."""
    for line, fields in rows:
        if catalog.full():
            return
        if len(fields) == 2:
            catalog.problems.append(Problem(line, _(
                "This row has %(found)s fields; the header has %(expected)s.") % {
                "found": fields[0], "expected": fields[1]}))
            continue
        result = _check_row(line, fields, catalog)
        if result is not None:
            yield result


def _check_row(line: int, fields: tuple[str, ...], catalog: Catalog) -> Row | None:
    """One row, or None with its problems recorded (a few lookups when it is right: this runs
    twice for every row of the file)."""
    visit, ticket, office, service, step, event, timestamp, counter, task, staff = fields
    problems: list[str] = []
    if len(visit) > 64 or len(ticket) > 16 or len(step) > 64 or len(task) > 64:
        for name, limit in _LENGTHS.items():
            if len(fields[COLUMNS.index(name)]) > limit:
                problems.append(_("%(column)s is longer than %(limit)d characters.")
                                % {"column": name, "limit": limit})
    if "\x00" in "".join(fields):  # the bulk inserts skip the database layer's NUL guard
        problems.append(_("The text contains a character that cannot be stored (NUL)."))
    kind = _KINDS.get(event)
    if kind is None:
        problems.append(_("Unknown event type %(kind)r; use one of %(kinds)s.") % {
            "kind": event, "kinds": ", ".join(kind.value for kind in EventKind)})
    at = _timestamp(timestamp)
    if at is None:
        problems.append(_("The timestamp %(value)r is not ISO 8601 with an offset, e.g. "
                          "2026-04-06T09:00:00+09:00.") % {"value": timestamp})
    office_id = catalog.offices.get(office)
    if office_id is None:
        problems.append(_("Unknown office %(code)r.") % {"code": office})
    service_ids = _services(service, kind, office_id, catalog, problems)
    counter_id = _lookup(catalog.counters, office_id, counter)
    if counter_id == 0:
        problems.append(_("Unknown counter %(code)r in this office.") % {"code": counter})
    staff_id = catalog.staff.get(staff) if staff else None
    if staff and staff_id is None:
        problems.append(_("Unknown staff account %(code)r.") % {"code": staff})
    if kind is not None:
        for index in _NEEDED[kind]:
            if not fields[index]:
                problems.append(_("%(column)s is required for %(kind)s events.") % {
                    "column": COLUMNS[index], "kind": kind.value})
    if problems or kind is None or at is None or office_id is None:
        for problem in problems:
            catalog.problems.append(Problem(line, problem))
        return None
    return Row(line, kind, at, office_id, visit or None, ticket or None, service_ids,
               step or None, counter_id, task or None, staff_id)


@lru_cache(maxsize=4096)
def _timestamp(text: str) -> datetime | None:
    """An ISO 8601 timestamp with its UTC offset, or None (rows of one second share one)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def _services(text: str, kind: EventKind | None, office_id: int | None, catalog: Catalog,
              problems: list[str]) -> tuple[int, ...]:
    """The row's service ids: one, or several for a counter opening."""
    if SERVICE_SEPARATOR not in text:  # one service or none: most rows
        service_id = _lookup(catalog.services, office_id, text)
        if service_id == 0:
            problems.append(_("Unknown service %(code)r in this office.") % {"code": text})
        return (service_id,) if service_id else ()
    codes = [code.strip() for code in text.split(SERVICE_SEPARATOR) if code.strip()] \
        if SERVICE_SEPARATOR in text else [text] if text else []
    if len(codes) > 1 and kind not in (EventKind.COUNTER_OPENED, EventKind.COUNTER_SERVICES):
        problems.append(_("Only a counter opening names several services."))
    found = []
    for code in codes:
        service_id = _lookup(catalog.services, office_id, code)
        if service_id == 0:
            problems.append(_("Unknown service %(code)r in this office.") % {"code": code})
        elif service_id is not None:
            found.append(service_id)
    return tuple(found)


def _lookup(table: dict[tuple[int, str], int], office_id: int | None, code: str) -> int | None:
    """An id by office and code; 0 for an unknown code (an unknown office was a problem)."""
    if not code or office_id is None:
        return None
    return table.get((office_id, code), 0)


#: Event types of the rows the first pass sets aside with those that name no visit.
_COUNTER_TEXTS = frozenset(kind.value for kind in COUNTER_KINDS)
#: Distinct (office, service, step, event, counter, staff) checked once each and remembered;
#: beyond this many (not a real export) the memory is cleared.
_MAX_TEMPLATES = 100_000
_VISIT_KEY = itemgetter(2, 3, 4, 5, 7, 9)
#: A `Row` from a tuple of its fields, without the named tuple's own constructor (in Python).
new_row = tuple.__new__


@dataclass
class Survey:
    """What the first pass learns: the rows of each visit, and the rows set aside."""

    #: Rows per (office id, visit), so that the second pass knows when a visit is complete.
    counts: dict[tuple[int | None, str], int]
    #: The rows of counters (and rows that name no visit), checked: few, kept in memory.
    aside: list[Row]


def survey(stream: BinaryIO, catalog: Catalog) -> Survey:
    """The first pass: count each visit's rows (as fast as the CSV module reads them; the
    second pass checks them), check and keep the counters' rows."""
    _check_size(stream)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    counts: dict[tuple[str, str], int] = {}
    aside: list[tuple[int, tuple[str, ...]]] = []
    try:
        reader = csv.reader(text)
        width, places = _header(reader)
        office, visit, event = (places[COLUMNS.index(name)]
                                for name in ("office", "visit", "event"))
        pick = itemgetter(*places)
        for values in reader:
            if len(values) != width:  # reported by the second pass
                continue
            values.append("")
            code = values[visit].strip()
            if code and values[event].strip() not in _COUNTER_TEXTS:
                key = (values[office].strip(), code)
                counts[key] = counts.get(key, 0) + 1
            else:
                fields = tuple(map(str.strip, pick(values)))
                if any(fields):
                    aside.append((reader.line_num, fields))
    except (csv.Error, UnicodeDecodeError):
        text.detach()
        stream.seek(0)
        for _row in read_rows(stream):  # the same error, reported with its line
            pass
        raise
    text.detach()
    offices = catalog.offices
    return Survey({(offices.get(code), visit_code): count
                   for (code, visit_code), count in counts.items()},
                  list(check_rows(aside, catalog)))


def visit_groups(rows: Iterable[tuple[int, tuple[str, ...]]], catalog: Catalog,
                 counts: dict[tuple[int | None, str], int]) -> Iterator[list[Row]]:
    """The second pass: each visit's rows, checked, in line order, once its last one is read
    (a file in time order keeps only the visits in progress in memory); those `survey` set
    aside are skipped. Visits left incomplete (the file has wrong rows) come last.

    Most columns take a few values, so each combination is checked once (by `_check_row`)
    and remembered; a row is then checked for its own values only. A row with any problem is
    checked again in full, so that its problems are those `check_rows` reports."""
    templates: dict[tuple[str, ...], tuple[Any, ...] | None] = {}
    waiting: dict[tuple[int, str], list[Row]] = {}
    for line, fields in rows:
        if len(fields) == 2 or not fields[0] or fields[5] in _COUNTER_TEXTS:
            if len(fields) == 2:
                list(check_rows([(line, fields)], catalog))
            continue
        visit, ticket, task = fields[0], fields[1], fields[8]
        key = _VISIT_KEY(fields)
        if key in templates:
            template = templates[key]
        else:
            if len(templates) >= _MAX_TEMPLATES:
                templates.clear()
            template = templates[key] = _template(fields, catalog)
        at = _timestamp(fields[6])
        if (template is None or at is None or not ticket or len(visit) > 64
                or len(ticket) > 16 or len(task) > 64 or "\x00" in visit + ticket + task):
            if catalog.full():
                break
            row = _check_row(line, fields, catalog)
            if row is None:
                continue
        else:
            kind, office_id, service_ids, step, counter_id, staff_id = template
            row = new_row(Row, (line, kind, at, office_id, visit, ticket, service_ids, step,
                                counter_id, task or None, staff_id))
        group_key = (row.office_id, visit)
        group = waiting.get(group_key)
        if group is None:
            group = waiting[group_key] = [row]
        else:
            group.append(row)
        if len(group) == counts.get(group_key):
            del waiting[group_key]
            yield group
    yield from waiting.values()


def _template(fields: tuple[str, ...], catalog: Catalog) -> tuple[Any, ...] | None:
    """What a row with these office, service, step, event, counter and staff becomes (kind,
    office, services, step, counter, staff), or None if they have a problem."""
    checked = _check_row(0, ("v", "t", *fields[2:6], "2000-01-01T00:00:00+00:00", fields[7],
                             "", fields[9]), replace(catalog, problems=[]))
    if checked is None:
        return None
    return (checked.kind, checked.office_id, checked.service_ids, checked.step,
            checked.counter_id, checked.staff_id)
