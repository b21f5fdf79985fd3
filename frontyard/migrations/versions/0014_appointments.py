"""appointments: bookable services, their weekly hours, bookings and the per-slot tally

Revision ID: 0014_appointments
Revises: 0013_catalog
Create Date: 2026-12-06 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontyard.database

revision: str = '0014_appointments'
down_revision: str | Sequence[str] | None = '0013_catalog'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: no service is bookable until the admin says so."""
    op.create_table(
        'bookableservice',
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.PrimaryKeyConstraint('service_id'))
    op.create_table(
        'bookinghours',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('weekday', sa.Integer(), nullable=False),
        sa.Column('start', sa.String(length=5), nullable=False),
        sa.Column('end', sa.String(length=5), nullable=False),
        sa.Column('slot_minutes', sa.Integer(), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_bookinghours_service_id', 'bookinghours', ['service_id'])
    op.create_table(
        'booking',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('slot_start', frontyard.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('slot_minutes', sa.Integer(), nullable=False),
        sa.Column('state', sa.Enum('booked', 'checked_in', 'cancelled', 'no_show',
                                   name='bookingstate', native_enum=False, length=24,
                                   create_constraint=False), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('contact', sa.String(length=254), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('manage_token', sa.String(length=64), nullable=False),
        sa.Column('checkin_code', sa.String(length=16), nullable=False),
        sa.Column('created_at', frontyard.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('checked_in_at', frontyard.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('visit_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['office_id'], ['office.id']),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.ForeignKeyConstraint(['visit_id'], ['visit.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('checkin_code'),
        sa.UniqueConstraint('manage_token'))
    op.create_index('ix_booking_slot', 'booking', ['service_id', 'slot_start'])
    op.create_index('ix_booking_office_id', 'booking', ['office_id'])
    op.create_index('ix_booking_state', 'booking', ['state'])
    op.create_index('ix_booking_contact', 'booking', ['contact'])
    op.create_index('ix_booking_visit_id', 'booking', ['visit_id'])
    op.create_table(
        'slottally',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('slot_start', frontyard.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('taken', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('service_id', 'slot_start'))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('slottally')
    for index in ('ix_booking_visit_id', 'ix_booking_contact', 'ix_booking_state',
                  'ix_booking_office_id', 'ix_booking_slot'):
        op.drop_index(index, table_name='booking')
    op.drop_table('booking')
    op.drop_index('ix_bookinghours_service_id', table_name='bookinghours')
    op.drop_table('bookinghours')
    op.drop_table('bookableservice')
