"""pre_entry: details entered at home, waiting for the kiosk under a short code

Revision ID: 0012_pre_entry
Revises: 0011_hours
Create Date: 2026-12-06 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import frontyard.database

revision: str = '0012_pre_entry'
down_revision: str | Sequence[str] | None = '0011_hours'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: a new table, nothing else changes."""
    op.create_table('pre_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('procedures', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('client_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', frontyard.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('redeemed_at', frontyard.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], ),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('pre_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pre_entry_client_key'), ['client_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_pre_entry_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pre_entry_office_id'), ['office_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('pre_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pre_entry_office_id'))
        batch_op.drop_index(batch_op.f('ix_pre_entry_created_at'))
        batch_op.drop_index(batch_op.f('ix_pre_entry_client_key'))

    op.drop_table('pre_entry')
