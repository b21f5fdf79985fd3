"""The analytics page's parameters: `parse_query` checks them into filters, a service target and
a forecast date, refusing nonsense with a `ValidationFailed` naming the field.

Separate from the tables and the report: parsing needs no aggregates, only the offices and
services it checks ids against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from sqlmodel import Session

from analytics.metrics import Filters
from analytics.staffing import ServiceTarget
from counter.models import Office, Service
from frontyard.errors import ValidationFailed
from frontyard.i18n import gettext as _

#: The default period: the last four weeks, today included.
DEFAULT_DAYS = 28
#: Longer ranges are refused (the page is meant for a year or two at a time).
MAX_DAYS = 3 * 366


class Query(Protocol):
    """What the page's parameters look like (Starlette's QueryParams and FormData match)."""

    def get(self, key: str, default: Any = None) -> Any:
        """One value."""

    def getlist(self, key: str) -> list[Any]:
        """Every value of a repeated parameter."""


@dataclass(frozen=True)
class PageQuery:
    """The page's parameters, checked."""

    filters: Filters
    target: ServiceTarget
    forecast_date: date

    def params(self) -> list[tuple[str, str]]:
        """The same query as URL parameters (for export links and the what-if page)."""
        f = self.filters
        pairs = [("start", f.start.isoformat()), ("end", f.end.isoformat())]
        pairs += [(name, str(value)) for name, value in (
            ("office", f.office_id), ("service", f.service_id), ("step", f.step))
            if value is not None]
        pairs += [("weekday", str(day)) for day in sorted(f.weekdays or ())]
        pairs += [("level", _plain(self.target.level * 100)),
                  ("minutes", _plain(self.target.seconds / 60)),
                  ("date", self.forecast_date.isoformat())]
        return pairs


def _plain(value: float) -> str:
    """A number without a needless ".0"."""
    return str(int(value)) if float(value).is_integer() else str(value)


def fail(field_name: str, message: str) -> ValidationFailed:
    """A refusal naming the parameter at fault."""
    return ValidationFailed(message, **{field_name: message})


def _date(query: Query, name: str, default: date) -> date:
    """A YYYY-MM-DD parameter."""
    text = (query.get(name) or "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(name, _("Dates are written as YYYY-MM-DD.")) from None


def _number(query: Query, name: str, default: float, low: float, high: float) -> float:
    """A number parameter within [low, high]."""
    text = (query.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise fail(name, _("Enter a number from %(low)s to %(high)s.")
                    % {"low": _plain(low), "high": _plain(high)})
    return value


def _optional_id(query: Query, name: str) -> int | None:
    """An id parameter (empty: all)."""
    text = (query.get(name) or "").strip()
    if not text:
        return None
    # ASCII digits only ("²" is a digit to isdigit), and no more than an id can have.
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise fail(name, _("Choose an entry from the list."))
    return int(text)


def parse_query(query: Query, today: date, session: Session) -> PageQuery:
    """Check the page's parameters: dates, office, service, step, weekdays and target."""
    end = _date(query, "end", today)
    start = _date(query, "start", end - timedelta(days=DEFAULT_DAYS - 1))
    if (end - start).days >= MAX_DAYS:
        raise fail("start", _("Choose a period of at most three years."))
    office_id, service_id = _optional_id(query, "office"), _optional_id(query, "service")
    if office_id is not None and session.get(Office, office_id) is None:
        raise fail("office", _("Choose an office from the list."))
    service = session.get(Service, service_id) if service_id is not None else None
    if service_id is not None and (service is None or (
            office_id is not None and service.office_id != office_id)):
        raise fail("service", _("Choose a service of the chosen office."))
    step = (query.get("step") or "").strip() or None
    if step is not None and len(step) > 64:
        raise fail("step", _("Choose a step from the list."))
    weekdays = None
    chosen = [value for value in query.getlist("weekday") if str(value).strip()]
    if chosen:
        if not all(str(value).strip() in {str(day) for day in range(7)} for value in chosen):
            raise fail("weekday", _("Choose weekdays from the list."))
        weekdays = frozenset(int(value) for value in chosen)
    level = _number(query, "level", 80, 1, 99)
    minutes = _number(query, "minutes", 15, 0, 600)
    filters = Filters(start, end, office_id, service_id, step, weekdays)
    return PageQuery(filters, ServiceTarget(level=level / 100, seconds=minutes * 60),
                     _date(query, "date", today + timedelta(days=1)))
