"""establishments confirmed by the coordination before their first member acts (issue #17, point 14)

Revision ID: b5c2e7a1d9f0
Revises: 7df1df37f3e2
Create Date: 2026-12-06 14:30:00

A self-registered establishment waits for the coordination of its territory (confirmed_at NULL): its first
member may prepare requests, not send them, invite or let colleagues in. The establishments already there were
registered under the old rule and are taken as confirmed on the day they were created.
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'b5c2e7a1d9f0'
down_revision = '7df1df37f3e2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('establishment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_establishment_confirmed_by_id_user_account'), 'user_account',
                                    ['confirmed_by_id'], ['id'])
    op.execute("UPDATE establishment SET confirmed_at = created_at")


def downgrade():
    with op.batch_alter_table('establishment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_establishment_confirmed_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('confirmed_by_id')
        batch_op.drop_column('confirmed_at')
