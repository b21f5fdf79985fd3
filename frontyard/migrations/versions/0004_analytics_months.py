"""analytics month rollups: stage, hour and counter tables per month and weekday, open days per
office and date, filled from the day-level rollups already there

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of analytics.models' column lists as of this revision (a migration must not
# change when the models do later).
COUNTS = ("arrivals", "issued", "calls", "recalls", "no_shows", "done")
DURATIONS = ("wait", "walk", "handling", "stay")
BUCKET_COUNT = 31
HOUR_VALUES = [*COUNTS, *(f"{metric}_{part}" for metric in DURATIONS for part in ("n", "ms")),
               "open_ms"]
DAY_VALUES = [*COUNTS, "open_ms",
              *(name for metric in DURATIONS for name in (
                  f"{metric}_n", f"{metric}_ms",
                  *(f"{metric}_b{index:02d}" for index in range(BUCKET_COUNT))))]
COUNTER_VALUES = ["done", "handling_n", "handling_ms", "open_ms"]
OFFICE_DAY_VALUES = ["issued", "arrivals", "open_ms"]
STAGE_KEY = ["office_id", "service_id", "step"]
COUNTER_KEY = ["office_id", "counter_id", "staff_user_id", "service_id"]


def _values(names: list[str]) -> list[sa.Column]:
    """Running totals that start at zero."""
    return [sa.Column(name, sa.BigInteger(), server_default='0', nullable=False)
            for name in names]


def _month_stage_key() -> list[sa.Column]:
    """month, office, service, step, weekday."""
    return [sa.Column('month', sa.Date(), nullable=False),
            sa.Column('office_id', sa.Integer(), nullable=False),
            sa.Column('service_id', sa.Integer(), nullable=False),
            sa.Column('step', sa.String(length=64), nullable=False),
            sa.Column('weekday', sa.SmallInteger(), nullable=False)]


def _month_of(column: str) -> str:
    """SQL for the first day of a date column's month."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS DATE)"
    return f"substr({column}, 1, 7) || '-01'"  # SQLite keeps dates as 'YYYY-MM-DD'


def _fill(target: str, source: str, key: list[str], values: list[str], *,
          month: bool = True) -> None:
    """Sum a day-level table's rows into a new table: its month twin, or the office days (which
    keep only dates with something in them, as the writers do)."""
    when = "month" if month else "local_date"
    picked = f"{_month_of('local_date')} AS month" if month else "local_date"
    groups = ", ".join([when, *key, "weekday"])
    sums = ", ".join(f"SUM({name})" for name in values)
    having = "" if month else " HAVING " + " OR ".join(f"SUM({name}) <> 0" for name in values)
    op.execute(f"INSERT INTO {target} ({groups}, {', '.join(values)}) "
               f"SELECT {', '.join([picked, *key, 'weekday'])}, {sums} "
               f"FROM {source} GROUP BY {groups}{having}")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('analytics_counter_month',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    *_values(COUNTER_VALUES),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], ),
    sa.PrimaryKeyConstraint('month', 'office_id', 'counter_id', 'staff_user_id', 'service_id',
                            'weekday'),
    sqlite_with_rowid=False
    )
    op.create_table('analytics_office_day',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    *_values(OFFICE_DAY_VALUES),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], ),
    sa.PrimaryKeyConstraint('local_date', 'office_id'),
    sqlite_with_rowid=False
    )
    op.create_table('analytics_stage_hour_month',
    *_month_stage_key(),
    sa.Column('hour', sa.SmallInteger(), nullable=False),
    *_values(HOUR_VALUES),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], ),
    sa.PrimaryKeyConstraint('month', 'office_id', 'service_id', 'step', 'weekday', 'hour'),
    sqlite_with_rowid=False
    )
    op.create_table('analytics_stage_month',
    *_month_stage_key(),
    *_values(DAY_VALUES),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], ),
    sa.PrimaryKeyConstraint('month', 'office_id', 'service_id', 'step', 'weekday'),
    sqlite_with_rowid=False
    )
    # An upgraded installation keeps its figures without a rebuild: the new rows are sums of
    # the day-level rows (the same sums the writers keep from now on).
    _fill("analytics_stage_hour_month", "analytics_stage_hour", [*STAGE_KEY, "hour"],
          HOUR_VALUES)
    _fill("analytics_stage_month", "analytics_stage_day", STAGE_KEY, DAY_VALUES)
    _fill("analytics_counter_month", "analytics_counter_day", COUNTER_KEY, COUNTER_VALUES)
    _fill("analytics_office_day", "analytics_stage_day", ["office_id"], OFFICE_DAY_VALUES,
          month=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('analytics_stage_month')
    op.drop_table('analytics_stage_hour_month')
    op.drop_table('analytics_office_day')
    op.drop_table('analytics_counter_month')
