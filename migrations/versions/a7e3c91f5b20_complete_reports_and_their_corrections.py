"""reports say whether the session was held, with the people or a listed reason; corrections kept (issue #18)

Revision ID: a7e3c91f5b20
Revises: d41f7a2c9b10
Create Date: 2026-12-06 16:10:00

A report is complete or not saved: held with the people reached, or not held with a reason from a list
(`not_held_code`; the trainer's own words stay in `not_held_reason`). The reports already there:
- not held with a reason typed in: that reason is kept as the words of the listed reason « other »;
- incomplete (an empty form sent with Enter saved "not held" with no reason): they said nothing, so they are
  deleted; a session left with no report goes back to "confirmed" without people reached (its trainer is asked
  for the report again), and a request "done" with such a session back to "confirmed". The statistics then no
  longer count them.
Each change made to a report after it was filed is kept in `report_correction`.
On SQLite `session_report` is rebuilt (batch mode) with foreign keys off, else the rebuild would delete the
topics of every report through their ON DELETE CASCADE.
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'a7e3c91f5b20'
down_revision = 'd41f7a2c9b10'
branch_labels = None
depends_on = None

COMPLETE = '(held AND people_present IS NOT NULL) OR (NOT held AND not_held_code IS NOT NULL)'
INCOMPLETE = '(held AND people_present IS NULL) OR (NOT held AND not_held_code IS NULL)'


def upgrade():
    _foreign_keys_off_on_sqlite()  # before any write: the pragma is ignored inside a transaction
    op.create_table('report_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_report_correction_actor_id_user_account')),
    sa.ForeignKeyConstraint(['report_id'], ['session_report.id'], name=op.f('fk_report_correction_report_id_session_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_correction'))
    )
    with op.batch_alter_table('report_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_correction_report_id'), ['report_id'], unique=False)

    with op.batch_alter_table('session_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_held_code', sa.String(length=30), nullable=True))

    op.execute("UPDATE session_report SET not_held_code = 'other' "
               "WHERE NOT held AND not_held_reason IS NOT NULL AND TRIM(not_held_reason) <> ''")
    _forget_incomplete_reports()
    with op.batch_alter_table('session_report', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_session_report_complete'), COMPLETE)
    _check_references_on_sqlite()


def downgrade():
    _foreign_keys_off_on_sqlite()
    with op.batch_alter_table('session_report', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_session_report_complete'), type_='check')
        batch_op.drop_column('not_held_code')
    _check_references_on_sqlite()
    with op.batch_alter_table('report_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_correction_report_id'))
    op.drop_table('report_correction')


def _forget_incomplete_reports():
    """Deletes the reports that said nothing and puts their sessions back to waiting for a report."""
    if op.get_context().as_sql:
        return
    bind = op.get_bind()
    sessions = bind.execute(sa.text(f'SELECT DISTINCT intervention_id FROM session_report WHERE {INCOMPLETE}')
                            ).scalars().all()
    if not sessions:
        return
    # Foreign keys are off on SQLite: their topics go first, by hand.
    bind.execute(sa.text(f'DELETE FROM report_topic WHERE report_id IN (SELECT id FROM session_report WHERE '
                         f'{INCOMPLETE})'))
    bind.execute(sa.text(f'DELETE FROM session_report WHERE {INCOMPLETE}'))
    for session_id in sessions:
        bind.execute(sa.text(
            "UPDATE intervention SET status = 'confirmed', people_reached = NULL "
            "WHERE id = :id AND status IN ('done', 'not_held') "
            "AND NOT EXISTS (SELECT 1 FROM session_report WHERE session_report.intervention_id = intervention.id)"),
            {'id': session_id})
    bind.execute(sa.text(
        "UPDATE intervention_request SET status = 'confirmed' WHERE status = 'done' AND EXISTS "
        "(SELECT 1 FROM intervention WHERE intervention.request_id = intervention_request.id "
        "AND intervention.status = 'confirmed')"))


def _foreign_keys_off_on_sqlite():
    """As in 4817ff25f34a: SQLite rebuilds the table (copy, DROP, rename), and with foreign keys on, the DROP
    would cascade to `report_topic` and `report_correction`. The pragma is ignored inside a transaction:
    refuse rather than lose data."""
    if op.get_context().dialect.name != 'sqlite':
        return
    bind = op.get_bind()
    bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    if bind.exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError('SQLite: foreign keys could not be switched off (a transaction is open); '
                           'rebuilding session_report would delete the rows that reference it')
    if not bind.connection.dbapi_connection.in_transaction:
        bind.exec_driver_sql('BEGIN')


def _check_references_on_sqlite():
    if op.get_context().dialect.name != 'sqlite':
        return
    dangling = op.get_bind().exec_driver_sql('PRAGMA foreign_key_check').fetchall()
    if dangling:
        raise RuntimeError(f'SQLite: references broken by the table rebuild: {dangling[:10]}')
