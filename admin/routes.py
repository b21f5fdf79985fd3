"""Admin pages: the audit log of every staff view and change of personal data."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from frontyard.audit import AuditEntry
from frontyard.auth import Role, User
from frontyard.errors import ValidationFailed
from frontyard.guards import db, require_role
from frontyard.i18n import gettext as _
from frontyard.templating import render

PAGE_SIZE = 200


#: The dates an audit filter may name (9999-12-31 + one day would overflow; found by fuzzing).
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


def _day(value: str | None, default: date) -> date:
    if not value:
        return default
    try:
        day = date.fromisoformat(value)
    except ValueError as error:
        raise ValidationFailed(_("Dates are written as YYYY-MM-DD."),
                               date=_("Dates are written as YYYY-MM-DD.")) from error
    if not EARLIEST <= day <= LATEST:
        message = _("Choose a date between %(first)s and %(last)s.") % {
            "first": EARLIEST.isoformat(), "last": LATEST.isoformat()}
        raise ValidationFailed(message, date=message)
    return day


AuditRows = list[tuple[AuditEntry, str]]


def _entries(request: Request, limit: int | None) -> tuple[AuditRows, date, date]:
    """Audit entries between the requested local dates, newest first, with user names."""
    tz = request.app.state.settings.tz
    today = datetime.now(tz).date()
    first = _day(request.query_params.get("from"), today - timedelta(days=6))
    last = _day(request.query_params.get("to"), today)
    if last < first:
        raise ValidationFailed(_("The end date is before the start date."))
    start = datetime.combine(first, time(), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)
    query = (select(AuditEntry, User.username)
             .join(User, AuditEntry.user_id == User.id, isouter=True)  # type: ignore[arg-type]
             .where(AuditEntry.at >= start, AuditEntry.at < end)
             .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))  # type: ignore[attr-defined,union-attr]
    if limit:
        query = query.limit(limit)
    with db(request) as session:
        rows = [(entry, username or "—") for entry, username in session.exec(query)]
    return rows, first, last


@require_role(Role.ADMIN)
async def audit_log(request: Request) -> Response:
    """The audit log for a date range (default: the last seven days)."""
    rows, first, last = _entries(request, PAGE_SIZE)
    return render(request, "admin/audit.html",
                  {"rows": rows, "first": first, "last": last, "page_size": PAGE_SIZE})


@require_role(Role.ADMIN)
async def audit_log_csv(request: Request) -> Response:
    """The same range as CSV, every entry."""
    rows, first, last = _entries(request, None)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["at_utc", "user", "action", "visit_id", "detail"])
    for entry, username in rows:
        detail = ";".join(f"{key}={value}" for key, value in sorted(entry.detail.items()))
        writer.writerow([entry.at.isoformat(), username, entry.action, entry.visit_id or "",
                         detail])
    filename = f"audit-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


routes = [
    Route("/admin/audit", audit_log, name="audit_log"),
    Route("/admin/audit.csv", audit_log_csv, name="audit_log_csv"),
]
