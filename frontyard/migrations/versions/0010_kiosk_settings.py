"""kiosk settings: the city's name, logos (the city's and an office's own), and each office's
kiosk languages, welcome text and privacy notice

Revision ID: 0010_kiosk_settings
Revises: 0009_boards
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from frontyard.database import UTCDateTime

revision: str = '0010_kiosk_settings'
down_revision: str | Sequence[str] | None = '0009_boards'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: new tables only. An office without a kiosk_settings row offers
    every kiosk language, as before; a city without a name or logo shows none."""
    op.create_table(
        'city_branding',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('names', sa.JSON(), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_table(
        'logo',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=True),
        sa.Column('media_type', sa.String(length=16), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['office.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('office_id'))
    op.create_index('ix_logo_digest', 'logo', ['digest'], unique=False)
    op.create_table(
        'kiosk_settings',
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('languages', sa.JSON(), nullable=False),
        sa.Column('welcome', sa.JSON(), nullable=False),
        sa.Column('privacy', sa.JSON(), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['office.id']),
        sa.PrimaryKeyConstraint('office_id'))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('kiosk_settings')
    op.drop_index('ix_logo_digest', table_name='logo')
    op.drop_table('logo')
    op.drop_table('city_branding')
