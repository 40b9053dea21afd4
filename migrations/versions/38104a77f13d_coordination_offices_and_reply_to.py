"""coordination offices (an address per département and force) and the Reply-To of e-mails (issue #19, point 6)

Revision ID: 38104a77f13d
Revises: f3a8d2c61e47
Create Date: 2026-12-06 17:43:56.720380

Answers to invitations reach a person: the ORGANIZER of a session's invitations, and the Reply-To of its e-mails,
is the coordination of its département and force, which the national administration configures.
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = '38104a77f13d'
down_revision = 'f3a8d2c61e47'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coordination_office',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('departement_code', sa.String(length=3), nullable=False),
    sa.Column('force', sa.Enum('police', 'gendarmerie', name='force', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=120), server_default='', nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['departement_code'], ['departement.code'], name=op.f('fk_coordination_office_departement_code_departement')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_coordination_office_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordination_office')),
    sa.UniqueConstraint('departement_code', 'force', name=op.f('uq_coordination_office_departement_code_force'))
    )
    with op.batch_alter_table('outgoing_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to', sa.String(length=254), nullable=True))



def downgrade():
    with op.batch_alter_table('outgoing_message', schema=None) as batch_op:
        batch_op.drop_column('reply_to')

    op.drop_table('coordination_office')
