"""catalog: the procedure catalog's versions per office, in the database

Revision ID: 0013_catalog
Revises: 0012_pre_entry
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from frontyard.database import UTCDateTime

revision: str = '0013_catalog'
down_revision: str | Sequence[str] | None = '0012_pre_entry'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: an empty table; the bundled catalog seeds it on first use."""
    op.create_table(
        'catalog_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('yaml_text', sa.Text(), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('published_by', sa.Integer(), nullable=True),
        sa.Column('published_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['office_id'], ['office.id']),
        sa.ForeignKeyConstraint(['created_by'], ['user.id']),
        sa.ForeignKeyConstraint(['published_by'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('office_id', 'number', name='uq_catalog_version_number'),
    )
    op.create_index(op.f('ix_catalog_version_office_id'), 'catalog_version', ['office_id'],
                    unique=False)
    op.create_index('ix_catalog_version_one_published', 'catalog_version', ['office_id'],
                    unique=True, sqlite_where=sa.text("state = 'published'"),
                    postgresql_where=sa.text("state = 'published'"))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_catalog_version_one_published', table_name='catalog_version')
    op.drop_index(op.f('ix_catalog_version_office_id'), table_name='catalog_version')
    op.drop_table('catalog_version')
