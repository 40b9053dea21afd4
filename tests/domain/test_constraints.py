"""The invariants the forms and rules enforce are also CHECK constraints (issue #16, point 6).

Each constraint is broken with a core UPDATE or INSERT, bypassing every Python check, and the database must
refuse it by name, on SQLite and on PostgreSQL (TEST_DATABASE_URL). The values the app legitimately writes at
the edges must still pass, and `flask db upgrade` must build the same constraints as the models.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import Table, create_engine, insert, inspect, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.extensions import db
from app.models import (
    Assignment,
    AvailabilityException,
    AvailabilityPattern,
    ExceptionKind,
    Intervention,
    InterventionRequest,
    OutgoingMessage,
    RequestWindow,
    StatisticsRevision,
    Trainer,
)
from tests.factories import make_assigned_session, make_request, make_trainer

MONDAY_9 = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)

# The constraints added for issue #16 (point 6); the older ones (enums, staffing, reports) are checked with
# them against the migrations below.
INVARIANTS = {
    "ck_intervention_request_group_count_positive", "ck_intervention_request_people_per_group_positive",
    "ck_intervention_request_duration_positive", "ck_request_window_dates_in_order",
    "ck_request_window_times_in_order", "ck_intervention_times_in_order", "ck_intervention_one_or_two_trainers",
    "ck_intervention_people_reached_not_negative", "ck_intervention_ical_sequence_not_negative",
    "ck_assignment_distance_not_negative", "ck_trainer_weekly_limit_positive", "ck_trainer_week_within_month",
    "ck_trainer_distance_positive", "ck_trainer_refresher_after_initial_training",
    "ck_availability_pattern_weekday_range", "ck_availability_pattern_times_in_order",
    "ck_availability_pattern_validity_in_order", "ck_availability_exception_times_in_order",
    "ck_outgoing_message_attempts_not_negative", "ck_statistics_revision_single_row",
    "ck_statistics_revision_revision_not_negative",
}


# -- rows to break: each builder returns the table and the id of a valid row --------------------------------


def a_request() -> tuple[Table, int]:
    return InterventionRequest.__table__, make_request(status="submitted").id


def a_window() -> tuple[Table, int]:
    return RequestWindow.__table__, make_request().windows[0].id


def an_unscheduled_session() -> tuple[Table, int]:
    """As `accept` creates it: no time yet, one trainer needed."""
    return Intervention.__table__, make_request(status="in_planning", group_count=1).interventions[0].id


def a_session() -> tuple[Table, int]:
    """Confirmed at 9:00–10:00 with its one trainer accepted."""
    return Intervention.__table__, make_assigned_session(make_trainer(), MONDAY_9).id


def an_assignment() -> tuple[Table, int]:
    return Assignment.__table__, make_assigned_session(make_trainer(), MONDAY_9, distance_km=12.5).assignments[0].id


def a_trainer() -> tuple[Table, int]:
    """Limits 4 a week, 12 a month, 60 km (the defaults); trained 100 days ago, no refresher yet."""
    return Trainer.__table__, make_trainer().id


def a_pattern() -> tuple[Table, int]:
    trainer = make_trainer()
    trainer.patterns = [AvailabilityPattern(weekday=1, start_time=time(8, 30), end_time=time(12, 0),
                                            valid_from=date(2027, 1, 1), valid_until=date(2027, 6, 30))]
    db.session.flush()
    return AvailabilityPattern.__table__, trainer.patterns[0].id


def an_exception() -> tuple[Table, int]:
    trainer = make_trainer()
    trainer.exceptions = [AvailabilityException(kind=ExceptionKind.UNAVAILABLE, starts_at=MONDAY_9,
                                                ends_at=MONDAY_9 + timedelta(days=2), reason="Congés")]
    db.session.flush()
    return AvailabilityException.__table__, trainer.exceptions[0].id


def a_message() -> tuple[Table, int]:
    message = OutgoingMessage(recipient="personne@exemple.fr", subject="Objet", body_text="Texte")
    db.session.add(message)
    db.session.flush()
    return OutgoingMessage.__table__, message.id


def the_revision() -> tuple[Table, int]:
    """The single row the schema creates with the table (kept between tests)."""
    return StatisticsRevision.__table__, 1


@dataclass(frozen=True)
class Case:
    constraint: str
    row: Callable[[], tuple[Table, int]]
    values: dict

    def __str__(self) -> str:
        return f"{self.constraint}:{','.join(f'{k}={v}' for k, v in self.values.items())}"


BROKEN = [
    Case("ck_intervention_request_group_count_positive", a_request, {"group_count": 0}),
    Case("ck_intervention_request_people_per_group_positive", a_request, {"people_per_group": 0}),
    Case("ck_intervention_request_duration_positive", a_request, {"duration_minutes": 0}),
    Case("ck_intervention_request_duration_positive", a_request, {"duration_minutes": -60}),
    Case("ck_request_window_dates_in_order", a_window, {"end_date": date(2027, 1, 10)}),  # starts on the 11th
    Case("ck_request_window_times_in_order", a_window, {"end_time": time(8, 0)}),  # equal to the start
    Case("ck_request_window_times_in_order", a_window, {"start_time": time(14, 0)}),  # after the 12:00 end
    Case("ck_intervention_times_in_order", a_session, {"ends_at": MONDAY_9}),
    Case("ck_intervention_times_in_order", a_session, {"ends_at": MONDAY_9 - timedelta(hours=1)}),
    Case("ck_intervention_times_in_order", a_session, {"ends_at": None}),
    Case("ck_intervention_times_in_order", an_unscheduled_session, {"starts_at": MONDAY_9}),
    Case("ck_intervention_times_in_order", an_unscheduled_session, {"ends_at": MONDAY_9}),
    Case("ck_intervention_one_or_two_trainers", an_unscheduled_session, {"trainers_needed": 0}),
    Case("ck_intervention_one_or_two_trainers", an_unscheduled_session, {"trainers_needed": 3}),
    Case("ck_intervention_people_reached_not_negative", a_session, {"people_reached": -1}),
    Case("ck_intervention_ical_sequence_not_negative", a_session, {"ical_sequence": -1}),
    Case("ck_assignment_distance_not_negative", an_assignment, {"distance_km": -0.5}),
    Case("ck_trainer_weekly_limit_positive", a_trainer, {"max_sessions_per_week": 0}),
    Case("ck_trainer_week_within_month", a_trainer, {"max_sessions_per_week": 13}),
    Case("ck_trainer_week_within_month", a_trainer, {"max_sessions_per_month": 3}),
    Case("ck_trainer_distance_positive", a_trainer, {"max_distance_km": 0}),
    Case("ck_trainer_refresher_after_initial_training", a_trainer, {"last_refresher_on": date(2020, 1, 1)}),
    Case("ck_availability_pattern_weekday_range", a_pattern, {"weekday": 7}),
    Case("ck_availability_pattern_weekday_range", a_pattern, {"weekday": -1}),
    Case("ck_availability_pattern_times_in_order", a_pattern, {"end_time": time(8, 30)}),
    Case("ck_availability_pattern_validity_in_order", a_pattern, {"valid_until": date(2026, 12, 31)}),
    Case("ck_availability_exception_times_in_order", an_exception, {"ends_at": MONDAY_9}),
    Case("ck_availability_exception_times_in_order", an_exception, {"starts_at": MONDAY_9 + timedelta(days=3)}),
    Case("ck_outgoing_message_attempts_not_negative", a_message, {"attempts": -1}),
    Case("ck_statistics_revision_revision_not_negative", the_revision, {"revision": -1}),
    Case("ck_statistics_revision_single_row", the_revision, {"id": 2}),
]

# The edges the app legitimately writes: a one-day window, a slot on Sunday, a trainer at the same limit for
# the week and the month, a refresher on the day of the initial training, a session nobody came to…
ALLOWED = [
    Case("ck_intervention_request_group_count_positive", a_request, {"group_count": 1}),
    Case("ck_intervention_request_people_per_group_positive", a_request, {"people_per_group": 1}),
    Case("ck_request_window_dates_in_order", a_window, {"end_date": date(2027, 1, 11)}),
    Case("ck_request_window_times_in_order", a_window, {"start_time": time(11, 59)}),
    Case("ck_intervention_times_in_order", a_session, {"ends_at": MONDAY_9 + timedelta(minutes=1)}),
    Case("ck_intervention_times_in_order", an_unscheduled_session,
         {"starts_at": MONDAY_9, "ends_at": MONDAY_9 + timedelta(minutes=30)}),
    Case("ck_intervention_one_or_two_trainers", an_unscheduled_session, {"trainers_needed": 2}),
    Case("ck_intervention_people_reached_not_negative", a_session, {"people_reached": 0}),
    Case("ck_intervention_people_reached_not_negative", a_session, {"people_reached": None}),
    Case("ck_assignment_distance_not_negative", an_assignment, {"distance_km": 0}),
    Case("ck_assignment_distance_not_negative", an_assignment, {"distance_km": None}),
    Case("ck_trainer_week_within_month", a_trainer, {"max_sessions_per_week": 1, "max_sessions_per_month": 1}),
    Case("ck_trainer_distance_positive", a_trainer, {"max_distance_km": 1}),
    Case("ck_trainer_refresher_after_initial_training", a_trainer,
         {"last_refresher_on": Trainer.initial_training_on}),
    Case("ck_availability_pattern_weekday_range", a_pattern, {"weekday": 0}),
    Case("ck_availability_pattern_weekday_range", a_pattern, {"weekday": 6}),
    Case("ck_availability_pattern_validity_in_order", a_pattern, {"valid_until": date(2027, 1, 1)}),
    Case("ck_availability_pattern_validity_in_order", a_pattern, {"valid_from": None}),
    Case("ck_availability_exception_times_in_order", an_exception, {"ends_at": MONDAY_9 + timedelta(seconds=1)}),
    Case("ck_statistics_revision_revision_not_negative", the_revision, {"revision": 0}),
]


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_the_database_refuses_a_row_that_breaks_an_invariant(app, clock, case):
    table, row_id = case.row()
    db.session.commit()
    with pytest.raises(IntegrityError) as refused:
        db.session.execute(update(table).where(table.c.id == row_id).values(**case.values))
    assert case.constraint in str(refused.value)
    db.session.rollback()


@pytest.mark.parametrize("case", ALLOWED, ids=str)
def test_the_edges_the_app_writes_are_accepted(app, clock, case):
    table, row_id = case.row()
    result = db.session.execute(update(table).where(table.c.id == row_id).values(**case.values))
    assert result.rowcount == 1
    db.session.commit()


def test_every_constraint_of_the_issue_is_broken_here():
    assert {case.constraint for case in BROKEN} == INVARIANTS
    assert {case.constraint for case in ALLOWED} <= INVARIANTS


def test_inserting_a_broken_row_is_refused_too(app, clock):
    trainer_id = make_trainer().id
    db.session.commit()
    rows = [
        (AvailabilityPattern.__table__, "ck_availability_pattern_times_in_order",
         dict(trainer_id=trainer_id, weekday=2, start_time=time(14, 0), end_time=time(13, 30))),
        (AvailabilityException.__table__, "ck_availability_exception_times_in_order",
         dict(trainer_id=trainer_id, kind=ExceptionKind.EXTRA, starts_at=MONDAY_9, ends_at=MONDAY_9)),
        (StatisticsRevision.__table__, "ck_statistics_revision_single_row", dict(id=2, revision=0)),
    ]
    for table, constraint, values in rows:
        with pytest.raises(IntegrityError) as refused:
            db.session.execute(insert(table).values(**values))
        assert constraint in str(refused.value)
        db.session.rollback()


# -- the migration builds what the models declare ------------------------------------------------------------


@contextmanager
def migrated_database(database_url: str, tmp_path):
    """A new, empty database of the suite's kind, brought to the head revision by `flask db upgrade`."""
    url = make_url(database_url)
    admin = None
    if url.get_backend_name() == "sqlite":
        target = f"sqlite:///{tmp_path / 'constraints.sqlite3'}"
    else:
        name = f"relais_constraints_{uuid.uuid4().hex[:10]}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        target = url.set(database=name).render_as_string(hide_password=False)
    try:
        migrated = create_app("testing", {"SQLALCHEMY_DATABASE_URI": target})
        with migrated.app_context():
            upgrade()
            try:
                with db.engine.connect() as connection:
                    yield connection
            finally:
                db.engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def check_constraints(connection) -> dict[str, str]:
    inspector = inspect(connection)
    return {check["name"]: " ".join(check["sqltext"].split())
            for table in inspector.get_table_names() if table != "alembic_version"
            for check in inspector.get_check_constraints(table)}


def test_the_migrations_build_the_same_check_constraints_as_the_models(app, database_url, tmp_path):
    """Alembic's autogenerate (and so tests/test_migrations.py) compares neither CHECK constraints nor their
    conditions: names and conditions are compared here, create_all against `flask db upgrade`."""
    with db.engine.connect() as connection:
        from_models = check_constraints(connection)  # the suite's database is built by create_all
    assert INVARIANTS <= set(from_models)
    with migrated_database(database_url, tmp_path) as connection:
        from_migrations = check_constraints(connection)
    assert from_migrations == from_models
