"""The coordination acts on one session of a request: cancels it alone, and leaves a session that has begun as it
was (no withdrawal, no new time)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain import offers
from app.domain.refusals import Refused
from app.extensions import db
from app.models import (
    Assignment,
    AssignmentStatus,
    Force,
    InterventionStatus,
    OutgoingMessage,
    RequestEvent,
    RequestStatus,
    Role,
)
from tests.factories import (
    MONDAY_9,
    make_confirmed_session,
    make_coordinator,
    make_qualified_trainer,
    make_session_in_planning,
    make_user,
)
from tests.helpers import login, post_form, switch_to


def _mail_to(user) -> list[OutgoingMessage]:
    return db.session.scalars(select(OutgoingMessage).where(OutgoingMessage.recipient == user.email)
                              .order_by(OutgoingMessage.id)).all()


def _cancel_url(intervention) -> str:
    return f"/coordination/demandes/{intervention.request_id}/interventions/{intervention.id}/annuler"


def test_the_coordination_cancels_one_session_and_the_others_go_on(app, client, clock):
    first = make_session_in_planning(group_count=2)
    item = first.request
    second = item.interventions[1]
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    offers.assign_directly(db.session, first, trainer, MONDAY_9, MONDAY_9 + timedelta(hours=1), coordinator,
                           clock.now())
    db.session.commit()
    assert first.status is InterventionStatus.CONFIRMED
    login(client, coordinator)
    page = client.get(f"/coordination/demandes/{item.id}").get_data(as_text=True)
    assert _cancel_url(first) in page and _cancel_url(second) in page
    form = client.get(_cancel_url(first)).get_data(as_text=True)
    assert "les 1 autres" not in form and "l'autre intervention de la demande est maintenue" in form
    empty = post_form(client, _cancel_url(first), {"reason": " "})
    assert empty.status_code == 400 and "Indiquez le motif." in empty.get_data(as_text=True)
    done = post_form(client, _cancel_url(first), {"reason": "Classe en sortie ce jour-là"})
    assert done.status_code == 302 and done.location.endswith(f"/coordination/demandes/{item.id}")
    db.session.expire_all()
    assert first.status is InterventionStatus.CANCELLED and second.status is InterventionStatus.TO_SCHEDULE
    assert db.session.scalar(select(Assignment.status)) is AssignmentStatus.WITHDRAWN
    assert item.status is RequestStatus.IN_PLANNING  # recomputed from the session left
    # The trainer's calendar drops the event; the establishment is told; the history says which and why.
    cancel = _mail_to(trainer.user)[-1]
    assert cancel.calendar_method == "CANCEL" and "Classe en sortie ce jour-là" in cancel.body_text
    told = _mail_to(item.created_by)
    assert told and all("Classe en sortie ce jour-là" in m.body_text for m in told)
    event = db.session.scalars(select(RequestEvent).where(RequestEvent.kind == "session_cancelled")).one()
    assert event.actor_id == coordinator.id and "Classe en sortie ce jour-là" in event.note
    # The last session cancelled, the request is cancelled with it.
    assert "la demande sera annulée avec elle" in client.get(_cancel_url(second)).get_data(as_text=True)
    post_form(client, _cancel_url(second), {"reason": "Plus de créneau"})
    db.session.expire_all()
    assert item.status is RequestStatus.CANCELLED
    assert client.get(_cancel_url(second)).status_code == 302  # nothing left to cancel: back to the request


def test_cancelling_a_session_stays_within_the_scope_and_the_role(app, client, clock):
    intervention = make_session_in_planning()
    outsider = make_coordinator("13", Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=intervention.request.establishment_id)
    db.session.commit()
    login(client, outsider)
    assert client.get(_cancel_url(intervention)).status_code == 404
    switch_to(client, requester)
    assert client.get(_cancel_url(intervention)).status_code == 403


@pytest.fixture
def begun(app, clock):
    """A session confirmed for Monday 11 January 2027 at 9:00, and the clock five minutes after its start."""
    intervention, trainer, coordinator = make_confirmed_session()
    clock.freeze(intervention.starts_at + timedelta(minutes=5))
    return intervention, trainer, coordinator


def test_a_session_that_has_begun_offers_neither_withdrawal_nor_a_new_time(client, begun):
    intervention, trainer, coordinator = begun
    assignment = db.session.scalar(select(Assignment))
    login(client, coordinator)
    page = client.get(f"/coordination/demandes/{intervention.request_id}").get_data(as_text=True)
    assert "Retirer" not in page and "Changer l'horaire" not in page and "Annuler cette intervention" not in page
    for url in (f"/propositions/{assignment.id}/retirer", f"/propositions/interventions/{intervention.id}/horaire"):
        assert client.get(url).status_code == 302
        refused = post_form(client, url, {"reason": "Erreur", "day": "2027-02-01", "start": "10:00"},
                            page=f"/coordination/demandes/{intervention.request_id}", follow_redirects=True)
        assert "Cette intervention a commencé ou a déjà eu lieu" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert assignment.status is AssignmentStatus.ACCEPTED and intervention.starts_at == MONDAY_9


def test_the_domain_refuses_to_withdraw_or_move_a_session_that_has_begun(begun, clock):
    intervention, _, coordinator = begun
    assignment = db.session.scalar(select(Assignment))
    later = clock.now() + timedelta(days=30)
    for change in (lambda: offers.withdraw(db.session, assignment, coordinator, "Erreur", clock.now()),
                   lambda: offers.reschedule(db.session, intervention, later, later + timedelta(hours=1),
                                             coordinator, clock.now())):
        with pytest.raises(Refused) as refusal:
            change()
        assert refusal.value.code == "session_past"
        db.session.rollback()
    clock.freeze(MONDAY_9 - timedelta(minutes=5))  # just before: both still possible
    offers.reschedule(db.session, intervention, later, later + timedelta(hours=1), coordinator, clock.now())
    offers.withdraw(db.session, assignment, coordinator, "Mutation", clock.now())
