"""The autopilot remembers what it planned each scope from, so that a tick skips a scope where nothing changed

Revision ID: e20f1a9b0006
Revises: c7a4e19b2d60
Create Date: 2026-12-06 21:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e20f1a9b0006'
down_revision = 'c7a4e19b2d60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('autopilot_setting') as batch_op:
        batch_op.add_column(sa.Column('planned_inputs', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('autopilot_setting') as batch_op:
        batch_op.drop_column('planned_inputs')
