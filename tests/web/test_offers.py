"""Offers through the web: coordinators offer, assign and withdraw; trainers accept or decline."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.domain import offers
from app.domain.matching import rank_intervention
from app.extensions import db
from app.models import Assignment, AssignmentStatus, Force, InterventionStatus, OutgoingMessage
from tests.factories import (
    OFFER_SETTINGS,
    make_coordinator,
    make_offer,
    make_qualified_trainer,
    make_session_in_planning,
)
from tests.helpers import candidates_url, csrf_token_from, login, offer_by_coordinator, post_form


def messages_to(user) -> list[OutgoingMessage]:
    return db.session.scalars(select(OutgoingMessage).where(OutgoingMessage.recipient == user.email)
                              .order_by(OutgoingMessage.id)).all()


def test_coordinator_offers_a_candidate_who_gets_the_details_by_email(app, client, clock):
    intervention = make_session_in_planning()
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    page = client.get(candidates_url(intervention)).get_data(as_text=True)
    assert "Proposer" in page and "Affecter directement" in page and f"Horaire pour {trainer.full_name}" in page
    response = offer_by_coordinator(client, intervention, trainer)
    assert response.status_code == 302
    assert response.location.endswith(f"/coordination/demandes/{intervention.request_id}")
    assignment = db.session.scalar(select(Assignment))
    assert assignment.status is AssignmentStatus.OFFERED and assignment.offered_by_id == coordinator.id
    [message] = messages_to(trainer.user)
    assert message.subject == "[Relais] Nouvelle proposition d'intervention"
    assert "Contact sur place" in message.body_text and intervention.request.contact_phone in message.body_text
    assert "Merci d'accepter ou de décliner avant le" in message.body_text
    # The link opens the session's own page, where the trainer reads it and answers.
    session_page = f"http://127.0.0.1:5000/formateurs/mes-interventions/{intervention.id}"
    assert session_page in message.body_text and f'href="{session_page}"' in message.body_html
    show = client.get(f"/coordination/demandes/{intervention.request_id}").get_data(as_text=True)
    assert trainer.full_name in show and "proposition jusqu" in show


def test_a_trainer_the_session_filled_is_a_candidate_again_when_it_needs_someone(app, client, clock):
    """Two offered, the first accepts (the second's offer closes), then falls ill: the coordinator finds the second
    among the candidates, not set aside as « retiré(e) », and offers them the session again."""
    intervention = make_session_in_planning()
    ill, other = make_qualified_trainer(), make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    accepted = make_offer(intervention, ill, clock.now()).notices[0].assignment
    make_offer(intervention, other, clock.now())
    offers.accept_offer(db.session, accepted, clock.now())
    offers.withdraw(db.session, accepted, coordinator, "Arrêt maladie.", clock.now())
    db.session.commit()
    login(client, coordinator)
    page = client.get(candidates_url(intervention)).get_data(as_text=True)
    assert f"Horaire pour {other.full_name}" in page and f"Horaire pour {ill.full_name}" not in page
    assert "A été retiré(e) de cette intervention." in page  # the one who fell ill, set aside
    assert offer_by_coordinator(client, intervention, other).status_code == 302
    statuses = db.session.scalars(select(Assignment.status).where(Assignment.trainer_id == other.id)
                                  .order_by(Assignment.id)).all()
    assert statuses == [AssignmentStatus.WITHDRAWN, AssignmentStatus.OFFERED]


def test_a_trainer_who_is_not_a_candidate_cannot_be_offered(app, client, clock):
    intervention = make_session_in_planning()
    make_qualified_trainer()
    gendarme = make_qualified_trainer()
    gendarme.force = Force.GENDARMERIE
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    page = client.get(candidates_url(intervention)).get_data(as_text=True)
    response = client.post(f"/propositions/interventions/{intervention.id}/formateurs/{gendarme.id}",
                           data={"csrf_token": csrf_token_from(page)}, follow_redirects=True)
    assert "ne remplit plus toutes les règles" in response.get_data(as_text=True)
    assert db.session.scalar(select(Assignment)) is None


def test_direct_assignment_confirms_and_tells_the_requester(app, client, clock):
    intervention = make_session_in_planning()
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    offer_by_coordinator(client, intervention, trainer, assign=True)
    db.session.expire_all()
    assert intervention.status is InterventionStatus.CONFIRMED
    name = intervention.request.establishment.name
    # Confirmed at once: the calendar invitation is the only e-mail, to the trainer and to the contact.
    [to_trainer] = messages_to(trainer.user)
    assert to_trainer.subject == f"[Relais] Invitation : {name}" and to_trainer.calendar_method == "REQUEST"
    assert "Contact sur place" in to_trainer.body_text
    [to_contact] = messages_to(intervention.request.created_by)
    assert to_contact.subject == f"[Relais] Invitation : {name}" and "ATTENDEE" in to_contact.calendar


def test_offer_and_withdraw_are_hidden_outside_the_scope(app, client, clock):
    trainer = make_qualified_trainer()
    intervention, [assignment] = _offered(clock, trainer)
    outsider = make_coordinator("13", Force.POLICE)
    db.session.commit()
    login(client, outsider)
    token = csrf_token_from(client.get("/planification/").get_data(as_text=True))
    assert client.get(f"/propositions/{assignment.id}/retirer").status_code == 404
    assert client.post(f"/propositions/{assignment.id}/retirer", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/propositions/interventions/{intervention.id}/formateurs/{trainer.id}",
                       data={"csrf_token": token}).status_code == 404


def test_withdrawal_asks_a_reason_and_tells_the_trainer(app, client, clock):
    intervention = make_session_in_planning()
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    offer_by_coordinator(client, intervention, trainer, assign=True)
    assignment = db.session.scalar(select(Assignment))
    url = f"/propositions/{assignment.id}/retirer"
    empty = post_form(client, url, {"reason": " "})
    assert empty.status_code == 400 and "Indiquez le motif du retrait." in empty.get_data(as_text=True)
    done = post_form(client, url, {"reason": "Mutation du formateur"})
    assert done.status_code == 302 and done.location.endswith(candidates_url(intervention))
    db.session.expire_all()
    assert assignment.status is AssignmentStatus.WITHDRAWN
    assert intervention.status is InterventionStatus.TO_SCHEDULE
    # The session was confirmed: the calendar cancellation is the e-mail that tells the trainer why.
    cancel = messages_to(trainer.user)[-1]
    assert cancel.subject.startswith("[Relais] Annulation : ") and cancel.calendar_method == "CANCEL"
    assert "Mutation du formateur" in cancel.body_text and "STATUS:CANCELLED" in cancel.calendar


def _offered(clock, *trainers):
    intervention = make_session_in_planning()
    start = rank_intervention(db.session, intervention.id, clock.now()).candidates[0].all_starts[0]
    made = [offers.make_offer(db.session, intervention, t, start, start + timedelta(hours=1), None, clock.now(),
                              OFFER_SETTINGS).notices[0].assignment for t in trainers]
    db.session.commit()
    return intervention, made


def test_trainer_sees_the_offer_on_the_home_page_and_accepts(app, client, clock):
    trainer = make_qualified_trainer()
    intervention, [assignment] = _offered(clock, trainer)
    login(client, trainer.user)
    home = client.get("/accueil").get_data(as_text=True)
    assert "Propositions en attente de votre réponse" in home
    request = intervention.request
    for detail in (request.establishment.name, request.contact_phone, "Cannabis", "Répondre avant le"):
        assert detail in home, detail
    response = post_form(client, f"/propositions/{assignment.id}/accepter", {}, page="/accueil")
    # The home page has one CSRF token per form; any of them is valid for the session.
    assert response.status_code == 302
    db.session.expire_all()
    assert assignment.status is AssignmentStatus.ACCEPTED
    assert intervention.status is InterventionStatus.CONFIRMED
    after = client.get("/accueil").get_data(as_text=True)
    assert "Aucune proposition en attente." in after and "acceptée" in after


def test_decline_needs_a_reason_then_passes_to_the_next_candidate(app, client, clock):
    first, second = make_qualified_trainer(), make_qualified_trainer()
    intervention, [assignment] = _offered(clock, first)
    login(client, first.user)
    url = f"/propositions/{assignment.id}/decliner"
    token = csrf_token_from(client.get("/accueil").get_data(as_text=True))
    empty = client.post(url, data={f"d{assignment.id}-csrf_token": token, f"d{assignment.id}-reason": ""})
    html = empty.get_data(as_text=True)
    assert empty.status_code == 400 and "Indiquez pourquoi vous déclinez." in html
    assert intervention.request.establishment.name in html, "the offer stays in view next to the error"
    done = client.post(url, data={f"d{assignment.id}-csrf_token": token,
                                  f"d{assignment.id}-reason": "Permanence ce jour-là"})
    assert done.status_code == 302
    db.session.expire_all()
    assert assignment.status is AssignmentStatus.DECLINED
    live = db.session.scalars(select(Assignment).where(Assignment.status == AssignmentStatus.OFFERED)).all()
    assert [a.trainer_id for a in live] == [second.id]
    assert messages_to(second.user)[-1].subject == "[Relais] Nouvelle proposition d'intervention"


def test_a_trainer_cannot_answer_someone_elses_offer(app, client, clock):
    owner, other = make_qualified_trainer(), make_qualified_trainer()
    _, [assignment] = _offered(clock, owner)
    login(client, other.user)
    assert client.get(f"/propositions/{assignment.id}/decliner").status_code == 404
    token = csrf_token_from(client.get("/accueil").get_data(as_text=True))
    assert client.post(f"/propositions/{assignment.id}/accepter",
                       data={f"a{assignment.id}-csrf_token": token}).status_code == 404


def test_accepting_a_filled_session_says_so_clearly(app, client, clock):
    first, second = make_qualified_trainer(), make_qualified_trainer()
    intervention, [one, two] = _offered(clock, first, second)
    offers.accept_offer(db.session, one, clock.now())
    db.session.commit()
    login(client, second.user)
    token = csrf_token_from(client.get("/accueil").get_data(as_text=True))
    response = client.post(f"/propositions/{two.id}/accepter", data={f"a{two.id}-csrf_token": token},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "a changé entre-temps" in response.get_data(as_text=True)


def test_flagged_sessions_appear_on_the_coordinator_home(app, client, clock):
    only = make_qualified_trainer()
    intervention, [assignment] = _offered(clock, only)
    offers.decline_offer(db.session, assignment, "Indisponible", clock.now(), OFFER_SETTINGS)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    home = client.get("/accueil").get_data(as_text=True)
    assert "Interventions à reprendre" in home and "Plus aucun formateur possible" in home
    assert candidates_url(intervention) in home


def test_the_establishment_does_not_see_who_declined_and_why(app, client, clock):
    first = make_qualified_trainer()
    make_qualified_trainer()  # the next candidate, who gets the cascaded offer
    intervention, [assignment] = _offered(clock, first)
    offers.decline_offer(db.session, assignment, "Arrêt maladie", clock.now(), OFFER_SETTINGS)
    db.session.commit()
    login(client, intervention.request.created_by)
    page = client.get(f"/demandes/{intervention.request_id}").get_data(as_text=True)
    assert "Historique" in page and "Demande acceptée" in page
    assert "Arrêt maladie" not in page and "Proposition déclinée" not in page
    assert "Intervention proposée à un formateur" not in page


def test_the_establishment_sees_who_comes_once_confirmed(app, client, clock):
    intervention, [assignment] = _offered(clock, trainer := make_qualified_trainer())
    offers.accept_offer(db.session, assignment, clock.now())
    db.session.commit()
    login(client, intervention.request.created_by)
    page = client.get(f"/demandes/{intervention.request_id}").get_data(as_text=True)
    assert f"Formateurs : {trainer.rank} {trainer.full_name}" in page
    assert f"/calendrier/interventions/{intervention.id}.ics" in page


def test_the_second_trainer_of_a_pair_is_offered_the_time_already_fixed_late_in_the_window(app, client, clock):
    """The page computes only the first starts of each candidate, except when a time is already fixed."""
    import re
    from datetime import UTC, datetime

    # 10 school days of four morning hours: more starts than the page lists
    intervention = make_session_in_planning(days=12)
    intervention.trainers_needed = 2
    first, second = make_qualified_trainer(), make_qualified_trainer(unit_km=5)
    late = datetime(2027, 1, 22, 10, 0, tzinfo=UTC)  # the last start of the window, 11:00 in Lyon
    make_offer(intervention, first, clock.now(), start=late)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    page = client.get(candidates_url(intervention)).get_data(as_text=True)
    form = page.split(f'id="c{second.id}-starts_at"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([^"]+)"', form) == [late.isoformat()]


def test_the_coordination_sees_an_offer_past_its_deadline_as_unanswered_before_the_expiry_job(app, client, clock):
    intervention = make_session_in_planning()
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    assignment = make_offer(intervention, trainer, clock.now()).notices[0].assignment
    db.session.commit()
    login(client, coordinator)
    page = client.get(f"/coordination/demandes/{intervention.request_id}").get_data(as_text=True)
    assert "proposition jusqu" in page and "délai passé" not in page
    clock.freeze(assignment.expires_at + timedelta(minutes=5))
    page = client.get(f"/coordination/demandes/{intervention.request_id}").get_data(as_text=True)
    assert "sans réponse, délai passé le" in page and "proposition jusqu" not in page
