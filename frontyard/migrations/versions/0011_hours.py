"""hours: opening hours of offices and services, calendar switches, closures, ticket cut-offs

Revision ID: 0011_hours
Revises: 0010_kiosk_settings
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011_hours'
down_revision: str | Sequence[str] | None = '0010_kiosk_settings'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: no rows anywhere means every office and service stays open always,
    as before."""
    op.create_table(
        'openingrange',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=True),
        sa.Column('weekday', sa.Integer(), nullable=False),
        sa.Column('nth', sa.Integer(), nullable=False),
        sa.Column('opens', sa.Integer(), nullable=False),
        sa.Column('closes', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['office.id']),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_openingrange_office_id', 'openingrange', ['office_id'])
    op.create_index('ix_openingrange_service_id', 'openingrange', ['service_id'])
    op.create_table(
        'officecalendar',
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('closed_on_national_holidays', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['office.id']),
        sa.PrimaryKeyConstraint('office_id'))
    op.create_table(
        'closure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['office.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_closure_office_id', 'closure', ['office_id'])
    op.create_table(
        'servicecutoff',
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.PrimaryKeyConstraint('service_id'))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('servicecutoff')
    op.drop_index('ix_closure_office_id', table_name='closure')
    op.drop_table('closure')
    op.drop_table('officecalendar')
    op.drop_index('ix_openingrange_service_id', table_name='openingrange')
    op.drop_index('ix_openingrange_office_id', table_name='openingrange')
    op.drop_table('openingrange')
