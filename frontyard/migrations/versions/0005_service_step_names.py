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
    """Apply this revision: existing services get no translations (their steps show as named)."""
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step_names', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.alter_column('step_names', server_default=None)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_column('step_names')
