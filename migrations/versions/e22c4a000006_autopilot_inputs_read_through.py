"""The autopilot's scopes remember the audit entry their inputs were last read through (issue #20)

Revision ID: e22c4a000006
Revises: e22b3e000005
Create Date: 2026-12-07 03:10:00

A tick reads the audit trail's entries written since, once for every scope, and loads again only the scopes one of
them concerns (app.domain.scope_changes). Empty on existing rows: their next tick reads them in full.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e22c4a000006'
down_revision = 'e22b3e000005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('autopilot_setting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inputs_read_through', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('autopilot_setting', schema=None) as batch_op:
        batch_op.drop_column('inputs_read_through')
