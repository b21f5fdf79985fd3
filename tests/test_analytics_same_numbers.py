"""The analytics page shows the same numbers whichever way the queue's events reach it.

A few working days of the demo office are played through the queue engine; every number of
the analytics report (metrics, staffing, tables, forecast) is compared with a recording made
before analytics stopped being written into by the queue (tests/data/analytics_days.json), and
with a rebuild of the rollups from the event log alone. Regenerate the recording only on purpose:
`FRONTYARD_WRITE_ANALYTICS_RECORDING=1 pytest tests/test_analytics_same_numbers.py -k sqlite`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import date, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from analytics.report import PageQuery, build_report
from analytics.rollups import claim_timezone, rebuild_rollups
from analytics.staffing import ServiceTarget
from counter.models import Office
from frontyard.database import session_scope
from frontyard.i18n import use_locale

RECORDING = Path(__file__).parent / "data" / "analytics_days.json"
LAST_DAY = date(2026, 11, 13)  # a Friday; the days before it include a Monday
DAYS = 6


def _plain(value: Any) -> Any:
    """A JSON-comparable form of a report value (dataclasses, dates, tuples as keys)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {repr(key) if not isinstance(key, str) else key: _plain(item)
                for key, item in sorted(value.items(), key=lambda pair: repr(pair[0]))}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(item) for item in value)
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _report_numbers(engine: Any, tz: Any) -> dict[str, Any]:
    """Every number the analytics page shows for the played days."""
    with session_scope(engine) as session, use_locale("en"):
        office = session.exec(select(Office)).one()
        from analytics.metrics import Filters

        query = PageQuery(Filters(LAST_DAY - timedelta(days=DAYS + 2), LAST_DAY, office.id),
                          ServiceTarget(), LAST_DAY + timedelta(days=3))
        report = build_report(session, query, tz)
        return {
            "metrics": _plain(dataclasses.replace(report.metrics, filters=None)),
            "staffing": _plain(report.staffing),
            "forecast": _plain(report.forecast),
            "tables": {name: _plain(table.rows) for name, table in sorted(report.tables.items())},
        }


@pytest.mark.timeout(600)
def test_a_played_week_gives_the_recorded_numbers_and_the_logs(engine, settings) -> None:  # type: ignore[no-untyped-def]
    """Played through the queue: same numbers as recorded, and as rebuilt from the log."""
    from composition.demo import seed_structure
    from composition.demo_history import generate_history

    with session_scope(engine) as session:
        code = seed_structure(session).code
        claim_timezone(session, settings.tz)
    list(generate_history(engine, code, DAYS, end=LAST_DAY + timedelta(days=1), seed=11))

    played = _report_numbers(engine, settings.tz)
    with session_scope(engine) as session:
        rebuild_rollups(session, tz=settings.tz)
    assert _report_numbers(engine, settings.tz) == played

    if os.environ.get("FRONTYARD_WRITE_ANALYTICS_RECORDING") == "1":
        RECORDING.write_text(json.dumps(played, indent=1, ensure_ascii=False, sort_keys=True)
                             + "\n", encoding="utf-8")
    recorded = json.loads(RECORDING.read_text(encoding="utf-8"))
    assert json.loads(json.dumps(played, sort_keys=True)) == recorded
