"""Tables built only when an export asks for them: the events in the import format and the
what-if run; `table_for` finds any table by name.

Separate from the report, which builds only the tables the page always shows.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from analytics.metrics import Filters
from analytics.report.build import Names, Report
from analytics.report.query import Query, fail
from analytics.report.tables import Column, Kind, Table, whatif_table
from analytics.report.whatif import real_waits, run_whatif, whatif_plan
from analytics.timeline import COUNTER_KINDS
from counter.models import Event, Visit
from frontyard.i18n import gettext as _
from frontyard.i18n import lazy_gettext


def events_table(session: Session, filters: Filters, tz: ZoneInfo, names: Names) -> Table:
    """The events of the visits issued in the filter's dates and office, and the counter
    events of those dates, in the import format (docs/analytics.md)."""
    from analytics.importer import COLUMNS

    table = Table("events", lazy_gettext("Events"),
                  [Column(name, name, Kind.TEXT) for name in COLUMNS])
    start = datetime.combine(filters.start, time(), tz)
    end = datetime.combine(filters.end + timedelta(days=1), time(), tz)
    visits = select(Visit.id).where(Visit.issued_at >= start, Visit.issued_at < end)  # type: ignore[arg-type]
    counters = and_(col(Event.kind).in_(COUNTER_KINDS), Event.at >= start, Event.at < end)  # type: ignore[arg-type]
    query = select(Event, Visit.ticket_number).join(
        Visit, col(Visit.id) == Event.visit_id, isouter=True).where(
        or_(col(Event.visit_id).in_(visits), counters))
    if filters.office_id is not None:
        query = query.where(Event.office_id == filters.office_id)
    for event, ticket in session.exec(query.order_by(col(Event.at), col(Event.id))):
        table.rows.append(_event_row(event, ticket, tz, names))
    return table


def _event_row(event: Event, ticket: str | None, tz: ZoneInfo, names: Names) -> list[Any]:
    """One event as a row of the import format."""
    services = (event.data or {}).get("service_ids") if event.kind in COUNTER_KINDS else None
    service_ids = [int(s) for s in services or []] or (
        [event.service_id] if event.service_id else [])
    codes = ";".join(names.services[s].code for s in service_ids if s in names.services)
    counter = names.counters.get(event.counter_id) if event.counter_id else None
    staff = names.staff.get(event.staff_user_id) if event.staff_user_id else None
    return [event.visit_id or "", ticket or "", names.offices[event.office_id].code, codes,
            event.step or "", event.kind.value, event.at.astimezone(tz).isoformat(),
            counter.number if counter else "", event.task_id or "",
            staff.username if staff else ""]


def appointments_table(session: Session, filters: Filters, tz: ZoneInfo) -> Table:
    """The dashboard's appointments and walk-ins as one row (no row without bookings)."""
    from analytics.appointments import period_figures

    table = Table("appointments", lazy_gettext("Appointments and walk-ins"), [
        Column("booked", lazy_gettext("Booked"), Kind.COUNT),
        Column("checked_in", lazy_gettext("Checked in"), Kind.COUNT),
        Column("no_shows", lazy_gettext("Missed appointments"), Kind.COUNT),
        Column("cancelled", lazy_gettext("Cancelled"), Kind.COUNT),
        Column("mean_arrival_seconds",
               lazy_gettext("Mean arrival against the booked time (negative: early)"),
               Kind.SECONDS),
        Column("mean_wait_booked_seconds", lazy_gettext("Mean wait of booked tickets"),
               Kind.SECONDS),
        Column("mean_wait_walk_in_seconds", lazy_gettext("Mean wait of walk-ins"),
               Kind.SECONDS)])
    figures = period_figures(session, filters, tz)
    if figures is not None:
        table.rows.append([figures.booked, figures.checked_in, figures.no_shows,
                           figures.cancelled] + [
            None if value is None else round(value * 60, 1) for value in (
                figures.mean_arrival_minutes, figures.mean_wait_booked,
                figures.mean_wait_walk_in)])
    return table


def table_for(name: str, session: Session, report: Report, tz: ZoneInfo,
              query: Query) -> Table:
    """Any table by name: those of the report, the what-if run and the events."""
    if name in report.tables:
        return report.tables[name]
    if name == "events":
        return events_table(session, report.query.filters, tz, report.names)
    if name == "appointments":
        return appointments_table(session, report.query.filters, tz)
    if name == "whatif":
        plan = whatif_plan(report, query)
        return whatif_table(run_whatif(session, report, plan, tz), real_waits(report))
    raise fail("table", _("There is no table of that name."))
