"""Races settled by the database: real threads, each with its own connection, on SQLite and PostgreSQL.

Each racer waits at a barrier, then runs its change and commits; exactly one must win and the other
must get a refusal code (never an exception of the driver, never a double booking).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.domain import offers
from app.domain.offers import OfferSettings
from app.domain.plan_builder import commit_plan, load_planning_problem, solve
from app.domain.refusals import Refused
from app.extensions import db
from app.models import Assignment, AssignmentStatus, Audience, Force, Intervention, InterventionStatus, Topic, Trainer
from tests.factories import make_establishment, make_request, make_trainer

SETTINGS = OfferSettings()
MONDAY_9 = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
ROUNDS = 5  # the race is run several times so that both orders get a chance


def race(app, *actions) -> list[str]:
    """Runs each action in its own thread and application context (own session, own connection)."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = [""] * len(actions)

    def run(index: int, action) -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcomes[index] = action(db.session) or "ok"
                db.session.commit()
            except Refused as refused:
                db.session.rollback()
                outcomes[index] = refused.code
            except Exception as error:  # a driver error is a failure of the test, reported as such
                db.session.rollback()
                outcomes[index] = f"error: {error!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def qualified():
    trainer = make_trainer("69", Force.POLICE)
    trainer.topics = [db.session.get(Topic, "cannabis")]
    trainer.audiences = [db.session.get(Audience, "4e")]
    return trainer


def a_session(start=None) -> Intervention:
    establishment = make_establishment("69", force=Force.POLICE)
    request = make_request(establishment, status="in_planning", group_count=1, **({"start": start} if start else {}))
    return request.interventions[0]


def offer(intervention, trainer, now, start=MONDAY_9) -> int:
    change = offers.make_offer(db.session, intervention, trainer, start, start + timedelta(hours=1), None, now,
                               SETTINGS)
    return change.notices[0].assignment.id


def offer_as_once_stored(intervention, trainer, now, start) -> int:
    """A live offer written as an older version could, next to another one at the same time: Relais no longer makes
    such a pair (make_offer refuses the second), but offers already stored must still be settled at acceptance."""
    intervention.starts_at, intervention.ends_at = start, start + timedelta(hours=1)
    intervention.status = InterventionStatus.OFFERED
    assignment = Assignment(intervention_id=intervention.id, trainer_id=trainer.id, status=AssignmentStatus.OFFERED,
                            offered_at=now, expires_at=now + timedelta(days=3))
    db.session.add(assignment)
    db.session.flush()
    return assignment.id


def accepting(assignment_id: int, now):
    def action(session):
        offers.accept_offer(session, session.get(Assignment, assignment_id), now)

    return action


def test_two_trainers_accepting_the_last_place(app, clock):
    now = clock.now()
    for _ in range(ROUNDS):
        intervention = a_session()
        first, second = qualified(), qualified()
        ids = [offer(intervention, first, now), offer(intervention, second, now)]
        db.session.commit()
        outcomes = race(app, accepting(ids[0], now), accepting(ids[1], now))
        assert sorted(outcomes) == ["ok", "session_changed"] or sorted(outcomes) == ["ok", "session_full"], outcomes
        db.session.expire_all()
        accepted = db.session.scalar(select(func.count(Assignment.id)).where(
            Assignment.intervention_id == intervention.id, Assignment.status == AssignmentStatus.ACCEPTED))
        refreshed = db.session.get(Intervention, intervention.id)
        assert accepted == 1 and refreshed.accepted_count == 1
        assert refreshed.status is InterventionStatus.CONFIRMED


def test_one_trainer_accepting_two_overlapping_offers(app, clock):
    now = clock.now()
    for _ in range(ROUNDS):
        trainer = qualified()
        morning, overlapping = a_session(), a_session()
        ids = [offer(morning, trainer, now),
               offer_as_once_stored(overlapping, trainer, now, start=MONDAY_9 + timedelta(minutes=30))]
        db.session.commit()
        outcomes = race(app, accepting(ids[0], now), accepting(ids[1], now))
        assert sorted(outcomes) == ["ok", "trainer_busy"], outcomes
        db.session.expire_all()
        accepted = db.session.scalar(select(func.count(Assignment.id)).where(
            Assignment.trainer_id == trainer.id, Assignment.status == AssignmentStatus.ACCEPTED))
        assert accepted == 1


def test_a_plan_committed_while_the_trainer_accepts_an_overlapping_offer(app, clock):
    now = clock.now()
    for _ in range(ROUNDS):
        db.session.execute(Assignment.__table__.delete())
        db.session.execute(Intervention.__table__.update().values(status=InterventionStatus.CANCELLED))
        db.session.execute(Trainer.__table__.update().values(active=False))  # earlier rounds' trainers
        trainer = qualified()
        # The plan only knows this trainer for the session to plan, on one morning.
        to_plan = a_session()
        db.session.commit()
        problem = load_planning_problem(db.session, date_from=MONDAY_9.date(), date_to=MONDAY_9.date(),
                                        departement_codes=["69"], force=Force.POLICE, now=now)
        plan = solve(problem)
        planned = [a for a in plan.assignments if a.trainer_id == trainer.id]
        assert planned, "the planner proposes the free trainer"
        # Meanwhile an overlapping offer reached the trainer (another coordinator, by hand).
        other = a_session()
        offered_id = offer(other, trainer, now, start=planned[0].starts_at)
        db.session.commit()
        results = {}

        def committing(session, plan=plan, results=results, to_plan=to_plan):
            fresh = load_planning_problem(session, date_from=MONDAY_9.date(), date_to=MONDAY_9.date(),
                                          departement_codes=["69"], force=Force.POLICE, now=now)
            result = commit_plan(session, fresh, plan, None, now, SETTINGS)
            results["skipped"] = result.skipped.get(to_plan.id)
            results["offers"] = result.offers
            return "ok"

        outcomes = race(app, committing, accepting(offered_id, now))
        assert outcomes == ["ok", "ok"], outcomes
        db.session.expire_all()
        live = db.session.scalars(select(Assignment).where(
            Assignment.trainer_id == trainer.id, Assignment.intervention_id == to_plan.id)).all()
        accepted = db.session.get(Assignment, offered_id)
        assert accepted.status is AssignmentStatus.ACCEPTED
        if results["skipped"]:
            # The acceptance came first: the plan's overlapping offer was not made.
            assert results["skipped"] == "trainer_busy" and not live
        else:
            # The plan came first: its offer stands, and can no longer be accepted.
            assert [a.status for a in live] == [AssignmentStatus.OFFERED]
            try:
                offers.accept_offer(db.session, live[0], now)
                raise AssertionError("a double booking was accepted")
            except Refused as refused:
                db.session.rollback()
                assert refused.code == "trainer_busy"
