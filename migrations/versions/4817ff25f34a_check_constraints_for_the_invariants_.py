"""Check constraints for the invariants the forms and rules enforce (issue #16, point 6)

Revision ID: 4817ff25f34a
Revises: fee78a9f042a
Create Date: 2026-12-06 12:09:09.770921

Autogenerate does not see CHECK constraints: these are written by hand, one list per table, the same
expressions as the models' (tests/domain/test_constraints.py compares them). Rows that already break a rule
stop the upgrade before anything changes, listed by constraint, rather than being corrected silently.
On SQLite each table is rebuilt (batch mode), with foreign keys off: see _foreign_keys_off_on_sqlite.
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = '4817ff25f34a'
down_revision = 'fee78a9f042a'
branch_labels = None
depends_on = None


CONSTRAINTS = {
    'intervention_request': [
        ('ck_intervention_request_group_count_positive', 'group_count >= 1'),
        ('ck_intervention_request_people_per_group_positive', 'people_per_group >= 1'),
        ('ck_intervention_request_duration_positive', 'duration_minutes > 0'),
    ],
    'request_window': [
        ('ck_request_window_dates_in_order', 'start_date <= end_date'),
        ('ck_request_window_times_in_order', 'start_time < end_time'),
    ],
    'intervention': [
        ('ck_intervention_times_in_order',
         '(starts_at IS NULL AND ends_at IS NULL) '
         'OR (starts_at IS NOT NULL AND ends_at IS NOT NULL AND starts_at < ends_at)'),
        ('ck_intervention_one_or_two_trainers', 'trainers_needed IN (1, 2)'),
        ('ck_intervention_people_reached_not_negative', 'people_reached IS NULL OR people_reached >= 0'),
        ('ck_intervention_ical_sequence_not_negative', 'ical_sequence >= 0'),
    ],
    'assignment': [
        ('ck_assignment_distance_not_negative', 'distance_km IS NULL OR distance_km >= 0'),
    ],
    'trainer': [
        ('ck_trainer_weekly_limit_positive', 'max_sessions_per_week >= 1'),
        ('ck_trainer_week_within_month', 'max_sessions_per_week <= max_sessions_per_month'),
        ('ck_trainer_distance_positive', 'max_distance_km >= 1'),
        ('ck_trainer_refresher_after_initial_training',
         'last_refresher_on IS NULL OR last_refresher_on >= initial_training_on'),
    ],
    'availability_pattern': [
        ('ck_availability_pattern_weekday_range', 'weekday BETWEEN 0 AND 6'),
        ('ck_availability_pattern_times_in_order', 'start_time < end_time'),
        ('ck_availability_pattern_validity_in_order',
         'valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until'),
    ],
    'availability_exception': [
        ('ck_availability_exception_times_in_order', 'starts_at < ends_at'),
    ],
    'outgoing_message': [
        ('ck_outgoing_message_attempts_not_negative', 'attempts >= 0'),
    ],
    'statistics_revision': [
        ('ck_statistics_revision_single_row', 'id = 1'),
        ('ck_statistics_revision_revision_not_negative', 'revision >= 0'),
    ],
}


def upgrade():
    _refuse_rows_that_break_a_rule()
    _foreign_keys_off_on_sqlite()
    for table, constraints in CONSTRAINTS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, condition in constraints:
                batch_op.create_check_constraint(op.f(name), condition)
    _check_references_on_sqlite()


def downgrade():
    _foreign_keys_off_on_sqlite()
    for table, constraints in reversed(CONSTRAINTS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in reversed(constraints):
                batch_op.drop_constraint(op.f(name), type_='check')
    _check_references_on_sqlite()


def _refuse_rows_that_break_a_rule():
    """Every rule is checked before any table changes: one failed upgrade lists every row to correct, and
    nothing is changed silently. (A CHECK passes when its condition is NULL, and so does NOT of it here.)"""
    if op.get_context().as_sql:
        return
    bind = op.get_bind()
    broken = []
    for table, constraints in CONSTRAINTS.items():
        for name, condition in constraints:
            rows = bind.execute(sa.text(f'SELECT id FROM {table} WHERE NOT ({condition}) ORDER BY id')).scalars().all()
            if rows:
                broken.append(f'{name}: {len(rows)} row(s) of {table} break "{condition}", ids {rows[:20]}')
    if broken:
        raise RuntimeError('Rows break the new constraints; correct them, then upgrade again:\n  '
                           + '\n  '.join(broken))


def _foreign_keys_off_on_sqlite():
    """SQLite rebuilds each table (copy, DROP, rename). The app's connections enforce foreign keys, and with
    them on, DROP TABLE deletes the rows first and cascades: rebuilding `intervention` would empty
    `assignment`, `session_report`, `feedback`… So they are switched off, as SQLite's own procedure for
    altering a table says. The pragma is ignored inside a transaction: refuse rather than lose data.
    It stays off on this connection until it closes (the migration's transaction is still open)."""
    if op.get_context().dialect.name != 'sqlite':
        return
    bind = op.get_bind()
    bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    if bind.exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError('SQLite: foreign keys could not be switched off (a transaction is open); '
                           'rebuilding the tables would delete the rows that reference them')
    # Python's sqlite3 opens its transaction at the first INSERT, after batch mode's CREATE TABLE of the copy:
    # opened here, a failure rolls back every rebuild, copies included.
    if not bind.connection.dbapi_connection.in_transaction:
        bind.exec_driver_sql('BEGIN')


def _check_references_on_sqlite():
    """The tables were rebuilt without foreign keys: make sure every reference still resolves."""
    if op.get_context().dialect.name != 'sqlite':
        return
    dangling = op.get_bind().exec_driver_sql('PRAGMA foreign_key_check').fetchall()
    if dangling:
        raise RuntimeError(f'SQLite: references broken by the table rebuild: {dangling[:10]}')
