"""Offers, answers, expiry and cascade, on real rows (the races are in test_offer_races.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.domain import offers
from app.domain.matching import rank_intervention
from app.domain.offers import OfferSettings
from app.domain.refusals import Refused
from app.extensions import db
from app.jobs import expire_due_offers
from app.models import (
    Assignment,
    AssignmentStatus,
    Force,
    Intervention,
    InterventionStatus,
    OutgoingMessage,
    RequestEvent,
    RequestStatus,
)
from tests.factories import (
    MONDAY_9,
    OFFER_SETTINGS,
    make_assigned_session,
    make_coordinator,
    make_offer,
    make_qualified_trainer,
    make_session_in_planning,
)


def kinds(change) -> list[tuple[str, int]]:
    return [(n.kind, n.recipient.id) for n in change.notices]


@pytest.mark.rolled_back
def test_an_offer_fixes_the_time_and_tells_the_trainer(app, clock):
    session_ = make_session_in_planning()
    trainer = make_qualified_trainer()
    change = make_offer(session_, trainer, clock.now())
    assert kinds(change) == [("offer", trainer.user.id)]
    assert session_.status is InterventionStatus.OFFERED and session_.starts_at == MONDAY_9
    assignment = change.notices[0].assignment
    assert assignment.status is AssignmentStatus.OFFERED
    assert assignment.expires_at == clock.now() + timedelta(days=3)
    assert session_.request.status is RequestStatus.SCHEDULED
    with pytest.raises(Refused) as refused:
        make_offer(session_, trainer, clock.now())
    assert refused.value.code == "already_asked"


@pytest.mark.rolled_back
def test_more_offers_than_places_the_first_to_accept_gets_it(app, clock):
    session_ = make_session_in_planning()
    first, second, third = make_qualified_trainer(), make_qualified_trainer(), make_qualified_trainer()
    one = make_offer(session_, first, clock.now()).notices[0].assignment
    two = make_offer(session_, second, clock.now()).notices[0].assignment
    change = offers.accept_offer(db.session, two, clock.now())
    assert [n.kind for n in change.notices] == ["offer_filled"]
    [invitation] = change.calendar
    assert invitation.method == "REQUEST" and invitation.trainers == (second.user,) and invitation.contact
    assert one.status is AssignmentStatus.OFFERED  # not refreshed: the database is what counts
    db.session.refresh(one)
    assert one.status is AssignmentStatus.WITHDRAWN
    with pytest.raises(Refused) as refused:
        offers.accept_offer(db.session, one, clock.now())
    assert refused.value.code == "session_changed"
    with pytest.raises(Refused) as refused:
        make_offer(session_, third, clock.now())
    assert refused.value.code == "session_changed"


@pytest.mark.rolled_back
def test_a_trainer_whose_offer_the_session_filled_may_be_asked_again_when_it_needs_someone(app, clock):
    """Offers to three: one declines, one accepts, the third's is withdrawn as the session is full. When the one who
    accepted is withdrawn (ill), the third, who turned nothing down, is proposed again (ranking, planning) and may
    be offered it; the one who declined and the one withdrawn are not."""
    from app.domain.eligibility import FILLED_BY_OTHERS
    from app.domain.matching import session_need

    session_ = make_session_in_planning()
    declining, accepting, waiting = make_qualified_trainer(), make_qualified_trainer(), make_qualified_trainer()
    declined = make_offer(session_, declining, clock.now()).notices[0].assignment
    accepted = make_offer(session_, accepting, clock.now()).notices[0].assignment
    left = make_offer(session_, waiting, clock.now()).notices[0].assignment
    offers.decline_offer(db.session, declined, "Non.", clock.now(), OFFER_SETTINGS)
    offers.accept_offer(db.session, accepted, clock.now())
    db.session.refresh(left)
    assert left.status is AssignmentStatus.WITHDRAWN
    offers.withdraw(db.session, accepted, make_coordinator(), "Arrêt maladie.", clock.now())
    db.session.refresh(session_)
    assert session_.status is not InterventionStatus.CONFIRMED

    ranking = rank_intervention(db.session, session_.id, clock.now())
    assert waiting.id in [c.trainer_id for c in ranking.candidates]
    assert {declining.id, accepting.id} <= set(ranking.excluded)
    assert [e.rule for e in ranking.excluded[declining.id]] == ["deja-decline"]
    assert (waiting.id, FILLED_BY_OTHERS) in session_need(session_).asked  # what planning reads
    again = make_offer(session_, waiting, clock.now()).notices[0].assignment
    assert again.status is AssignmentStatus.OFFERED and again.id != left.id


@pytest.mark.rolled_back
def test_the_answer_deadline_comes_a_day_before_a_close_session(app, clock):
    now = clock.now()
    assert offers.offer_expiry(now, now + timedelta(days=2), OFFER_SETTINGS) == now + timedelta(days=1)
    assert offers.offer_expiry(now, now + timedelta(hours=3), OFFER_SETTINGS) == now + timedelta(hours=2)


@pytest.mark.rolled_back
def test_accepting_the_last_place_confirms_and_tells_the_requester(app, clock):
    session_ = make_session_in_planning()
    trainer = make_qualified_trainer()
    assignment = make_offer(session_, trainer, clock.now()).notices[0].assignment
    change = offers.accept_offer(db.session, assignment, clock.now())
    assert assignment.status is AssignmentStatus.ACCEPTED
    assert session_.status is InterventionStatus.CONFIRMED and session_.accepted_count == 1
    assert session_.ical_sequence == 1
    # The requester is the contact: the calendar invitation tells them (no second e-mail).
    assert kinds(change) == []
    assert [(c.method, c.trainers, c.contact) for c in change.calendar] == [("REQUEST", (trainer.user,), True)]
    assert session_.confirmed_at == clock.now() and assignment.accepted_at == clock.now()
    assert session_.request.status is RequestStatus.CONFIRMED


@pytest.mark.rolled_back
def test_a_pair_is_confirmed_when_both_have_accepted_at_the_same_time(app, clock):
    session_ = make_session_in_planning(wants_two_trainers=True)
    first, second = make_qualified_trainer(accepts_pair_work=True), make_qualified_trainer(accepts_pair_work=True)
    one = make_offer(session_, first, clock.now()).notices[0].assignment
    with pytest.raises(Refused) as refused:
        make_offer(session_, second, clock.now(), start=MONDAY_9 + timedelta(hours=1))
    assert refused.value.code == "time_mismatch"
    two = make_offer(session_, second, clock.now()).notices[0].assignment
    offers.accept_offer(db.session, one, clock.now())
    assert session_.status is InterventionStatus.OFFERED
    offers.accept_offer(db.session, two, clock.now())
    assert session_.status is InterventionStatus.CONFIRMED and session_.accepted_count == 2


@pytest.mark.rolled_back
def test_an_expired_offer_cannot_be_accepted(app, clock):
    session_ = make_session_in_planning()
    assignment = make_offer(session_, make_qualified_trainer(), clock.now()).notices[0].assignment
    with pytest.raises(Refused) as refused:
        offers.accept_offer(db.session, assignment, clock.now() + timedelta(days=3, minutes=1))
    assert refused.value.code == "offer_closed"


@pytest.mark.rolled_back
def test_a_trainer_cannot_accept_two_sessions_at_the_same_time(app, clock):
    trainer = make_qualified_trainer()
    make_assigned_session(trainer, MONDAY_9 + timedelta(minutes=30))
    session_ = make_session_in_planning()
    # Offered before the other booking existed (e.g. agreed by phone meanwhile).
    assignment = offers.Assignment(intervention_id=session_.id, trainer_id=trainer.id,
                                   expires_at=clock.now() + timedelta(days=3))
    db.session.execute(update(Intervention).where(Intervention.id == session_.id)
                       .values(status=InterventionStatus.OFFERED, starts_at=MONDAY_9,
                               ends_at=MONDAY_9 + timedelta(hours=1)))
    db.session.add(assignment)
    db.session.flush()
    with pytest.raises(Refused) as refused:
        offers.accept_offer(db.session, assignment, clock.now())
    assert refused.value.code == "trainer_busy"
    with pytest.raises(Refused) as refused:
        make_offer(make_session_in_planning(), trainer, clock.now())
    assert refused.value.code == "trainer_busy"


@pytest.mark.rolled_back
def test_a_decline_passes_the_session_to_the_next_best_candidate(app, clock):
    session_ = make_session_in_planning()
    near, far = make_qualified_trainer(unit_km=1), make_qualified_trainer(unit_km=20)
    db.session.flush()
    best = rank_intervention(db.session, session_.id, clock.now()).candidates[0]
    assert best.trainer_id == near.id
    assignment = make_offer(session_, near, clock.now(), start=best.all_starts[0]).notices[0].assignment
    change = offers.decline_offer(db.session, assignment, "Déjà en stage ce jour-là", clock.now(), OFFER_SETTINGS)
    assert assignment.status is AssignmentStatus.DECLINED and assignment.decline_reason == "Déjà en stage ce jour-là"
    assert kinds(change) == [("offer", far.user.id)]
    live = db.session.scalars(select(Assignment).where(Assignment.status == AssignmentStatus.OFFERED)).all()
    assert [a.trainer_id for a in live] == [far.id]
    assert session_.status is InterventionStatus.OFFERED


def test_expired_offers_cascade_once_however_often_tick_runs(app, clock):
    session_ = make_session_in_planning()
    near, far = make_qualified_trainer(unit_km=1), make_qualified_trainer(unit_km=20)
    make_offer(session_, near, clock.now())
    db.session.commit()
    assert expire_due_offers(db.session, clock.now() + timedelta(days=2)) == 0
    later = clock.now() + timedelta(days=3)
    assert expire_due_offers(db.session, later) == 1
    assert expire_due_offers(db.session, later) == 0
    statuses = {a.trainer_id: a.status for a in db.session.scalars(select(Assignment))}
    assert statuses == {near.id: AssignmentStatus.EXPIRED, far.id: AssignmentStatus.OFFERED}
    subjects = [m.subject for m in db.session.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id))]
    assert subjects == ["[Relais] Proposition d'intervention expirée", "[Relais] Nouvelle proposition d'intervention"]


@pytest.mark.rolled_back
def test_after_the_last_try_the_session_goes_back_to_the_coordinators_flagged(app, clock):
    session_ = make_session_in_planning()
    trainers = [make_qualified_trainer(unit_km=km) for km in (1, 2, 3, 4)]
    assignment = make_offer(session_, trainers[0], clock.now()).notices[0].assignment
    settings = OfferSettings(expiry=timedelta(days=3), max_tries=2)
    change = offers.decline_offer(db.session, assignment, "Indisponible", clock.now(), settings)
    second = change.notices[0].assignment
    assert second.trainer_id == trainers[1].id
    change = offers.decline_offer(db.session, second, "Indisponible", clock.now(), settings)
    assert {n.kind for n in change.notices} == {"needs_attention"}
    assert all(n.recipient.role == "coordinator" for n in change.notices) and change.notices
    assert session_.status is InterventionStatus.TO_SCHEDULE
    assert "2 proposition(s)" in session_.attention_reason
    assert session_.request.status is RequestStatus.IN_PLANNING
    events = [e.kind for e in db.session.scalars(select(RequestEvent).order_by(RequestEvent.id))]
    assert events[-1] == "needs_attention" and events.count("offer_declined") == 2
    # A new offer by the coordinator clears the flag.
    make_offer(session_, trainers[2], clock.now())
    assert session_.attention_reason is None


@pytest.mark.rolled_back
def test_with_no_candidate_left_the_session_is_flagged_at_once(app, clock):
    session_ = make_session_in_planning()
    only = make_qualified_trainer()
    assignment = make_offer(session_, only, clock.now()).notices[0].assignment
    change = offers.decline_offer(db.session, assignment, "Indisponible", clock.now(), OFFER_SETTINGS)
    assert {n.kind for n in change.notices} == {"needs_attention"}
    assert session_.attention_reason.startswith("Plus aucun formateur possible")


@pytest.mark.rolled_back
def test_direct_assignment_confirms_and_withdrawal_reopens(app, clock):
    session_ = make_session_in_planning()
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    change = offers.assign_directly(db.session, session_, trainer, MONDAY_9, MONDAY_9 + timedelta(hours=1),
                                    coordinator, clock.now())
    assert [n.kind for n in change.notices] == [] and [c.method for c in change.calendar] == ["REQUEST"]
    assert session_.status is InterventionStatus.CONFIRMED
    assignment = session_.assignments[0]
    change = offers.withdraw(db.session, assignment, coordinator, "Mutation", clock.now())
    assert kinds(change) == [("withdrawn", trainer.user.id)]
    # Nobody is left on it: the trainer's and the contact's calendars drop the event.
    assert [(c.method, c.trainers, c.contact) for c in change.calendar] == [("CANCEL", (trainer.user,), True)]
    assert assignment.status is AssignmentStatus.WITHDRAWN
    assert session_.status is InterventionStatus.TO_SCHEDULE and session_.accepted_count == 0
    assert session_.ical_sequence == 2, "calendars must hear that the confirmed session changed"
    with pytest.raises(Refused):
        offers.withdraw(db.session, assignment, coordinator, "Deux fois", clock.now())


def test_the_database_refuses_overstaffing_and_a_second_live_offer(app, clock):
    session_ = make_session_in_planning()
    trainer = make_qualified_trainer()
    make_offer(session_, trainer, clock.now())
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(update(Intervention).where(Intervention.id == session_.id).values(accepted_count=2))
    db.session.rollback()
    db.session.add(Assignment(intervention_id=session_.id, trainer_id=trainer.id, status=AssignmentStatus.OFFERED))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    # A closed offer does not count: the same trainer may be asked again later.
    db.session.add(Assignment(intervention_id=session_.id, trainer_id=trainer.id, status=AssignmentStatus.DECLINED))
    db.session.flush()
