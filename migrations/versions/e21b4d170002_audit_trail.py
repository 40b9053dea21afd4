"""The audit trail (issue #21): every change and every read of personal data in bulk, hash-chained

Revision ID: e21b4d170002
Revises: e21a550a0001
Create Date: 2026-12-06 21:00:00.000000

`audit_entry`: who (id and name: no foreign key, the trail outlives accounts), when, from which address, with
which API token, what (table and id, or what was read), the changes as canonical JSON, the previous entry's hash
and its own. A trigger refuses any UPDATE of an entry. `audit_checkpoint`: where the kept chain
starts after a purge of entries past their retention period.
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'e21b4d170002'
down_revision = 'e21a550a0001'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# As app/models/audit.py creates them with create_all (written out here: a migration keeps its own copy).
REFUSE_UPDATE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry rows cannot be changed';
END;
$$ LANGUAGE plpgsql
"""
REFUSE_UPDATE_TRIGGER = ("CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
                         "FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse_update()")


def upgrade():
    op.create_table('audit_entry',
    sa.Column('id', ID, nullable=False),
    sa.Column('at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('transaction_key', sa.String(length=32), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('changes', sa.Text(), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    op.create_index('ix_audit_entry_object', 'audit_entry', ['object_type', 'object_id', 'id'], unique=False)
    op.create_index('ix_audit_entry_author', 'audit_entry', ['author_id', 'id'], unique=False)
    op.create_index('ix_audit_entry_at', 'audit_entry', ['at'], unique=False)
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('purged_through_id', ID, nullable=False),
    sa.Column('anchor_hash', sa.String(length=64), nullable=False),
    sa.Column('purged_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(REFUSE_UPDATE_FUNCTION)
        op.execute(REFUSE_UPDATE_TRIGGER)
    elif op.get_bind().dialect.name == 'sqlite':
        op.execute("CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
                   "BEGIN SELECT RAISE(ABORT, 'audit_entry rows cannot be changed'); END")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_entry_no_update ON audit_entry')
        op.execute('DROP FUNCTION IF EXISTS audit_entry_refuse_update()')
    elif op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS audit_entry_no_update')
    op.drop_table('audit_checkpoint')
    op.drop_index('ix_audit_entry_at', table_name='audit_entry')
    op.drop_index('ix_audit_entry_author', table_name='audit_entry')
    op.drop_index('ix_audit_entry_object', table_name='audit_entry')
    op.drop_table('audit_entry')
