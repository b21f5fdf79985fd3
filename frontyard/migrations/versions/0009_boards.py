"""boards: what each call board shows (every call, some services', one zone's) and its
languages

Revision ID: 0009_boards
Revises: 0008
Create Date: 2026-12-06 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_boards'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: boards without a row show everything, as before."""
    op.create_table(
        'board_setting',
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.Enum('all', 'services', 'zone', name='boardscope',
                                   native_enum=False, length=24, create_constraint=False),
                  nullable=False),
        sa.Column('zone', sa.String(length=64), nullable=False),
        sa.Column('languages', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['device.id']),
        sa.PrimaryKeyConstraint('device_id'))
    op.create_table(
        'board_service',
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['device.id']),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.PrimaryKeyConstraint('device_id', 'service_id'))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('board_service')
    op.drop_table('board_setting')
