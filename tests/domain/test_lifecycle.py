"""The life cycle of a request: conditional transitions, history, notices, derived status, feedback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain import lifecycle
from app.domain.clock import utcnow
from app.domain.refusals import Refused
from app.extensions import db
from app.models import (
    Assignment,
    AssignmentStatus,
    Force,
    InterventionStatus,
    RequestStatus,
)
from tests.factories import make_coordinator, make_establishment, make_request, make_trainer

# Through db.session only, nothing committed: each test's rows go with its rolled-back transaction.
pytestmark = pytest.mark.rolled_back


@pytest.fixture
def setup(app, clock):
    establishment = make_establishment("69", force=Force.POLICE)
    coordinator = make_coordinator("69", Force.POLICE)
    other_force = make_coordinator("69", Force.GENDARMERIE)
    item = make_request(establishment, group_count=3, wants_two_trainers=True)
    return item, coordinator, other_force


def test_full_life_with_history_and_notices(setup):
    item, coordinator, other_force = setup
    requester = item.created_by
    now = utcnow()
    change = lifecycle.submit(db.session, item, requester, now)
    assert item.status is RequestStatus.SUBMITTED and item.submitted_at == now
    # Only the coordinators of the request's force and département are told.
    assert [(n.recipient, n.kind) for n in change.notices if n.recipient.role == "coordinator"] == [
        (coordinator, "submitted")]
    with pytest.raises(Refused, match="request_not_draft"):
        lifecycle.submit(db.session, item, requester, now)

    change = lifecycle.accept(db.session, item, coordinator, now)
    assert item.status is RequestStatus.IN_PLANNING
    assert [(i.group_label, i.trainers_needed, i.departement_code, i.force, i.status) for i in item.interventions] == [
        (f"Groupe {n}", 2, "69", Force.POLICE, InterventionStatus.TO_SCHEDULE) for n in (1, 2, 3)]
    assert [(n.recipient, n.kind) for n in change.notices] == [(requester, "accepted")]
    with pytest.raises(Refused, match="request_not_submitted"):
        lifecycle.refuse(db.session, item, coordinator, "trop tard", now)
    with pytest.raises(Refused, match="request_not_editable"):
        lifecycle.record_edit(db.session, item, requester, now)  # planned: no more edits

    first, second, third = item.interventions
    trainer = make_trainer("69", Force.POLICE)
    first.assignments.append(Assignment(trainer_id=trainer.id, status=AssignmentStatus.ACCEPTED))
    db.session.flush()
    change = lifecycle.cancel_intervention(db.session, first, requester, "Classe en sortie", now)
    assert first.status is InterventionStatus.CANCELLED
    assert {(n.recipient.id, n.kind) for n in change.notices} == {(trainer.user.id, "session_cancelled"),
                                                                  (coordinator.id, "session_cancelled")}
    assert first.assignments[0].status is AssignmentStatus.WITHDRAWN
    assert item.status is RequestStatus.IN_PLANNING

    change = lifecycle.cancel_request(db.session, item, requester, "Fermeture de l'établissement", now)
    assert item.status is RequestStatus.CANCELLED and item.cancel_reason == "Fermeture de l'établissement"
    assert {i.status for i in item.interventions} == {InterventionStatus.CANCELLED}
    assert [event.kind for event in item.events] == ["created", "submitted", "accepted", "session_cancelled",
                                                     "cancelled"]
    assert item.events[-1].note == "Fermeture de l'établissement"
    with pytest.raises(Refused, match="request_not_cancellable"):
        lifecycle.cancel_request(db.session, item, requester, "encore", now)


def test_refusal_keeps_the_reason_and_tells_the_requester(setup):
    item, coordinator, _ = setup
    lifecycle.submit(db.session, item, item.created_by, utcnow())
    change = lifecycle.refuse(db.session, item, coordinator, "Aucun formateur disponible", utcnow())
    assert item.status is RequestStatus.REFUSED and item.refusal_reason == "Aucun formateur disponible"
    assert [(n.recipient, n.kind, n.reason) for n in change.notices] == [
        (item.created_by, "refused", "Aucun formateur disponible")]


def test_edit_is_allowed_until_planned_and_logged_once_submitted(setup):
    item, _, _ = setup
    lifecycle.record_edit(db.session, item, item.created_by, utcnow())
    lifecycle.submit(db.session, item, item.created_by, utcnow())
    lifecycle.record_edit(db.session, item, item.created_by, utcnow())
    assert [event.kind for event in item.events] == ["created", "submitted", "edited"]


def test_force_override_moves_the_request_and_its_sessions(setup):
    item, coordinator, other_force = setup
    lifecycle.submit(db.session, item, item.created_by, utcnow())
    lifecycle.accept(db.session, item, coordinator, utcnow())
    lifecycle.override_force(db.session, item, coordinator, Force.GENDARMERIE, utcnow())
    assert item.force is Force.GENDARMERIE and item.force_overridden
    assert {i.force for i in item.interventions} == {Force.GENDARMERIE}
    assert item.events[-1].kind == "force_changed"


def test_derived_status_follows_the_sessions():
    S = InterventionStatus  # noqa: N806 (short alias keeps the table readable)
    assert lifecycle.derived_status([S.TO_SCHEDULE, S.TO_SCHEDULE]) is RequestStatus.IN_PLANNING
    assert lifecycle.derived_status([S.OFFERED, S.TO_SCHEDULE]) is RequestStatus.SCHEDULED
    assert lifecycle.derived_status([S.CONFIRMED, S.CANCELLED]) is RequestStatus.CONFIRMED
    assert lifecycle.derived_status([S.DONE, S.CONFIRMED]) is RequestStatus.CONFIRMED
    assert lifecycle.derived_status([S.DONE, S.NOT_HELD, S.CANCELLED]) is RequestStatus.DONE
    assert lifecycle.derived_status([S.CANCELLED]) is RequestStatus.CANCELLED


def test_recompute_and_cancelling_the_last_session_cancels_the_request(setup):
    item, coordinator, _ = setup
    lifecycle.submit(db.session, item, item.created_by, utcnow())
    lifecycle.accept(db.session, item, coordinator, utcnow())
    for intervention in item.interventions:
        intervention.status = InterventionStatus.CONFIRMED
    db.session.flush()
    assert lifecycle.recompute_request_status(db.session, item, utcnow()) is RequestStatus.CONFIRMED
    for intervention in item.interventions:
        lifecycle.cancel_intervention(db.session, intervention, coordinator, "Formateur malade", utcnow())
    assert item.status is RequestStatus.CANCELLED


def test_duplicate_moves_windows_by_whole_years_same_weekday(setup, clock):
    item, _, _ = setup
    source_start = item.windows[0].start_date
    clock.advance(timedelta(days=400))
    copy = lifecycle.duplicate(db.session, item, item.created_by, utcnow().date(), utcnow())
    assert copy.status is RequestStatus.DRAFT and copy.copied_from_id == item.id
    new_start = copy.windows[0].start_date
    assert new_start > utcnow().date() and new_start.weekday() == source_start.weekday()
    assert [t.code for t in copy.topics] == [t.code for t in item.topics]
    assert copy.events[0].kind == "created"


def test_feedback_once_editable_for_a_week(setup, clock):
    item, coordinator, _ = setup
    lifecycle.submit(db.session, item, item.created_by, utcnow())
    lifecycle.accept(db.session, item, coordinator, utcnow())
    session = item.interventions[0]
    with pytest.raises(Refused, match="feedback_closed"):
        lifecycle.save_feedback(db.session, session, item.created_by, 4, None, utcnow())  # not held yet
    session.status = InterventionStatus.DONE
    db.session.flush()
    feedback = lifecycle.save_feedback(db.session, session, item.created_by, 4, "Bien", utcnow())
    clock.advance(timedelta(days=6))
    lifecycle.save_feedback(db.session, session, item.created_by, 5, "Très bien", utcnow())
    assert (feedback.satisfaction, feedback.comment) == (5, "Très bien")
    clock.advance(timedelta(days=2))
    with pytest.raises(Refused, match="feedback_closed"):
        lifecycle.save_feedback(db.session, session, item.created_by, 1, "Changé d'avis", utcnow())
    db.session.refresh(feedback)
    assert feedback.satisfaction == 5
    assert [e.kind for e in item.events].count("feedback") == 1
    assert db.session.scalar(select(Assignment.id)) is None
