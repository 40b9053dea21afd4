"""« Mon agenda »: connecting one's own CalDAV calendar from the page (#19), against a real Radicale on loopback."""

from __future__ import annotations

from sqlalchemy import func, select

from app.domain import caldav_push
from app.domain.clock import utcnow
from app.extensions import db
from app.models import CalendarConnection, CalendarPush, PushStatus
from tests.factories import make_confirmed_session, make_coordinator, make_qualified_trainer
from tests.helpers import csrf_token_from, post_form
from tests.radicale import PASSWORD, USER

PAGE = "/calendrier/"


def form_data(server, **changes):
    return {"server_url": server.url, "username": USER, "password": PASSWORD, **changes}


def test_a_trainer_connects_their_calendar_and_their_sessions_go_in(app, clock, logged_in, radicale):
    radicale.make_calendar(name="Mon travail")
    intervention, trainer, _ = make_confirmed_session()
    client = logged_in(trainer.user)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'for="server_url"' in page and 'for="password"' in page and "mot de passe d'application" in page.lower()
    response = post_form(client, f"{PAGE}caldav", form_data(radicale), page=PAGE)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mon travail" in page and "connecté" in page and PASSWORD not in page
    assert "Déconnecter cet agenda" in page
    # The session already confirmed is queued at once, and written by the worker.
    row = db.session.scalar(select(CalendarPush))
    assert (row.intervention_id, row.status) == (intervention.id, PushStatus.PENDING)
    assert caldav_push.push_due(db.session, utcnow(), caldav_push.keys_from(app.config), timeout=5).written == 1
    assert intervention.ical_uid in radicale.events()
    page = client.get(PAGE).get_data(as_text=True)
    assert "Dernière inscription réussie" in page and "aucune pour l'instant" not in page


def test_a_refusal_is_shown_next_to_its_field_and_the_password_never_comes_back(app, clock, logged_in,
                                                                                 radicale):
    radicale.make_calendar()
    trainer = make_qualified_trainer()
    client = logged_in(trainer.user)
    response = post_form(client, f"{PAGE}caldav", form_data(radicale, password="Faux-Secret-7781"), page=PAGE)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="password-erreur"' in page and "refuse cet identifiant" in page
    assert 'aria-invalid="true"' in page and "Faux-Secret-7781" not in page
    assert radicale.url in page  # the address typed stays, to be corrected
    response = post_form(client, f"{PAGE}caldav", form_data(radicale, server_url="agenda.exemple.fr"), page=PAGE)
    assert 'id="server_url-erreur"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CalendarConnection.id))) == 0


def test_disconnecting_forgets_the_connection(app, clock, logged_in, radicale):
    radicale.make_calendar()
    trainer = make_qualified_trainer()
    client = logged_in(trainer.user)
    post_form(client, f"{PAGE}caldav", form_data(radicale), page=PAGE)
    assert db.session.scalar(select(func.count(CalendarConnection.id))) == 1
    # Without its token, nothing happens.
    client.post(f"{PAGE}caldav/deconnecter")
    assert db.session.scalar(select(func.count(CalendarConnection.id))) == 1
    response = post_form(client, f"{PAGE}caldav/deconnecter", {}, page=PAGE)
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(CalendarConnection.id))) == 0
    assert "Connecter mon agenda" in client.get(PAGE).get_data(as_text=True)


def test_connecting_needs_the_token(app, clock, logged_in, radicale):
    radicale.make_calendar()
    trainer = make_qualified_trainer()
    client = logged_in(trainer.user)
    response = client.post(f"{PAGE}caldav", data=form_data(radicale))
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(CalendarConnection.id))) == 0


def test_coordinators_see_no_calendar_to_connect_and_may_not_post(app, clock, logged_in):
    coordinator = make_coordinator("69")
    client = logged_in(coordinator)
    page = client.get(PAGE).get_data(as_text=True)
    assert "CalDAV" not in page
    token = csrf_token_from(page)
    assert client.post(f"{PAGE}caldav", data={"csrf_token": token}).status_code == 403
    assert client.post(f"{PAGE}caldav/deconnecter", data={"csrf_token": token}).status_code == 403


def test_a_broken_connection_and_a_conflict_are_shown_with_a_way_out(app, clock, logged_in, radicale):
    radicale.make_calendar()
    intervention, trainer, _ = make_confirmed_session()
    client = logged_in(trainer.user)
    post_form(client, f"{PAGE}caldav", form_data(radicale), page=PAGE)
    row = db.session.scalar(select(CalendarPush))
    row.status = PushStatus.CONFLICT
    connection = db.session.scalar(select(CalendarConnection))
    connection.last_error, connection.last_error_at = "conflict", utcnow()
    db.session.commit()
    page = client.get(PAGE).get_data(as_text=True)
    assert "modifiée (ou supprimée) dans votre agenda" in page and "Remplacer par la version de Relais" in page
    response = post_form(client, f"{PAGE}caldav/remplacer/{row.id}", {}, page=PAGE)
    assert response.status_code == 302
    db.session.refresh(row)
    assert (row.status, row.forced) == (PushStatus.PENDING, True)


def test_a_cancelled_session_changed_in_the_calendar_is_offered_for_removal(app, clock, logged_in, radicale):
    radicale.make_calendar()
    intervention, trainer, _ = make_confirmed_session()
    client = logged_in(trainer.user)
    post_form(client, f"{PAGE}caldav", form_data(radicale), page=PAGE)
    row = db.session.scalar(select(CalendarPush))
    row.status, row.action, row.calendar = PushStatus.CONFLICT, "delete", None
    db.session.commit()
    page = client.get(PAGE).get_data(as_text=True)
    assert "Relais ne l'en a pas retirée" in page and "La retirer de mon agenda" in page
