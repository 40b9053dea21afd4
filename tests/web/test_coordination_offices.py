"""Answers reach a person (#19, point 6): the ORGANIZER of a session's invitations, and the Reply-To of its e-mails,
is the coordination of its département and force, which administrators set on « Coordinations »."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import getaddresses

import pytest
from sqlalchemy import select

from app.domain.clock import utcnow
from app.domain.coordination_offices import COORDINATOR, OFFICE, SENDER, answering, office_table, save_office
from app.domain.demo import DEMO_DEPARTEMENTS
from app.domain.mail import SmtpTransport, deliver_pending
from app.extensions import db
from app.models import CoordinationOffice, Departement, Force, Role, User
from tests.factories import (
    make_confirmed_session,
    make_coordinator,
    make_qualified_trainer,
    make_session_in_planning,
    make_user,
)
from tests.helpers import (
    calendars_of,
    csrf_token_from,
    login,
    offer_by_coordinator,
    post_form,
    switch_to,
    with_calendar,
)

SENDER_ADDRESS = "Relais <no-reply@relais.localhost>"
OFFICE_ADDRESS = "coordination-pfad-69@interieur.exemple.fr"
CONTACT = "vie.scolaire@college.example"
OFFICES = "/admin/coordinations"
RHONE_POLICE = "/admin/coordinations/69/police"


def deliver(smtp_server, clock) -> tuple[int, int]:
    return deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER_ADDRESS, clock.now())


def reply_to(message) -> list[str]:
    return [address for _, address in getaddresses(message.get_all("Reply-To", []))]


def table_of(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.index("<table"):html.index("</table>")]


def set_office(email: str, name: str = "") -> None:
    save_office(db.session, departement_code="69", force=Force.POLICE, email=email, display_name=name, actor=None,
                now=utcnow())
    db.session.commit()


def test_invitations_name_the_configured_office_as_organizer_and_reply_to(app, client, clock, smtp_server):
    set_office(OFFICE_ADDRESS, "Coordination PFAD du Rhône")
    intervention = make_session_in_planning(contact_email=CONTACT)
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    offer_by_coordinator(client, intervention, trainer, assign=True)

    assert deliver(smtp_server, clock) == (3, 0)
    invitations = calendars_of(smtp_server.handler.messages)
    assert [to for to, _, _ in invitations] == sorted([trainer.user.email, CONTACT])
    for _, _, calendar in invitations:
        [event] = calendar.walk("VEVENT")
        assert str(event["ORGANIZER"]) == f"mailto:{OFFICE_ADDRESS}"
        assert str(event["ORGANIZER"].params["CN"]) == "Coordination PFAD du Rhône"
    for message in with_calendar(smtp_server.handler.messages):
        assert reply_to(message) == [OFFICE_ADDRESS], "a reply by e-mail reaches the coordination too"
        assert message["From"] == SENDER_ADDRESS
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert "utilisez les boutons de votre agenda ou répondez à ce message" in text
        assert OFFICE_ADDRESS in text and "Coordination PFAD du Rhône" in text
        html = message.get_body(preferencelist=("html",)).get_content()
        assert OFFICE_ADDRESS in html
    # The author's notice is about the session too: a reply reaches the coordination.
    [notice] = [m for m in smtp_server.handler.messages if m not in with_calendar(smtp_server.handler.messages)]
    assert reply_to(notice) == [OFFICE_ADDRESS]


def test_without_an_office_the_first_active_coordinator_answers_else_nobody_pretends_to(app, clock, smtp_server):
    rhone = db.session.get(Departement, "69")
    inactive = make_coordinator("69", Force.POLICE, active=False)
    gendarmerie = make_coordinator("69", Force.GENDARMERIE)
    both_forces = make_coordinator("69", None)
    later = make_coordinator("69", Force.POLICE)
    assert inactive.id < gendarmerie.id < both_forces.id < later.id
    found = answering(db.session, rhone, Force.POLICE, SENDER_ADDRESS)
    assert (found.organizer.email, found.source) == (both_forces.email, COORDINATOR), "lowest id, active, in scope"
    assert found.organizer.name == "Coordination police nationale — 69 – Rhône"
    assert answering(db.session, rhone, Force.GENDARMERIE, SENDER_ADDRESS).organizer.email == gendarmerie.email
    ain = db.session.get(Departement, "01")
    nobody = answering(db.session, ain, Force.POLICE, SENDER_ADDRESS)
    assert (nobody.organizer.email, nobody.source) == ("no-reply@relais.localhost", SENDER)

    # An office set for the territory wins over the coordinators.
    set_office(OFFICE_ADDRESS)
    assert answering(db.session, rhone, Force.POLICE, SENDER_ADDRESS).source == OFFICE


def test_an_invitation_without_office_goes_to_the_territory_s_first_coordinator(app, client, clock, smtp_server):
    intervention = make_session_in_planning(contact_email=CONTACT)  # with a coordinator of the Rhône's police
    first = db.session.scalars(select(User).where(User.role == Role.COORDINATOR).order_by(User.id)).first()
    trainer = make_qualified_trainer()
    second = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, second)
    offer_by_coordinator(client, intervention, trainer, assign=True)
    deliver(smtp_server, clock)
    invitations = calendars_of(smtp_server.handler.messages)
    assert len(invitations) == 2
    for _, _, calendar in invitations:
        [event] = calendar.walk("VEVENT")
        assert str(event["ORGANIZER"]) == f"mailto:{first.email}"
    for message in with_calendar(smtp_server.handler.messages):
        assert reply_to(message) == [first.email]
        assert first.email in message.get_body(preferencelist=("plain",)).get_content()


def test_without_anyone_to_answer_no_reply_to_and_no_promise(app, clock, smtp_server):
    """Where nobody coordinates the territory, the e-mail neither sets a Reply-To nor says a reply is read."""
    from app.emails import queue_templated_email

    intervention = make_session_in_planning(contact_email=CONTACT)
    for coordinator in db.session.scalars(select(User).where(User.role == Role.COORDINATOR)):
        coordinator.active = False
    db.session.flush()
    with app.test_request_context():
        queue_templated_email(CONTACT, "calendar_invitation", "Invitation", kind="new", intervention=intervention,
                              reason=None, link="https://relais.example/x")
    db.session.commit()
    deliver(smtp_server, clock)
    [message] = smtp_server.handler.messages
    assert message["Reply-To"] is None
    assert "répondez à ce message" not in message.get_body(preferencelist=("plain",)).get_content()


# -- the administration page ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.TRAINER, Role.REQUESTER])
def test_only_admins_see_or_change_the_coordinations_addresses(app, client, role):
    person = make_coordinator("69", Force.POLICE) if role is Role.COORDINATOR else make_user(role)
    db.session.commit()
    login(client, person)
    assert client.get(OFFICES).status_code == 403
    assert client.get(RHONE_POLICE).status_code == 403
    token = csrf_token_from(client.get("/accueil").get_data(as_text=True))
    response = client.post(RHONE_POLICE, data={"email": "pirate@exemple.fr", "display_name": "", "csrf_token": token})
    assert response.status_code == 403
    assert db.session.scalar(select(CoordinationOffice)) is None


def test_an_admin_sets_changes_and_removes_an_address(app, client):
    make_coordinator("69", Force.POLICE, email="chef.pfad@interieur.exemple.fr")
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login(client, admin)
    page = table_of(client.get(OFFICES + "?departement=69"))
    assert "chef.pfad@interieur.exemple.fr" in page and "faute d'adresse de la coordination" in page
    assert "69 – Rhône" in page and "01 – Ain" not in page, "one département when one is chosen"
    assert "réponses perdues" in page, "the Rhône's gendarmerie has nobody"
    assert "01 – Ain" in table_of(client.get(OFFICES)) and "976 – Mayotte" in table_of(client.get(OFFICES))

    response = post_form(client, RHONE_POLICE, {"email": "  Coordination-PFAD-69@Interieur.Exemple.fr ",
                                                 "display_name": "Coordination PFAD <Rhône>"})
    assert response.status_code == 302 and response.headers["Location"].endswith(OFFICES + "?departement=69")
    office = db.session.scalar(select(CoordinationOffice))
    assert (office.departement_code, office.force, office.email, office.display_name, office.updated_by_id) == (
        "69", Force.POLICE, OFFICE_ADDRESS, "Coordination PFAD <Rhône>", admin.id)
    page = table_of(client.get(OFFICES + "?departement=69"))
    assert OFFICE_ADDRESS in page and "Coordination PFAD &lt;Rhône&gt;" in page, "typed text is escaped"
    form = client.get(RHONE_POLICE).get_data(as_text=True)
    assert f'value="{OFFICE_ADDRESS}"' in form and '<label class="form-label" for="email">' in form
    assert "Par défaut : « Coordination police nationale — 69 – Rhône »" in form

    post_form(client, RHONE_POLICE, {"email": "pfad69@interieur.exemple.fr", "display_name": ""})
    db.session.expire_all()
    assert [(o.email, o.display_name) for o in db.session.scalars(select(CoordinationOffice))] == [
        ("pfad69@interieur.exemple.fr", "")], "one address per territory, replaced"

    response = post_form(client, RHONE_POLICE, {"email": "", "display_name": ""})
    assert response.status_code == 302
    assert db.session.scalar(select(CoordinationOffice)) is None, "an empty address gives the coordinator back"
    assert client.get("/admin/coordinations/99/police").status_code == 404
    assert client.get("/admin/coordinations/69/douane").status_code == 404


def test_the_form_says_what_is_wrong_next_to_the_field(app, client):
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login(client, admin)
    app.config["MAIL_DEFAULT_SENDER"] = "Relais <ne-pas-repondre@relais.exemple.fr>"
    for data, message in [
        ({"email": "pas-une-adresse", "display_name": ""}, "Adresse e-mail invalide."),
        ({"email": "Ne-Pas-Repondre@relais.exemple.fr", "display_name": ""}, "que personne ne lit"),
    ]:
        response = post_form(client, RHONE_POLICE, data)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        error = re.search(r'<div id="email-erreur" class="invalid-feedback d-block">(.*?)</div>', html, re.S)
        assert error and message in error.group(1).replace("&#39;", "'")
        assert 'aria-invalid="true"' in html and "resume-erreurs" in html
    response = post_form(client, RHONE_POLICE, {"email": OFFICE_ADDRESS, "display_name": "x" * 121})
    assert response.status_code == 200 and 'id="display_name-erreur"' in response.get_data(as_text=True)
    response = client.post(RHONE_POLICE, data={"email": OFFICE_ADDRESS, "display_name": ""})  # no CSRF token
    assert response.status_code in (200, 400)
    assert db.session.scalar(select(CoordinationOffice)) is None


# -- the feeds -------------------------------------------------------------------------------------------


def test_the_cached_feed_event_names_the_new_office_at_once(app, client, clock):
    from tests.web.test_calendars import events, feed_url_of

    intervention, trainer, _ = make_confirmed_session()
    login(client, trainer.user)
    url = feed_url_of(client)
    reader = app.test_client()
    first = reader.get(url)
    before = str(events(first)[intervention.ical_uid]["ORGANIZER"])
    assert before != f"mailto:{OFFICE_ADDRESS}"
    assert reader.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304, "cached"

    clock.advance(timedelta(minutes=5))
    admin = make_user(Role.ADMIN)
    db.session.commit()
    switch_to(client, admin)
    assert post_form(client, RHONE_POLICE, {"email": OFFICE_ADDRESS, "display_name": ""}).status_code == 302

    changed = reader.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200, "the feed's tag changes with the organizer"
    event = events(changed)[intervention.ical_uid]
    assert str(event["ORGANIZER"]) == f"mailto:{OFFICE_ADDRESS}"
    assert event["SEQUENCE"] == 1, "not a reschedule: the sequence stays"


def test_the_demo_shows_offices_set_and_one_territory_answered_by_its_coordinator(app, clock):
    from tests.factories import load_demo_data

    load_demo_data(7, clock.now().date())
    sender = app.config["MAIL_DEFAULT_SENDER"]
    offices = db.session.scalars(select(CoordinationOffice)).all()
    assert ("69", Force.POLICE, "coordination-pfad-69@interieur.demo") in {
        (o.departement_code, o.force, o.email) for o in offices}
    sources = {(row.departement_code, row.force): row.answering.source
               for row in office_table(db.session, sender) if row.departement_code in DEMO_DEPARTEMENTS}
    assert set(sources.values()) == {OFFICE, COORDINATOR}
    assert sources[(DEMO_DEPARTEMENTS[1], Force.GENDARMERIE)] == COORDINATOR


def test_a_territory_is_looked_up_once_per_build_and_anew_after_a_change(app, clock):
    """A feed asks for the organizer of each of its sessions: one territory costs its queries once, until the
    session writes something (a coordinator leaves) or its transaction ends."""
    from app.invitations import organizer_for
    from tests.helpers import count_queries

    intervention = make_session_in_planning()
    coordinators = db.session.scalars(select(User).where(User.role == Role.COORDINATOR).order_by(User.id)).all()
    coordinator = coordinators[0]
    db.session.commit()
    assert organizer_for(intervention).email == coordinator.email
    with count_queries() as statements:
        for _ in range(50):
            assert organizer_for(intervention).email == coordinator.email
    assert statements == []
    for someone in coordinators:
        someone.active = False
    db.session.flush()
    assert organizer_for(intervention).email == "no-reply@relais.localhost"
    set_office(OFFICE_ADDRESS)
    assert organizer_for(intervention).email == OFFICE_ADDRESS
