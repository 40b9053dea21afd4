"""A new establishment's first member acts for it only once the coordination of its territory has confirmed it
(issue #17, point 14): before, they prepare requests but neither send them, invite nor let anyone in."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.identifiers import make_uai
from app.extensions import db
from app.models import (
    Establishment,
    InterventionRequest,
    JoinRequest,
    JoinStatus,
    OutgoingMessage,
    RequestStatus,
    Role,
    User,
)
from tests.factories import make_commune, make_coordinator, make_request, make_user
from tests.helpers import csrf_token_from, login, post_form, switch_to

UAI = make_uai(690001)


def subjects_to(address: str) -> list[str]:
    return list(db.session.scalars(select(OutgoingMessage.subject).where(OutgoingMessage.recipient == address)
                                   .order_by(OutgoingMessage.id)))


def register(client) -> Establishment:
    """The logged-in requester registers the collège."""
    response = post_form(client, "/etablissement/nouveau", {
        "kind": "college", "name": "Collège Jean-Moulin", "identifier": UAI, "address": "1 rue Garibaldi",
        "postcode": "69001"})
    assert response.status_code == 302
    return db.session.scalar(select(Establishment).where(Establishment.uai == UAI))


def test_a_registration_waits_for_the_coordination_and_nothing_is_lost_meanwhile(app, client, clock):
    make_commune("69123", "Lyon", postcode="69001")
    principal = make_user(Role.REQUESTER, email="principal@college.example")
    coordinator = make_coordinator("69")
    elsewhere = make_coordinator("13")
    db.session.commit()
    login(client, principal)
    establishment = register(client)
    assert establishment is not None and not establishment.is_confirmed
    assert subjects_to(coordinator.email) == [
        "[Relais] Nouvel établissement inscrit, à confirmer : Collège Jean-Moulin"]
    assert subjects_to(elsewhere.email) == []
    assert "attend la confirmation de la coordination" in client.get("/accueil").get_data(as_text=True)

    # A request may be prepared: "send" keeps it as a draft and says why, nothing typed is lost.
    draft = make_request(establishment, principal, status="draft")
    db.session.commit()
    response = post_form(client, f"/demandes/{draft.id}/envoyer", {}, page=f"/demandes/{draft.id}",
                         follow_redirects=True)
    assert "attend la confirmation de la coordination" in response.get_data(as_text=True)
    assert db.session.get(InterventionRequest, draft.id).status is RequestStatus.DRAFT
    # No colleague is invited, no newcomer let in by the member: the coordination decides who joins.
    response = post_form(client, "/etablissement/inviter", {"full_name": "Paul Martin", "email": "paul@exemple.fr"},
                         page="/etablissement/", follow_redirects=True)
    assert "attend la confirmation" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "paul@exemple.fr")) is None
    newcomer = make_user(Role.REQUESTER)
    join = JoinRequest(establishment_id=establishment.id, user_id=newcomer.id)
    db.session.add(join)
    db.session.commit()
    assert "Demandes pour rejoindre" not in client.get("/etablissement/").get_data(as_text=True)
    page = client.get("/etablissement/").get_data(as_text=True)
    client.post(f"/etablissement/demandes/{join.id}/accepter", data={"csrf_token": csrf_token_from(page)})
    assert db.session.get(JoinRequest, join.id).status is JoinStatus.PENDING

    switch_to(client, coordinator)
    queue = client.get("/coordination/rattachements").get_data(as_text=True)
    assert "Collège Jean-Moulin" in queue and "principal@college.example" in queue and newcomer.email in queue
    assert "1 établissement inscrit attend votre confirmation." in client.get("/accueil").get_data(as_text=True)
    switch_to(client, elsewhere)
    page = client.get("/coordination/rattachements").get_data(as_text=True)
    assert "Collège Jean-Moulin" not in page
    assert client.post(f"/coordination/inscriptions/{establishment.id}/confirmer",
                       data={"csrf_token": csrf_token_from(page)}).status_code == 404

    switch_to(client, coordinator)
    post_form(client, f"/coordination/inscriptions/{establishment.id}/confirmer", {},
              page="/coordination/rattachements")
    assert db.session.get(Establishment, establishment.id).is_confirmed
    assert "[Relais] Inscription de votre établissement confirmée" in subjects_to(principal.email)
    switch_to(client, principal)
    post_form(client, f"/demandes/{draft.id}/envoyer", {}, page=f"/demandes/{draft.id}")
    assert db.session.get(InterventionRequest, draft.id).status is RequestStatus.SUBMITTED


def test_a_registration_not_confirmed_frees_its_identifier_and_tells_why(app, client, clock):
    make_commune("69123", "Lyon", postcode="69001")
    impostor = make_user(Role.REQUESTER, email="usurpateur@exemple.fr")
    coordinator = make_coordinator("69")
    db.session.commit()
    login(client, impostor)
    establishment = register(client)
    make_request(establishment, impostor, status="draft")
    db.session.commit()
    switch_to(client, coordinator)
    page = client.get("/coordination/rattachements").get_data(as_text=True)
    response = client.post(f"/coordination/inscriptions/{establishment.id}/refuser",
                           data={f"e{establishment.id}-reason": "", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 400 and "Indiquez le motif." in response.get_data(as_text=True)
    post_form(client, f"/coordination/inscriptions/{establishment.id}/refuser",
              {f"e{establishment.id}-reason": "Inconnue du collège"}, page="/coordination/rattachements")
    assert db.session.scalar(select(Establishment).where(Establishment.uai == UAI)) is None
    assert db.session.get(User, impostor.id).establishment_id is None
    assert db.session.scalar(select(InterventionRequest)) is None
    [message] = db.session.scalars(select(OutgoingMessage).where(OutgoingMessage.recipient == impostor.email)
                                   .where(OutgoingMessage.subject.like("%non confirmée%"))).all()
    assert "Inconnue du collège" in message.body_text
    # The real principal can register the school now.
    real = make_user(Role.REQUESTER)
    db.session.commit()
    switch_to(client, real)
    assert register(client) is not None
