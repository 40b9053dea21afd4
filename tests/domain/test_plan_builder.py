"""Loading a planning problem from the database: each session's options follow the timed rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.domain.certification import VALIDITY
from app.domain.plan_builder import load_planning_problem
from app.extensions import db
from app.models import Audience, Force, Topic
from tests.factories import make_assigned_session, make_establishment, make_request, make_trainer

WEEK = [date(2027, 1, 11) + timedelta(days=offset) for offset in range(5)]  # the request's window, Mon–Fri


def _qualified(**extra):
    trainer = make_trainer("69", Force.POLICE, **extra)
    trainer.topics = [db.session.get(Topic, "cannabis")]
    trainer.audiences = [db.session.get(Audience, "4e")]
    return trainer


def test_each_trainers_options_follow_the_day_rules_and_the_availability(app, clock):
    """Certification and weekly limits are per day, availability per start: a trainer whose certification
    lapses on Wednesday has options until then, one whose week is full has none, one on leave on Tuesday
    none that day; the others every day."""
    make_request(make_establishment("69", force=Force.POLICE), status="in_planning", group_count=1)
    free = _qualified()
    lapsing = _qualified(certified_on=WEEK[2] - VALIDITY)
    full_week = _qualified(max_sessions_per_week=1)
    make_assigned_session(full_week, datetime(2027, 1, 11, 15, 0, tzinfo=UTC))  # Monday afternoon
    on_leave = _qualified()
    from app.models import AvailabilityException, ExceptionKind

    db.session.add(AvailabilityException(trainer_id=on_leave.id, kind=ExceptionKind.UNAVAILABLE, reason="Congé",
                                         starts_at=datetime(2027, 1, 11, 23, 0, tzinfo=UTC),
                                         ends_at=datetime(2027, 1, 12, 23, 0, tzinfo=UTC)))
    db.session.commit()
    problem = load_planning_problem(db.session, date_from=WEEK[0], date_to=WEEK[-1], departement_codes=["69"],
                                    force=None, now=clock.now())

    def days(trainer) -> set[date]:
        return {option.day for session in problem.sessions for option in session.options
                if option.trainer_id == trainer.id}

    assert days(free) == set(WEEK)
    assert days(lapsing) == set(WEEK[:3])
    assert days(full_week) == set()
    assert days(on_leave) == set(WEEK) - {WEEK[1]}
