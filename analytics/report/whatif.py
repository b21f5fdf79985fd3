"""The what-if plan: the counters per service and hour the form starts from or sends, and the
simulation of that plan over the period's measured arrivals.

Separate from the report: the simulation runs only on the what-if page and its export.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlmodel import Session

from analytics.models import NO_SERVICE
from analytics.report.build import Report
from analytics.report.query import Query, fail
from analytics.simulation import (
    SimulationResult,
    StaffPlan,
    history_input,
    measured_waits,
    simulate,
)
from analytics.staffing import StaffingRow
from frontyard.i18n import gettext as _

#: What-if: simulated days per run, and the hours a plan may cover.
SIMULATED_DAYS = 10
MAX_PLAN_COUNTERS = 50


def default_plan(rows: Iterable[StaffingRow]) -> dict[int, dict[int, int]]:
    """The counters that were open, rounded: the plan the what-if form starts from."""
    plan: dict[int, dict[int, int]] = {}
    for row in rows:
        if row.service_id is not None and row.service_id != NO_SERVICE:
            # A counter shared by k services counts 1/k here; the simulation models a counter
            # per service, so any share of one becomes a whole counter.
            counters = round(row.counters_open)
            plan.setdefault(row.service_id, {})[row.hour] = (
                max(1, counters) if row.counters_open >= 0.05 else counters)
    return plan


def parse_plan(query: Query, services: Iterable[int], hours: Iterable[int]) -> StaffPlan | None:
    """The plan from `plan-<service>-<hour>` parameters, or None if the form was not sent."""
    plan: dict[int, dict[int, int]] = {}
    sent = False
    for service in services:
        for hour in hours:
            name = f"plan-{service}-{hour}"
            text = (query.get(name) or "").strip()
            if not text:
                continue
            sent = True
            if not text.isdigit() or int(text) > MAX_PLAN_COUNTERS:
                raise fail(name, _("Enter a whole number of counters from 0 to %(max)d.")
                            % {"max": MAX_PLAN_COUNTERS})
            plan.setdefault(service, {})[hour] = int(text)
    return plan if sent else None


def run_whatif(session: Session, report: Report, plan: StaffPlan,
               tz: ZoneInfo) -> SimulationResult:
    """Simulate the plan over the period's measured arrivals, routes and handling times."""
    inputs = history_input(session, report.query.filters, tz, source=report.metrics)
    return simulate(inputs, plan, days=SIMULATED_DAYS, seed=0,
                    target_seconds=report.query.target.seconds)


def real_waits(report: Report) -> dict[tuple[int | None, int], float]:
    """Measured mean waits per hour, for beside the predicted ones."""
    return measured_waits(report.metrics)


def plan_hours(report: Report) -> list[int]:
    """The hours a plan covers: those with arrivals or open counters in the period."""
    return sorted({row.hour for row in report.staffing})


def plan_services(report: Report) -> list[int]:
    """The services a plan covers: those with staffing rows in the period."""
    return sorted({row.service_id for row in report.staffing
                   if row.service_id is not None and row.service_id != NO_SERVICE})


def whatif_plan(report: Report, query: Query) -> StaffPlan:
    """The plan sent with the query, or the counters that were open."""
    sent = parse_plan(query, plan_services(report), plan_hours(report))
    return sent if sent is not None else default_plan(report.staffing)
