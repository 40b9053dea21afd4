"""The autopilot (issue #20, continuous planning): each scope's mode, proposals, unserved reasons, home visits

Revision ID: c7a4e19b2d60
Revises: 5b7e0c3d91a2
Create Date: 2026-12-06 18:40:00.000000

Per coordination scope (département × force) a mode chosen by its coordinators (manual, proposed, automatic;
no row: proposed), the offers Relais prepared for a scope in "proposed" mode, why the autopilot could not serve
a session, and when each person last looked at their home page.
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'c7a4e19b2d60'
down_revision = '5b7e0c3d91a2'
branch_labels = None
depends_on = None

FORCE = sa.Enum('police', 'gendarmerie', name='force', native_enum=False, create_constraint=True, length=32)


def upgrade():
    op.create_table('autopilot_setting',
    sa.Column('departement_code', sa.String(length=3), nullable=False),
    sa.Column('force', FORCE, nullable=False),
    sa.Column('mode', sa.Enum('manual', 'proposed', 'automatic', name='autopilot_mode', native_enum=False, create_constraint=True, length=32), server_default='proposed', nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('planned_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['departement_code'], ['departement.code'], name=op.f('fk_autopilot_setting_departement_code_departement')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_autopilot_setting_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('departement_code', 'force', name=op.f('pk_autopilot_setting'))
    )
    op.create_table('autopilot_proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('departement_code', sa.String(length=3), nullable=False),
    sa.Column('force', FORCE, nullable=False),
    sa.Column('prepared_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['departement_code'], ['departement.code'], name=op.f('fk_autopilot_proposal_departement_code_departement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_autopilot_proposal')),
    sa.UniqueConstraint('departement_code', 'force', name=op.f('uq_autopilot_proposal_departement_code_force'))
    )
    op.create_table('autopilot_proposal_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('intervention_id', sa.Integer(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('km', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['intervention_id'], ['intervention.id'], name=op.f('fk_autopilot_proposal_item_intervention_id_intervention'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['autopilot_proposal.id'], name=op.f('fk_autopilot_proposal_item_proposal_id_autopilot_proposal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trainer_id'], ['trainer.id'], name=op.f('fk_autopilot_proposal_item_trainer_id_trainer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_autopilot_proposal_item'))
    )
    with op.batch_alter_table('autopilot_proposal_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_autopilot_proposal_item_intervention_id'), ['intervention_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_autopilot_proposal_item_proposal_id'), ['proposal_id'], unique=False)
    op.create_table('autopilot_note',
    sa.Column('intervention_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('noted_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['intervention_id'], ['intervention.id'], name=op.f('fk_autopilot_note_intervention_id_intervention'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('intervention_id', name=op.f('pk_autopilot_note'))
    )
    op.create_table('home_visit',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('since', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_home_visit_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_home_visit'))
    )


def downgrade():
    op.drop_table('home_visit')
    op.drop_table('autopilot_note')
    with op.batch_alter_table('autopilot_proposal_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_autopilot_proposal_item_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_autopilot_proposal_item_intervention_id'))
    op.drop_table('autopilot_proposal_item')
    op.drop_table('autopilot_proposal')
    op.drop_table('autopilot_setting')
