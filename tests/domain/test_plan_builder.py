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


def test_the_planner_weighs_a_start_an_hour_and_each_days_last():
    from app.domain.plan_builder import planning_starts

    day = datetime(2027, 1, 11, 13, 0, tzinfo=UTC)  # 14 h in Lyon
    halves = [(day + timedelta(minutes=30 * n), day + timedelta(minutes=30 * n + 60)) for n in range(6)]
    tuesday = [(start + timedelta(days=1), end + timedelta(days=1)) for start, end in halves[:4]]
    kept = [start.strftime("%d %H:%M") for start, _ in planning_starts(halves + tuesday, "Europe/Paris")]
    assert kept == ["11 13:00", "11 14:00", "11 15:00", "11 15:30", "12 13:00", "12 14:00", "12 14:30"]


def test_a_plan_with_two_sessions_in_one_afternoon_at_one_school_sends_both_offers(app, clock):
    """The exact planner gives one trainer both classes of a school's afternoon (13 h 30–15 h and 15 h–16 h 30
    in Lyon are the only starts that fit the window); the offers' rule accepts both (no travel inside a school)."""
    from datetime import time

    from sqlalchemy import select

    from app.domain.plan_builder import commit_plan, solve
    from app.models import Assignment, AssignmentStatus
    from tests.factories import OFFER_SETTINGS, make_qualified_trainer

    establishment = make_establishment("69", force=Force.POLICE)
    request = make_request(establishment, status="in_planning", group_count=2, days=1)
    request.duration_minutes = 90
    request.windows[0].start_time, request.windows[0].end_time = time(13, 30), time(16, 30)
    trainer = make_qualified_trainer(unit_km=40)
    db.session.commit()
    problem = load_planning_problem(db.session, date_from=WEEK[0], date_to=WEEK[0], departement_codes=["69"],
                                    force=None, now=clock.now())
    plan = solve(problem)
    assert plan.status == "optimal" and plan.served_sessions == 2
    result = commit_plan(db.session, problem, plan, None, clock.now(), OFFER_SETTINGS)
    db.session.commit()
    assert result.skipped == {} and result.offers == 2
    offers = db.session.scalars(select(Assignment).where(Assignment.trainer_id == trainer.id)).all()
    assert [a.status for a in offers] == [AssignmentStatus.OFFERED] * 2
    starts = sorted(a.intervention.starts_at for a in offers)
    assert starts == [datetime(2027, 1, 11, 12, 30, tzinfo=UTC), datetime(2027, 1, 11, 14, 0, tzinfo=UTC)]


def test_sessions_whose_windows_have_passed_have_no_option_and_break_nothing(app, clock):
    """A scope whose only sessions have no start left after `now` (their windows closed): each is loaded without
    an option, and the loader does not fail for want of trainers' availability (it stopped `flask tick`)."""
    make_request(make_establishment("69", force=Force.POLICE), status="in_planning", group_count=2)
    _qualified()
    db.session.commit()
    after_the_window = datetime(2027, 1, 16, 12, 0, tzinfo=UTC)
    problem = load_planning_problem(db.session, date_from=WEEK[0], date_to=WEEK[-1], departement_codes=["69"],
                                    force=None, now=after_the_window)
    assert len(problem.sessions) == 2
    assert all(session.options == [] for session in problem.sessions)
