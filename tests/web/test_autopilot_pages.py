"""The autopilot's pages (issue #20): each scope's mode chosen by its coordinators, the coordinator's home (what
Relais did since the last visit, the proposal sent in one click, the sessions it could not serve), and the reason
on the request's page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.domain import autopilot
from app.domain.autopilot import AutopilotSettings, plan_scope, set_mode
from app.extensions import db
from app.models import (
    Assignment,
    AssignmentStatus,
    AutopilotMode,
    AutopilotProposal,
    Force,
    HomeVisit,
)
from app.unit_of_work import run
from tests.factories import make_coordinator, make_establishment, make_qualified_trainer, make_request
from tests.helpers import csrf_token_from, post_form

SETTINGS = AutopilotSettings()
SCOPE = ("69", Force.POLICE)


def a_session(**extra):
    establishment = make_establishment("69", force=Force.POLICE, name="Collège Jean Moulin")
    return make_request(establishment, status="in_planning", group_count=1, **extra).interventions[0]


def test_a_coordinator_chooses_the_mode_of_their_scope(app, client, logged_in, clock):
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    logged_in(coordinator)
    page = client.get("/pilote-automatique/").get_data(as_text=True)
    assert "69 – Rhône, Police nationale" in page and 'value="proposed" aria-describedby' in page
    assert "(par défaut)" in page and "Relais envoie lui-même les propositions" in page
    response = post_form(client, "/pilote-automatique/69/police", {"69-police-mode": "automatic"},
                         page="/pilote-automatique/")
    assert response.status_code == 302
    assert autopilot.mode_of(db.session, "69", Force.POLICE) is AutopilotMode.AUTOMATIC
    assert "Mode « Automatique » enregistré" in client.get("/pilote-automatique/").get_data(as_text=True)
    # No mode chosen: the form says so next to the field.
    response = post_form(client, "/pilote-automatique/69/police", {}, page="/pilote-automatique/")
    assert response.status_code == 400 and "Choisissez un mode." in response.get_data(as_text=True)


def test_another_scope_and_other_roles_may_not_choose(app, client, logged_in):
    coordinator = make_coordinator("69", Force.POLICE)
    trainer = make_qualified_trainer()
    db.session.commit()
    logged_in(coordinator)
    page = client.get("/pilote-automatique/").get_data(as_text=True)
    token = csrf_token_from(page)
    assert client.post("/pilote-automatique/69/gendarmerie", data={"69-gendarmerie-mode": "automatic",
                                                                   "csrf_token": token}).status_code == 404
    assert client.post("/pilote-automatique/13/police", data={"13-police-mode": "automatic",
                                                              "csrf_token": token}).status_code == 404
    assert client.post("/pilote-automatique/69/police", data={"69-police-mode": "automatic"}).status_code == 400
    assert autopilot.mode_of(db.session, "69", Force.GENDARMERIE) is AutopilotMode.PROPOSED
    client.post("/compte/deconnexion", data={"csrf_token": token})
    logged_in(trainer.user)
    assert client.get("/pilote-automatique/").status_code == 403


def test_the_home_shows_the_proposal_sent_in_one_click(app, client, logged_in, clock):
    now = clock.now()
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    session_ = a_session()
    db.session.commit()
    run(lambda: plan_scope(db.session, SCOPE, now, SETTINGS))
    logged_in(coordinator)
    page = client.get("/accueil").get_data(as_text=True)
    assert "Relais propose 1 offre — 69 – Rhône, Police nationale" in page
    assert trainer.full_name in page and "Collège Jean Moulin" in page
    proposal = db.session.scalar(select(AutopilotProposal))
    response = client.post(f"/pilote-automatique/propositions/{proposal.id}/envoyer",
                           data={"csrf_token": csrf_token_from(page), "fingerprint": proposal.fingerprint})
    assert response.status_code == 302
    offer = db.session.scalar(select(Assignment).where(Assignment.intervention_id == session_.id))
    assert offer.status is AssignmentStatus.OFFERED and offer.offered_by_id == coordinator.id
    assert "1 proposition envoyée pour 1 intervention." in client.get("/accueil").get_data(as_text=True)
    # Sent again (a second tab): nothing more, said.
    again = client.post(f"/pilote-automatique/propositions/{proposal.id}/envoyer",
                        data={"csrf_token": csrf_token_from(page), "fingerprint": proposal.fingerprint})
    assert again.status_code == 404


def test_a_proposal_of_another_scope_is_not_found(app, client, logged_in, clock):
    make_qualified_trainer()
    a_session()
    other = make_coordinator("13", Force.POLICE)
    db.session.commit()
    run(lambda: plan_scope(db.session, SCOPE, clock.now(), SETTINGS))
    proposal = db.session.scalar(select(AutopilotProposal))
    logged_in(other)
    page = client.get("/accueil").get_data(as_text=True)
    assert "Relais propose" not in page
    response = client.post(f"/pilote-automatique/propositions/{proposal.id}/envoyer",
                           data={"csrf_token": csrf_token_from(page), "fingerprint": proposal.fingerprint})
    assert response.status_code == 404
    assert db.session.scalar(select(Assignment)) is None


def test_the_home_says_what_relais_did_since_the_last_visit(app, client, logged_in, clock):
    now = clock.now()
    make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    set_mode(db.session, "69", Force.POLICE, AutopilotMode.AUTOMATIC, coordinator, now)
    a_session()
    unserved = a_session(topics=("alcool",))
    db.session.commit()
    logged_in(coordinator)
    assert "0 proposition envoyée par Relais" in client.get("/accueil").get_data(as_text=True)
    visit = db.session.get(HomeVisit, coordinator.id)
    assert visit.seen_at == now
    run(lambda: plan_scope(db.session, SCOPE, now + timedelta(hours=1), SETTINGS))
    clock.freeze(now + timedelta(hours=3))
    page = client.get("/accueil").get_data(as_text=True)
    assert "1 proposition envoyée par Relais" in page
    assert "Interventions que Relais n'a pas pu proposer" in page
    assert "Aucun formateur ne remplit toutes les règles" in page
    # The request's page says why too; its history says « Relais ».
    show = client.get(f"/coordination/demandes/{unserved.request_id}").get_data(as_text=True)
    assert "Relais n'a pas pu proposer cette intervention" in show
    assert "Relais n&#39;a pas pu proposer l&#39;intervention" in show
    # Seen again within the hour: the same visit, the same summary; hours later, a new one from then.
    clock.freeze(now + timedelta(hours=3, minutes=10))
    assert "1 proposition envoyée par Relais" in client.get("/accueil").get_data(as_text=True)
    clock.freeze(now + timedelta(hours=6))
    assert "0 proposition envoyée par Relais" in client.get("/accueil").get_data(as_text=True)


def test_sessions_relais_could_not_offer_are_listed_soonest_first_with_their_days(app, client, logged_in, clock):
    """Two sessions nobody may give: the one asked for in February, entered first, comes after the one asked for
    in January; each row says the days possible (two requests of one school would otherwise read the same)."""
    from datetime import date

    from app.models import Intervention

    now = clock.now()
    coordinator = make_coordinator("69", Force.POLICE)
    set_mode(db.session, "69", Force.POLICE, AutopilotMode.AUTOMATIC, coordinator, now)
    later = a_session(topics=("alcool",), start=date(2027, 2, 1))
    sooner = a_session(topics=("alcool",), start=date(2027, 1, 11))
    db.session.commit()
    run(lambda: plan_scope(db.session, SCOPE, now, SETTINGS))
    summary = autopilot.home_summary(db.session, coordinator, now, Intervention.id.is_not(None))
    assert [i.id for i, _reason in summary.unserved] == [sooner.id, later.id]
    logged_in(coordinator)
    page = client.get("/accueil").get_data(as_text=True)
    assert "Date ou disponibilités" in page
    assert page.index("11/01/2027 – 15/01/2027") < page.index("01/02/2027 – 05/02/2027")
    # Each row's link names its request: two links read aloud the same would go to two sessions.
    assert f"Groupe 1, demande n° {sooner.request_id}</span>" in page


def test_an_admin_finds_the_modes_of_a_departement_from_their_home(app, client, logged_in):
    from app.models import Role
    from tests.factories import make_user

    admin = make_user(Role.ADMIN)
    db.session.commit()
    logged_in(admin)
    assert "/pilote-automatique/" in client.get("/accueil").get_data(as_text=True)
    assert "Choisissez un département pour voir" in client.get("/pilote-automatique/").get_data(as_text=True)
    page = client.get("/pilote-automatique/?departement=13").get_data(as_text=True)
    assert "13 – Bouches-du-Rhône, Police nationale" in page and "Gendarmerie nationale" in page
    response = post_form(client, "/pilote-automatique/13/gendarmerie", {"13-gendarmerie-mode": "manual"},
                         page="/pilote-automatique/?departement=13")
    assert response.status_code == 302 and response.location.endswith("/pilote-automatique/?departement=13")
    assert autopilot.mode_of(db.session, "13", Force.GENDARMERIE) is AutopilotMode.MANUAL


def test_a_pair_short_of_a_trainer_is_on_the_home_and_its_page_says_relais_could_not_complete_it(
        app, client, logged_in, clock):
    from app.domain import offers

    now = clock.now()
    first, _ = make_qualified_trainer(), make_qualified_trainer(unit_km=2)
    coordinator = make_coordinator("69", Force.POLICE)
    set_mode(db.session, "69", Force.POLICE, AutopilotMode.AUTOMATIC, coordinator, now)
    pair = a_session()
    pair.trainers_needed = 2
    db.session.commit()
    run(lambda: plan_scope(db.session, SCOPE, now, SETTINGS))
    declined = db.session.scalar(select(Assignment).where(Assignment.trainer_id == first.id))
    run(lambda: offers.decline_offer(db.session, declined, "Indisponible", now + timedelta(hours=1), SETTINGS.offers))
    run(lambda: plan_scope(db.session, SCOPE, now + timedelta(hours=2), SETTINGS))
    logged_in(coordinator)
    home = client.get("/accueil").get_data(as_text=True)
    assert "Il manque un formateur : aucun autre ne peut venir à l&#39;horaire déjà accepté." in home
    show = client.get(f"/coordination/demandes/{pair.request_id}").get_data(as_text=True)
    assert "Relais n'a pas pu compléter cette intervention :" in show
    assert "Relais n'a pas pu proposer cette intervention" not in show
