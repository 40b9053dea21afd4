"""Reports say explicitly whether the session was held; the coordination reads and corrects them, with their
history (issue #18)."""

from __future__ import annotations

import html as html_module
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Force, InterventionStatus, ReportCorrection, RequestEvent, Role, SessionReport
from tests.factories import make_confirmed_session, make_coordinator, make_user
from tests.helpers import login, post_form, switch_to

HELD = {"held": "oui", "people_present": "26", "pupils": "24", "staff": "2", "topics": ["cannabis"],
        "remarks": "Classe très participative"}


def text(response) -> str:
    return html_module.unescape(response.get_data(as_text=True))


def reports_count() -> int:
    return db.session.scalar(select(func.count(SessionReport.id)))


def filed_session(client, clock, form=HELD):
    intervention, trainer, coordinator = make_confirmed_session()
    clock.freeze(intervention.ends_at + timedelta(hours=2))
    login(client, trainer.user)
    assert post_form(client, f"/comptes-rendus/interventions/{intervention.id}", form).status_code == 302
    db.session.expire_all()
    return intervention, trainer, coordinator, db.session.scalar(select(SessionReport))


def test_an_empty_report_sent_with_enter_saves_nothing_and_says_why_in_french(app, client, clock):
    intervention, trainer, _ = make_confirmed_session()
    clock.freeze(intervention.ends_at + timedelta(hours=2))
    login(client, trainer.user)
    url = f"/comptes-rendus/interventions/{intervention.id}"
    page = text(client.get(url))
    assert 'checked' not in page.split('name="held"')[1].split(">")[0], "no answer chosen in advance"
    # Enter in the first field sends the form as it is: the token, and the topics the request asked for.
    empty = post_form(client, url, {"topics": ["cannabis"]})
    html = text(empty)
    assert empty.status_code == 400
    assert "Indiquez si l'intervention a eu lieu : oui ou non." in html
    assert "Rien n'est enregistré" in html
    assert reports_count() == 0
    db.session.expire_all()
    assert intervention.status is InterventionStatus.CONFIRMED


def test_held_needs_the_people_and_not_held_a_listed_reason(app, client, clock):
    intervention, trainer, _ = make_confirmed_session()
    clock.freeze(intervention.ends_at + timedelta(hours=2))
    login(client, trainer.user)
    url = f"/comptes-rendus/interventions/{intervention.id}"
    held = post_form(client, url, {"held": "oui", "topics": ["cannabis"]})
    assert held.status_code == 400 and "Indiquez le nombre de personnes présentes." in text(held)
    not_held = post_form(client, url, {"held": "non", "not_held_reason": "Grève"})
    assert not_held.status_code == 400 and "Choisissez pourquoi l'intervention n'a pas eu lieu." in text(not_held)
    bogus = post_form(client, url, {"held": "non", "not_held_code": "none"})
    assert bogus.status_code == 400
    assert reports_count() == 0

    assert post_form(client, url, {"held": "non", "not_held_code": "event", "not_held_reason": "Grève des transports"}
                     ).status_code == 302
    report = db.session.scalar(select(SessionReport))
    assert (report.held, report.not_held_code, report.not_held_reason) == (False, "event", "Grève des transports")
    db.session.expire_all()
    assert intervention.status is InterventionStatus.NOT_HELD


def test_the_coordination_lists_reads_and_corrects_a_report_with_its_history(app, client, clock):
    intervention, trainer, coordinator, report = filed_session(client, clock)
    switch_to(client, coordinator)
    listing = text(client.get("/comptes-rendus/"))
    assert f"/comptes-rendus/{report.id}" in listing and trainer.full_name in listing
    shown = text(client.get(f"/comptes-rendus/{report.id}"))
    assert "Aucune correction depuis le dépôt." in shown and "Classe très participative" in shown

    # Locked for the trainer long ago: the coordination still corrects it.
    clock.advance(timedelta(days=45))
    url = f"/comptes-rendus/{report.id}/corriger"
    form = text(client.get(url))
    assert 'value="26"' in form, "the form starts from the report"
    assert post_form(client, url, {**HELD, "held": ""}).status_code == 400, "the same rules as the trainer's"
    corrected = post_form(client, url, {**HELD, "people_present": "28", "pupils": "26"})
    assert corrected.status_code == 302
    db.session.expire_all()
    assert (report.people_present, report.pupils) == (28, 26)
    assert intervention.people_reached == 28, "the statistics follow the correction"
    changes = db.session.scalars(select(ReportCorrection).order_by(ReportCorrection.field)).all()
    assert [(c.field, c.old_value, c.new_value, c.actor_id) for c in changes] == [
        ("people_present", "26", "28", coordinator.id), ("pupils", "24", "26", coordinator.id)]
    history = text(client.get(f"/comptes-rendus/{report.id}"))
    assert coordinator.full_name in history and "Personnes présentes" in history
    assert db.session.scalar(select(RequestEvent).where(RequestEvent.kind == "report_corrected")) is not None

    # Not held after all: the session follows, and the history says what changed.
    assert post_form(client, url, {"held": "non", "not_held_code": "establishment_cancelled"}).status_code == 302
    db.session.expire_all()
    assert intervention.status is InterventionStatus.NOT_HELD and intervention.people_reached is None
    history = text(client.get(f"/comptes-rendus/{report.id}"))
    assert "Annulée par l'établissement" in history


def test_reports_outside_the_scope_are_not_found(app, client, clock):
    _, _, _, report = filed_session(client, clock)
    elsewhere = make_coordinator("13", Force.GENDARMERIE)
    other_force = make_coordinator("69", Force.GENDARMERIE)
    db.session.commit()
    for coordinator in (elsewhere, other_force):
        switch_to(client, coordinator)
        assert client.get(f"/comptes-rendus/{report.id}").status_code == 404
        assert client.get(f"/comptes-rendus/{report.id}/corriger").status_code == 404
        assert f"/comptes-rendus/{report.id}" not in text(client.get("/comptes-rendus/"))
    requester = make_user(Role.REQUESTER)
    db.session.commit()
    switch_to(client, requester)
    assert client.get("/comptes-rendus/").status_code == 403



def test_the_request_page_names_the_reason_and_leads_to_the_report(app, client, clock):
    intervention, _, coordinator, report = filed_session(
        client, clock, {"held": "non", "not_held_code": "audience_absent", "not_held_reason": "Sortie au musée"})
    switch_to(client, coordinator)
    page = text(client.get(f"/coordination/demandes/{intervention.request_id}"))
    assert "non tenue — Public absent (sortie, examen, classe libérée…) (Sortie au musée)" in page
    assert "None" not in page and f'href="/comptes-rendus/{report.id}"' in page
