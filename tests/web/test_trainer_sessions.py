"""A trainer's page of each session, declining in two steps, and unavailabilities as entered (issue #18)."""

from __future__ import annotations

import html as html_module
import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.domain import offers
from app.domain.clock import utcnow
from app.extensions import db
from app.models import (
    Assignment,
    AssignmentStatus,
    Audience,
    AvailabilityException,
    CoordinatorScope,
    Force,
    Intervention,
    Role,
    Topic,
)
from tests.factories import (
    MONDAY_9,
    OFFER_SETTINGS,
    make_assigned_session,
    make_establishment,
    make_qualified_trainer,
    make_session_in_planning,
    make_user,
)
from tests.helpers import csrf_token_from, login, post_form, switch_to


def text(response) -> str:
    return html_module.unescape(response.get_data(as_text=True))


def detailed_session(clock) -> tuple[Intervention, object, object]:
    """A confirmed pair session in a school with every detail a trainer needs: (session, trainer, co-trainer)."""
    clock.freeze(datetime(2027, 1, 4, 8, 0, tzinfo=MONDAY_9.tzinfo))
    establishment = make_establishment("69", force=Force.POLICE, name="Collège Jean-Moulin",
                                       address="12 rue Paul-Bert", postcode="69003", commune_name="Lyon",
                                       latitude=45.7597, longitude=4.8422, phone="+33 (0)4 72 00 00 00")
    trainer = make_qualified_trainer()
    co_trainer = make_qualified_trainer()
    co_trainer.user.phone = "06 11 22 33 44"
    intervention = make_assigned_session(trainer, MONDAY_9, establishment=establishment)
    intervention.trainers_needed = 2
    intervention.assignments.append(Assignment(trainer_id=co_trainer.id, status=AssignmentStatus.ACCEPTED,
                                               accepted_at=utcnow()))
    intervention.accepted_count = 2
    request = intervention.request
    request.room = "Salle polyvalente, bâtiment B"
    request.equipment = "Vidéoprojecteur, micro"
    request.notes = "Classe agitée ; prévoir du temps pour les questions.\nParking côté gymnase."
    request.contact_name = "Mme Durand (CPE)"
    request.contact_email = "cpe.durand@college.example"
    request.audiences = [db.session.get(Audience, "4e")]
    request.topics = [db.session.get(Topic, "cannabis")]
    db.session.commit()
    return intervention, trainer, co_trainer


def test_the_session_page_says_where_when_who_and_what(app, client, clock):
    intervention, trainer, co_trainer = detailed_session(clock)
    login(client, trainer.user)
    home = text(client.get("/accueil"))
    url = f"/formateurs/mes-interventions/{intervention.id}"
    assert f'href="{url}"' in home, "Mes prochaines interventions links to the page"
    assert "Collège Jean-Moulin, Lyon" in home

    page = text(client.get(url))
    assert "Collège Jean-Moulin" in page
    assert "lundi 11 janvier 2027" in page
    assert "12 rue Paul-Bert, 69003 Lyon" in page
    assert "https://www.openstreetmap.org/directions?to=45.75970,4.84220" in page
    assert "Salle polyvalente, bâtiment B" in page
    assert 'href="tel:0102030405"' in page and 'href="mailto:cpe.durand@college.example"' in page
    assert "Mme Durand (CPE)" in page
    assert 'href="tel:+33472000000"' in page, "a number a phone dials: no « (0) » after the country code"
    assert "Vidéoprojecteur, micro" in page
    assert "Classe agitée ; prévoir du temps pour les questions." in page
    assert co_trainer.full_name in page and 'href="tel:0611223344"' in page
    assert f"/calendrier/interventions/{intervention.id}.ics" in page
    assert "Compte rendu" not in page, "nothing to report before the session"


def test_a_place_given_by_the_request_is_where_the_itinerary_goes(app, client, clock):
    intervention, trainer, _ = detailed_session(clock)
    intervention.request.place = "Gymnase municipal, 3 rue des Sports, 69003 Lyon"
    db.session.commit()
    login(client, trainer.user)
    page = text(client.get(f"/formateurs/mes-interventions/{intervention.id}"))
    assert ("https://www.openstreetmap.org/directions?to=Gymnase%20municipal,%203%20rue%20des%20Sports,"
            "%2069003%20Lyon") in page


def test_only_the_trainers_on_the_session_see_its_page(app, client, clock):
    intervention, trainer, _ = detailed_session(clock)
    url = f"/formateurs/mes-interventions/{intervention.id}"
    stranger = make_qualified_trainer()
    coordinator = make_user(Role.COORDINATOR)
    requester = make_user(Role.REQUESTER, establishment_id=intervention.request.establishment_id)
    db.session.commit()
    login(client, stranger.user)
    assert client.get(url).status_code == 404
    switch_to(client, coordinator)
    assert client.get(url).status_code == 403
    switch_to(client, requester)
    assert client.get(url).status_code == 403
    # Declined: the session is no longer theirs to see.
    mine = next(a for a in intervention.assignments if a.trainer_id == trainer.id)
    mine.status = AssignmentStatus.DECLINED
    db.session.commit()
    switch_to(client, trainer.user)
    assert client.get(url).status_code == 404


def test_after_the_session_the_page_leads_to_the_report_then_shows_it(app, client, clock):
    intervention, trainer, _ = detailed_session(clock)
    url = f"/formateurs/mes-interventions/{intervention.id}"
    clock.freeze(intervention.ends_at + timedelta(hours=1))
    login(client, trainer.user)
    page = text(client.get(url))
    assert "Remplir le compte rendu" in page and f"/comptes-rendus/interventions/{intervention.id}" in page
    saved = post_form(client, f"/comptes-rendus/interventions/{intervention.id}",
                      {"held": "oui", "people_present": "23", "topics": ["cannabis"]})
    assert saved.headers["Location"].endswith(url), "back to the session's page"
    page = text(client.get(url))
    assert "Personnes présentes" in page and "23" in page and "Corriger le compte rendu" in page


def test_an_offer_shows_the_remarks_and_declining_asks_the_reason_on_a_second_page(app, client, clock):
    intervention = make_session_in_planning(notes="Élèves de SEGPA : adapter le vocabulaire.")
    trainer = make_qualified_trainer()
    offers.make_offer(db.session, intervention, trainer, MONDAY_9, MONDAY_9 + timedelta(hours=1), None,
                      clock.now(), OFFER_SETTINGS)
    db.session.commit()
    assignment = intervention.assignments[0]
    login(client, trainer.user)
    home = text(client.get("/accueil"))
    assert "Élèves de SEGPA : adapter le vocabulaire." in home
    assert "Motif du refus" not in home and "<textarea" not in home, "no reason box beside Accepter"
    decline_url = f"/propositions/{assignment.id}/decliner"
    assert f'href="{decline_url}"' in home, "Décliner is a link to the second step"
    assert f'href="/formateurs/mes-interventions/{intervention.id}"' in home

    second_step = client.get(decline_url)
    assert second_step.status_code == 200 and "Motif du refus" in text(second_step)
    empty = post_form(client, decline_url, {f"d{assignment.id}-reason": ""}, page=decline_url)
    assert empty.status_code == 400 and "Indiquez pourquoi vous déclinez." in text(empty)
    db.session.expire_all()
    assert assignment.status is AssignmentStatus.OFFERED
    done = post_form(client, decline_url, {f"d{assignment.id}-reason": "En congé ce jour-là"}, page=decline_url)
    assert done.status_code == 302
    db.session.expire_all()
    assert (assignment.status, assignment.decline_reason) == (AssignmentStatus.DECLINED, "En congé ce jour-là")


def test_offers_are_listed_by_the_date_of_their_session(app, client, clock):
    trainer = make_qualified_trainer()
    march = make_session_in_planning()
    january = make_session_in_planning()
    march_start = datetime(2027, 3, 1, 8, 0, tzinfo=MONDAY_9.tzinfo)
    # March offered last with the earlier deadline: the list must still read January first.
    offers.make_offer(db.session, january, trainer, MONDAY_9, MONDAY_9 + timedelta(hours=1), None, clock.now(),
                      OFFER_SETTINGS)
    clock.advance(timedelta(hours=-1))
    offers.make_offer(db.session, march, trainer, march_start, march_start + timedelta(hours=1), None, clock.now(),
                      OFFER_SETTINGS)
    db.session.commit()
    login(client, trainer.user)
    home = text(client.get("/accueil"))
    listed = [int(i) for i in re.findall(r'id="proposition-(\d+)"', home)]
    assert listed == [january.assignments[0].id, march.assignments[0].id]


def test_an_unavailability_reads_as_entered_and_its_deletion_is_confirmed(app, client, clock):
    clock.freeze(datetime(2027, 5, 3, 8, 0, tzinfo=MONDAY_9.tzinfo))
    trainer = make_qualified_trainer()
    db.session.commit()
    login(client, trainer.user)
    page_url = "/formateurs/mes-disponibilites"
    added = post_form(client, page_url, {"exception-kind": "unavailable", "exception-start_day": "2027-05-31",
                                         "exception-end_day": "2027-06-04", "exception-reason": "Congés",
                                         "exception-submit_exception": "Ajouter"}, page=page_url)
    assert added.status_code == 302
    page = text(client.get(page_url))
    assert re.search(r"du 31 mai 2027 au 4 juin 2027 inclus", page)
    assert "5 juin" not in page and "00:00" not in page
    assert "du 31 mai 2027 au 4 juin 2027 inclus" in text(client.get("/accueil"))

    period = db.session.scalar(select(AvailabilityException))
    delete_url = f"/formateurs/mes-disponibilites/periodes/{period.id}/supprimer"
    assert f'href="{delete_url}"' in page, "Supprimer leads to a confirmation, it deletes nothing"
    confirmation = client.get(delete_url)
    assert confirmation.status_code == 200
    assert "Supprimer cette période ?" in text(confirmation) and "du 31 mai 2027 au 4 juin 2027 inclus" in \
        text(confirmation)
    assert db.session.scalar(select(func.count(AvailabilityException.id))) == 1
    assert client.post(delete_url, data={}).status_code == 400, "no token, no deletion"
    token = csrf_token_from(confirmation.get_data(as_text=True))
    assert client.post(delete_url, data={"csrf_token": token}).status_code == 302
    assert db.session.scalar(select(func.count(AvailabilityException.id))) == 0


def test_a_period_with_hours_keeps_them(app, client, clock):
    clock.freeze(datetime(2027, 5, 3, 8, 0, tzinfo=MONDAY_9.tzinfo))
    trainer = make_qualified_trainer()
    db.session.commit()
    login(client, trainer.user)
    page_url = "/formateurs/mes-disponibilites"
    post_form(client, page_url, {"exception-kind": "unavailable", "exception-start_day": "2027-06-07",
                                 "exception-start_time": "14:00", "exception-end_day": "2027-06-07",
                                 "exception-end_time": "17:30", "exception-submit_exception": "Ajouter"},
              page=page_url)
    assert re.search(r"le 7 juin 2027 de 14\s?h(00)? à 17\s?h\s?30", text(client.get(page_url)))


def test_a_coordinator_confirms_a_deletion_too(app, client, clock):
    clock.freeze(datetime(2027, 5, 3, 8, 0, tzinfo=MONDAY_9.tzinfo))
    trainer = make_qualified_trainer()
    coordinator = make_user(Role.COORDINATOR)
    coordinator.scopes = [CoordinatorScope(departement_code="69", force=Force.POLICE)]
    period = AvailabilityException(kind="unavailable", starts_at=datetime(2027, 5, 30, 22, 0, tzinfo=MONDAY_9.tzinfo),
                                   ends_at=datetime(2027, 6, 4, 22, 0, tzinfo=MONDAY_9.tzinfo))
    trainer.exceptions.append(period)
    db.session.commit()
    login(client, coordinator)
    delete_url = f"/formateurs/{trainer.id}/periodes/{period.id}/supprimer"
    confirmation = client.get(delete_url)
    assert "du 31 mai 2027 au 4 juin 2027 inclus" in text(confirmation), "whole days of Paris, inclusive"
    assert db.session.get(AvailabilityException, period.id) is not None



def test_the_offer_email_carries_the_remarks_too(app, client, clock):
    from app.models import OutgoingMessage
    from tests.factories import make_coordinator
    from tests.helpers import offer_by_coordinator

    intervention = make_session_in_planning(notes="Élèves de SEGPA : adapter le vocabulaire.",
                                            equipment="Tableau numérique")
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    assert offer_by_coordinator(client, intervention, trainer).status_code == 302
    body = db.session.scalar(select(OutgoingMessage.body_text).where(OutgoingMessage.recipient == trainer.user.email))
    assert "Remarques de l'établissement : Élèves de SEGPA : adapter le vocabulaire." in body
    assert "Matériel sur place : Tableau numérique" in body


def test_an_offer_past_its_deadline_leaves_the_trainer_s_home_before_the_expiry_job_runs(app, client, clock):
    """Between its deadline and the next `flask tick`, an offer is no longer « en attente de réponse » anywhere the
    trainer could act on it: their home's list of sessions to come drops it, as their offers do."""
    session_ = make_session_in_planning()
    trainer = make_qualified_trainer()
    assignment = offers.make_offer(db.session, session_, trainer, MONDAY_9, MONDAY_9 + timedelta(hours=1), None,
                                   clock.now(), OFFER_SETTINGS).notices[0].assignment
    db.session.commit()
    login(client, trainer.user)
    assert "proposition en attente de réponse" in text(client.get("/accueil"))
    clock.freeze(assignment.expires_at + timedelta(minutes=1))
    home = text(client.get("/accueil"))
    assert "proposition en attente de réponse" not in home and ">Accepter<" not in home
    assert db.session.get(Assignment, assignment.id).status is AssignmentStatus.OFFERED  # no job ran
