"""Analytics pages for managers: the report, the what-if simulation, exports, and the import
of another system's events (admins).

The report, the what-if and the exports only read, in a read session: on SQLite a year-long
report then never holds the write lock the queue's writers wait for."""

from __future__ import annotations

from typing import Any, BinaryIO
from urllib.parse import urlencode

from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from analytics import display
from analytics.appointments import period_figures
from analytics.exports import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx
from analytics.importer import MAX_BYTES, ImportRejected, ImportResult, Problem, import_events
from analytics.report import (
    TABLE_NAMES,
    PageQuery,
    Report,
    build_report,
    parse_query,
    plan_hours,
    plan_services,
    real_waits,
    run_whatif,
    table_for,
    whatif_plan,
    whatif_table,
)
from counter.models import Office, Service
from frontyard.auth import Role
from frontyard.database import read_session, utcnow
from frontyard.errors import NotFound, ValidationFailed
from frontyard.guards import db, require_role
from frontyard.i18n import gettext as _
from frontyard.templating import render

EXPORT_FORMATS = {"csv": (to_csv, CSV_TYPE), "xlsx": (to_xlsx, XLSX_TYPE)}


def _report(request: Request, session: Session) -> Report:
    """The report for the request's parameters (a 422 names a wrong one)."""
    tz = request.app.state.settings.tz
    query = parse_query(request.query_params, utcnow().astimezone(tz).date(), session)
    return build_report(session, query, tz)


def _form_choices(session: Session, query: PageQuery) -> dict[str, Any]:
    """Offices, services and steps for the filter form."""
    offices = session.exec(select(Office).order_by(col(Office.code))).all()
    services = session.exec(select(Service).where(col(Service.active).is_(True)).order_by(
        col(Service.office_id), col(Service.sort_order), col(Service.id))).all()
    if query.filters.office_id is not None:
        services = [s for s in services if s.office_id == query.filters.office_id]
    chosen = [s for s in services if s.id == query.filters.service_id] or services
    steps = sorted({step for service in chosen for step in service.steps})
    return {"offices": offices, "services": services, "steps": steps}


def _context(report: Report, session: Session) -> dict[str, Any]:
    """What both analytics pages need."""
    params = report.query.params()
    return {"report": report, "query": report.query, "filters": report.query.filters,
            "params": urlencode(params), "cell": display.cell_text,
            "weekday_name": display.weekday_name, "hour_label": display.hour_label,
            "service_name": display.service_name, **_form_choices(session, report.query)}


@require_role(Role.MANAGER)
async def dashboard(request: Request) -> Response:
    """The managers' report for the chosen period, office, service, step and weekdays."""
    with read_session(request.app.state.engine) as session:
        report = _report(request, session)
        context = _context(report, session)
        appointments = period_figures(session, report.query.filters,
                                      request.app.state.settings.tz)
    context |= {"appointments": appointments, "minutes": display.minutes,
                "heatmap_chart": display.heatmap_chart(report),
                "duration_charts": display.duration_charts(report),
                "staffing_chart": display.staffing_chart(report),
                "forecast_chart": display.forecast_chart(report),
                "week_days": display.week_ahead_days(report),
                "exports": [name for name in TABLE_NAMES if name != "whatif"
                            and (name != "appointments" or appointments)]}
    return render(request, "analytics/dashboard.html", context)


@require_role(Role.MANAGER)
async def whatif(request: Request) -> Response:
    """A staff plan (counters per hour per service) simulated over the period's history."""
    tz = request.app.state.settings.tz
    with read_session(request.app.state.engine) as session:
        report = _report(request, session)
        context = _context(report, session)
        plan = whatif_plan(report, request.query_params)
        predicted = problem = None
        if request.query_params.get("run") and report.staffing:
            try:
                predicted = run_whatif(session, report, plan, tz)
            except ValidationFailed as error:
                problem = error.message  # e.g. no visits to take routes from: say so
    real = real_waits(report)
    context |= {"plan": plan, "plan_hours": plan_hours(report),
                "plan_services": plan_services(report), "problem": problem,
                "predicted": predicted,
                "table": whatif_table(predicted, real) if predicted else None,
                "chart": display.whatif_chart(predicted, real) if predicted else None,
                "plan_params": urlencode([(f"plan-{s}-{h}", n) for s, hours in plan.items()
                                          for h, n in hours.items()])}
    return render(request, "analytics/whatif.html", context)


@require_role(Role.MANAGER)
async def export(request: Request) -> Response:
    """One table as CSV or XLSX, for the same parameters as the page."""
    name, _dot, extension = request.path_params["file"].rpartition(".")
    if name not in TABLE_NAMES or extension not in EXPORT_FORMATS:
        raise NotFound(_("There is no export of that name."))
    tz = request.app.state.settings.tz
    with read_session(request.app.state.engine) as session:
        report = _report(request, session)
        table = table_for(name, session, report, tz, request.query_params)
    write, media_type = EXPORT_FORMATS[extension]
    filters = report.query.filters
    filename = f"frontyard-{name}-{filters.start.isoformat()}-{filters.end.isoformat()}" \
               f".{extension}"
    return Response(write(table, report.names), media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@require_role(Role.ADMIN)
async def import_form(request: Request) -> Response:
    """The upload form for another system's events."""
    return _import_page(request)


@require_role(Role.ADMIN)
async def import_upload(request: Request) -> Response:
    """Import the uploaded CSV whole, or report every wrong line and import nothing."""
    try:
        async with request.form(max_files=1) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ImportRejected([Problem(1, _("Choose a CSV file to import."))])
            # Spooled to disk by the form parser and read a line at a time, off the event loop.
            result = await run_in_threadpool(_import, request, upload.file)
    except ImportRejected as rejected:
        return _import_page(request, problems=rejected.problems, message=rejected.message)
    return _import_page(request, result, result.repeated)


def _import_page(request: Request, result: ImportResult | None = None,
                 problems: list[Problem] | None = None, message: str | None = None) -> Response:
    """The import form, with what the last upload did (422 when it was refused)."""
    return render(request, "analytics/import.html",
                  {"result": result, "problems": problems or [], "message": message,
                   "max_mb": MAX_BYTES // 1024 // 1024}, status_code=422 if message else 200)


def _import(request: Request, stream: BinaryIO) -> ImportResult:
    """The import in its own transaction."""
    with db(request) as session:
        result = import_events(session, stream, request.app.state.settings.tz)
        session.commit()
    return result


routes = [
    Route("/analytics", dashboard, name="analytics"),
    Route("/analytics/whatif", whatif, name="analytics_whatif"),
    Route("/analytics/export/{file}", export, name="analytics_export"),
    Route("/analytics/import", import_form, methods=["GET"], name="analytics_import"),
    Route("/analytics/import", import_upload, methods=["POST"], name="analytics_import_post"),
]
