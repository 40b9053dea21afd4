"""Webhook subscriptions and their deliveries (issue #22, signed webhooks)

Revision ID: e22b3e000005
Revises: e22a91000004
Create Date: 2026-12-06 21:00:00

A URL subscribed to events by an establishment or a coordination territory (its signing secret encrypted), and
one delivery row per (subscription, event), written in the transaction of the change, sent by `flask tick`.

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'e22b3e000005'
down_revision = 'e22a91000004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('events', sa.String(length=400), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=True),
    sa.Column('departement_code', sa.String(length=3), nullable=True),
    sa.Column('force', sa.Enum('police', 'gendarmerie', name='force', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('paused_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_for_failures', sa.Boolean(), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(establishment_id IS NULL) <> (departement_code IS NULL)', name=op.f('ck_webhook_subscription_one_owner')),
    sa.CheckConstraint('consecutive_failures >= 0', name=op.f('ck_webhook_subscription_failures_not_negative')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'], name=op.f('fk_webhook_subscription_establishment_id_establishment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['departement_code'], ['departement.code'], name=op.f('fk_webhook_subscription_departement_code_departement')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_webhook_subscription_owner_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscription'))
    )
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_subscription_establishment_id'), ['establishment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_subscription_departement_code'), ['departement_code'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('occurred_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'delivered', 'failed', name='webhook_delivery_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_headers', sa.Text(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_webhook_delivery_attempts_not_negative')),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscription.id'], name=op.f('fk_webhook_delivery_subscription_id_webhook_subscription'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    sa.UniqueConstraint('uuid', name=op.f('uq_webhook_delivery_uuid'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_webhook_delivery_log', ['subscription_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_delivery_log')
        batch_op.drop_index('ix_webhook_delivery_due')
    op.drop_table('webhook_delivery')
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_subscription_departement_code'))
        batch_op.drop_index(batch_op.f('ix_webhook_subscription_establishment_id'))
    op.drop_table('webhook_subscription')
