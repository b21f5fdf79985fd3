"""service step names in every language

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: existing services get no translations (their steps show as named).

    Plain ALTER TABLE, not a batch: on SQLite a batch copies the table, and dropping the old
    copy fails while visits' tasks reference it (foreign keys are on)."""
    op.add_column('service', sa.Column('step_names', sa.JSON(), nullable=False,
                                       server_default=sa.text("'{}'")))


def downgrade() -> None:
    """Revert this revision (SQLite 3.35 or newer drops a column in place)."""
    op.drop_column('service', 'step_names')
