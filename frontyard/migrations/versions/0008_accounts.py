"""accounts: users' session version and forced password change, devices' last-seen time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from frontyard.database import UTCDateTime

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: existing users keep their sessions and passwords.

    Plain ALTER TABLE, not a batch (as in 0005): on SQLite a batch copies the table, and
    dropping the old copy fails while other tables reference it (foreign keys are on)."""
    op.add_column('user', sa.Column('session_version', sa.Integer(), nullable=False,
                                    server_default=sa.text('0')))
    op.add_column('user', sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                    server_default=sa.false()))
    op.add_column('device', sa.Column('last_seen_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision (SQLite 3.35 or newer drops a column in place)."""
    op.drop_column('device', 'last_seen_at')
    op.drop_column('user', 'must_change_password')
    op.drop_column('user', 'session_version')
