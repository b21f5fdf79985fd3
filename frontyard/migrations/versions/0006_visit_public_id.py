"""visits get an unguessable public id for staff pages' addresses

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Rows updated per statement while existing visits get their public ids.
BATCH = 1000


def upgrade() -> None:
    """Apply this revision: every existing visit gets its own random public id.

    Plain ALTER TABLE, not a batch (see 0005): SQLite adds a NOT NULL column only with a
    default, so the column comes with '' and every row is then given its own value."""
    op.add_column('visit', sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=32),
                                     nullable=False, server_default=''))
    visit = sa.table('visit', sa.column('id', sa.Integer), sa.column('public_id', sa.String))
    connection = op.get_bind()
    ids = connection.execute(sa.select(visit.c.id).order_by(visit.c.id)).scalars().all()
    fill = (visit.update().where(visit.c.id == sa.bindparam('visit_id'))
            .values(public_id=sa.bindparam('new_id')))
    for start in range(0, len(ids), BATCH):
        connection.execute(fill, [{'visit_id': visit_id, 'new_id': secrets.token_urlsafe(16)}
                                  for visit_id in ids[start:start + BATCH]])
    if connection.dialect.name != 'sqlite':  # SQLite cannot drop a column default in place
        op.alter_column('visit', 'public_id', server_default=None)
    op.create_index(op.f('ix_visit_public_id'), 'visit', ['public_id'], unique=True)


def downgrade() -> None:
    """Revert this revision (SQLite 3.35 or newer drops a column in place)."""
    op.drop_index(op.f('ix_visit_public_id'), table_name='visit')
    op.drop_column('visit', 'public_id')
