"""The managers' report: page parameters, and every table the page shows and exports.

`parse_query` turns the page's GET parameters into filters and a service target (refusing
nonsense with a `ValidationFailed` naming the field); `build_report` reads the aggregates once
and lays them out as `Table`s whose rows hold raw values (ids, seconds, shares). The page
formats them for the reader's language, the exports write them as they are.

This is the package's interface; its modules hold the parameters (`query`), the table layouts
(`tables`), the report (`build`), the what-if plan (`whatif`) and the tables built only for an
export (`on_demand`).
"""

from analytics.report.build import Names, Report, build_report
from analytics.report.on_demand import table_for
from analytics.report.query import PageQuery, Query, parse_query
from analytics.report.tables import (
    LEVEL_LABELS,
    METRIC_LABELS,
    STATUS_LABELS,
    TABLE_NAMES,
    Column,
    Kind,
    Table,
    whatif_table,
)
from analytics.report.whatif import (
    plan_hours,
    plan_services,
    real_waits,
    run_whatif,
    whatif_plan,
)

__all__ = [
    "LEVEL_LABELS",
    "METRIC_LABELS",
    "STATUS_LABELS",
    "TABLE_NAMES",
    "Column",
    "Kind",
    "Names",
    "PageQuery",
    "Query",
    "Report",
    "Table",
    "build_report",
    "parse_query",
    "plan_hours",
    "plan_services",
    "real_waits",
    "run_whatif",
    "table_for",
    "whatif_plan",
    "whatif_table",
]
