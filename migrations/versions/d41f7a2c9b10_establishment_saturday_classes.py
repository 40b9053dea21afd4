"""establishments say whether they have classes on Saturdays (issue #18, requesters)

Revision ID: d41f7a2c9b10
Revises: b5c2e7a1d9f0
Create Date: 2026-12-06 16:00:00

A window of dates with no day a session can be held is refused: Sundays never, Saturdays only where the
establishment works then. Every establishment already there starts without Saturday classes, the usual case.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd41f7a2c9b10'
down_revision = 'b5c2e7a1d9f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('establishment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('saturday_classes', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('establishment', schema=None) as batch_op:
        batch_op.drop_column('saturday_classes')
