"""Races over real threads, each with its own connection, through the one unit of work (issue #17, points 15 to
17): no error for anyone, no stale status, never two live offers a trainer could not both honour. On PostgreSQL
they are real row locks; SQLite runs one writer at a time and must give the same answers."""

from __future__ import annotations

import threading

from sqlalchemy import select

from app.domain import offers
from app.domain.plan_builder import commit_plan, load_planning_problem, solve
from app.extensions import db
from app.models import (
    Assignment,
    AssignmentStatus,
    Force,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    RequestStatus,
    Trainer,
)
from app.unit_of_work import run
from tests.factories import (
    MONDAY_9,
    OFFER_SETTINGS,
    make_coordinator,
    make_establishment,
    make_offer,
    make_qualified_trainer,
    make_request,
    make_session_in_planning,
)

ROUNDS = 6  # each race several times, so that both orders happen


def race(app, *operations) -> list[str]:
    """Each operation in its own thread, app context and connection, started together, through unit_of_work.run:
    "ok", a refusal code, or "error: …" (which fails the tests)."""
    barrier = threading.Barrier(len(operations))
    outcomes = [""] * len(operations)

    def racer(index: int, operation) -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcome = run(lambda: operation(db.session))
                outcomes[index] = "ok" if outcome.ok else outcome.refusal.code
            except Exception as error:  # noqa: BLE001 (reported as the test's failure)
                outcomes[index] = f"error: {error!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=racer, args=(i, op)) for i, op in enumerate(operations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_withdrawing_an_offer_while_the_trainer_accepts_it(app, clock):
    now = clock.now()
    coordinator = make_coordinator("69")
    for _ in range(ROUNDS):
        session_ = make_session_in_planning()
        trainer = make_qualified_trainer()
        assignment_id = make_offer(session_, trainer, now).notices[0].assignment.id
        db.session.commit()

        def accepting(session, assignment_id=assignment_id):
            return offers.accept_offer(session, session.get(Assignment, assignment_id), now)

        def withdrawing(session, assignment_id=assignment_id):
            return offers.withdraw(session, session.get(Assignment, assignment_id), session.get(type(coordinator),
                                   coordinator.id), "Changement d'organisation", now)

        outcomes = race(app, accepting, withdrawing)
        assert not any(o.startswith("error") for o in outcomes), outcomes
        db.session.expire_all()
        final = db.session.get(Assignment, assignment_id)
        intervention = db.session.get(Intervention, session_.id)
        if outcomes[1] == "ok":  # withdrawn, before or after the answer (PostgreSQL: always, the session locked first)
            assert final.status is AssignmentStatus.WITHDRAWN
            assert intervention.accepted_count == 0 and intervention.status is InterventionStatus.TO_SCHEDULE
        else:  # SQLite: the answer slipped in between the coordinator's reading and writing
            assert outcomes == ["ok", "offer_closed"] and db.session.get_bind().dialect.name == "sqlite"
            assert final.status is AssignmentStatus.ACCEPTED
            assert intervention.accepted_count == 1 and intervention.status is InterventionStatus.CONFIRMED


def test_two_sessions_of_one_request_confirmed_at_the_same_moment(app, clock):
    now = clock.now()
    for _ in range(ROUNDS):
        request = make_request(make_establishment("69", force=Force.POLICE), status="in_planning", group_count=2)
        first, second = request.interventions
        ids = [make_offer(first, make_qualified_trainer(), now).notices[0].assignment.id,
               make_offer(second, make_qualified_trainer(), now).notices[0].assignment.id]
        db.session.commit()
        outcomes = race(app, *[lambda session, i=i: offers.accept_offer(session, session.get(Assignment, i), now)
                               for i in ids])
        assert outcomes == ["ok", "ok"], outcomes
        db.session.expire_all()
        assert {i.status for i in db.session.get(InterventionRequest, request.id).interventions} == {
            InterventionStatus.CONFIRMED}
        assert db.session.get(InterventionRequest, request.id).status is RequestStatus.CONFIRMED


def test_a_plan_sent_while_a_decline_cascades_never_doubles_an_offer(app, clock):
    now = clock.now()
    for _ in range(ROUNDS):
        db.session.execute(Assignment.__table__.delete())
        db.session.execute(Intervention.__table__.update().values(status=InterventionStatus.CANCELLED))
        db.session.execute(Trainer.__table__.update().values(active=False))  # earlier rounds' trainers
        near = make_qualified_trainer(unit_km=1)  # everyone's best candidate
        far = make_qualified_trainer(unit_km=25)
        declined_session = make_session_in_planning()
        declining = make_offer(declined_session, far, now).notices[0].assignment.id  # far asked first, by hand
        make_session_in_planning()  # the session the plan is for
        db.session.commit()
        plan = solve(load_planning_problem(db.session, date_from=MONDAY_9.date(), date_to=MONDAY_9.date(),
                                           departement_codes=["69"], force=Force.POLICE, now=now))
        assert any(a.trainer_id == near.id for a in plan.assignments), "the plan offers the near trainer"

        def declining_cascades(session, declining=declining):
            return offers.decline_offer(session, session.get(Assignment, declining), "Pas disponible", now,
                                        OFFER_SETTINGS)

        def sending_the_plan(session, plan=plan):
            fresh = load_planning_problem(session, date_from=MONDAY_9.date(), date_to=MONDAY_9.date(),
                                          departement_codes=["69"], force=Force.POLICE, now=now)
            return commit_plan(session, fresh, plan, None, now, OFFER_SETTINGS)

        outcomes = race(app, declining_cascades, sending_the_plan)
        assert outcomes == ["ok", "ok"], outcomes
        db.session.expire_all()
        live = db.session.execute(
            select(Intervention.starts_at, Intervention.ends_at)
            .join(Assignment, Assignment.intervention_id == Intervention.id)
            .where(Assignment.trainer_id == near.id, Assignment.status.in_(offers.LIVE))
            .order_by(Intervention.starts_at)).all()
        for (_, first_end), (second_start, _) in zip(live, live[1:], strict=False):
            assert second_start >= first_end, f"two live offers overlap for one trainer: {live}"
        assert live, "the near trainer got one of the two sessions"
