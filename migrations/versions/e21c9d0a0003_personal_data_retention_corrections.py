"""Personal data as the RGPD requires (issue #21, part 3): retention periods as data, warnings of unused accounts,
correction requests, the départ of trainers

Revision ID: e21c9d0a0003
Revises: e21b4d170002
Create Date: 2026-12-06 21:20:00.000000

The retention periods (one row per kind, the defaults of docs/rgpd.md), the warning sent to an account left
unused before it is deactivated, what people ask to correct from « Mes données », and on the trainer the day they
left and when their record was anonymised.
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'e21c9d0a0003'
down_revision = 'e21b4d170002'
branch_labels = None
depends_on = None

# The defaults of docs/rgpd.md (app.models.retention.RETENTION_DEFAULTS, copied: a migration does not change
# with the code).
DEFAULTS = [
    ("request_contacts", 3, "years"),
    ("feedback_comments", 3, "years"),
    ("unused_accounts", 24, "months"),
    ("unused_accounts_warning", 30, "days"),
    ("departed_trainers", 12, "months"),
    ("audit_trail", 12, "months"),
]


def upgrade():
    setting = op.create_table('retention_setting',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=10), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('value >= 1', name=op.f('ck_retention_setting_retention_positive')),
    sa.CheckConstraint("unit IN ('years', 'months', 'days')", name=op.f('ck_retention_setting_retention_unit')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_retention_setting_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('kind', name=op.f('pk_retention_setting'))
    )
    op.bulk_insert(setting, [{"kind": kind, "value": value, "unit": unit} for kind, value, unit in DEFAULTS])
    op.create_table('inactivity_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_activity', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('warned_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deactivated_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_inactivity_warning_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inactivity_warning')),
    sa.UniqueConstraint('user_id', 'last_activity', name=op.f('uq_inactivity_warning_user_id_last_activity'))
    )
    with op.batch_alter_table('inactivity_warning', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inactivity_warning_user_id'), ['user_id'], unique=False)
    op.create_table('correction_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_correction_request_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_request'))
    )
    with op.batch_alter_table('correction_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_request_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('trainer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('departed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', app.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('trainer', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('departed_on')
    with op.batch_alter_table('correction_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_request_user_id'))
    op.drop_table('correction_request')
    with op.batch_alter_table('inactivity_warning', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inactivity_warning_user_id'))
    op.drop_table('inactivity_warning')
    op.drop_table('retention_setting')
