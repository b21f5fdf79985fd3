"""admin structure: office address, service colour and kind, counter zone, the services each
counter and each staff member may serve

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: existing services are queues, and nobody is restricted yet (no rows
    in the two new tables means every service).

    Plain ALTER TABLE, not a batch: on SQLite a batch copies the table, and dropping the old
    copy fails while other tables reference it (foreign keys are on)."""
    op.add_column('office', sa.Column('address', sa.String(length=200), nullable=False,
                                      server_default=''))
    op.add_column('service', sa.Column('colour', sa.String(length=7), nullable=False,
                                       server_default=''))
    op.add_column('service', sa.Column(
        'kind', sa.Enum('queue', 'appointment', 'information', name='servicekind',
                        native_enum=False, length=24),
        nullable=False, server_default='queue'))
    op.add_column('counter', sa.Column('zone', sa.String(length=64), nullable=False,
                                       server_default=''))
    op.create_table(
        'counterallowedservice',
        sa.Column('counter_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['counter_id'], ['counter.id']),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.PrimaryKeyConstraint('counter_id', 'service_id'))
    op.create_table(
        'staffservice',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.PrimaryKeyConstraint('user_id', 'service_id'))


def downgrade() -> None:
    """Revert this revision (SQLite 3.35 or newer drops a column in place)."""
    op.drop_table('staffservice')
    op.drop_table('counterallowedservice')
    op.drop_column('counter', 'zone')
    op.drop_column('service', 'kind')
    op.drop_column('service', 'colour')
    op.drop_column('office', 'address')
