"""The request form as a collège principal meets it: every error at once in a summary that takes the focus, Enter
sends, long texts counted and refused (never cut), weekends refused; the feedback page names its session."""

from __future__ import annotations

import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.clock import utcnow
from app.extensions import db
from app.models import Force, InterventionRequest, InterventionStatus, RequestStatus, Role
from tests.browser.helpers import assert_accessible, log_in
from tests.factories import PASSWORD, make_coordinator, make_establishment, make_request, make_user

pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir()) / "shots18" / "requester"


def shoot(page, name: str) -> None:
    """A full-page screenshot at desktop width and on a 390 px phone (for people to look at, not compared)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, suffix in ((1280, "desktop"), (390, "390")):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{suffix}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"{name}-390-first-screen.png"))  # what a phone shows first
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def principal(app, clock):
    establishment = make_establishment("69", force=Force.POLICE, name="Collège Jean-Moulin", phone="04 78 00 00 01")
    requester = make_user(Role.REQUESTER, establishment_id=establishment.id, full_name="Isabelle Lefèvre")
    make_coordinator("69", Force.POLICE)
    db.session.commit()
    return establishment, requester


def test_an_empty_send_lists_every_error_in_a_focused_summary(page, principal):
    _, requester = principal
    log_in(page, requester.email, PASSWORD)
    page.goto("/demandes/nouvelle")
    shoot(page, "form-new")
    page.get_by_role("button", name="Envoyer la demande").click()
    page.wait_for_load_state()
    summary = page.locator("#resume-erreurs")
    assert summary.get_by_role("heading").inner_text() == "Le formulaire contient 5 erreurs"
    assert page.evaluate("document.activeElement.id") == "resume-erreurs"
    assert summary.get_by_role("link").count() == 5
    assert_accessible(page)
    shoot(page, "form-errors")
    # Each link leads to its field, which takes the focus.
    summary.get_by_role("link", name="Nombre de groupes : Indiquez le nombre de groupes.").click()
    assert page.evaluate("document.activeElement.id") == "group_count"
    summary.get_by_role("link", name="Public concerné : Choisissez au moins un public.").click()
    assert page.evaluate("document.activeElement.id") == "audiences-0"
    assert db.session.scalar(select(InterventionRequest)) is None


def test_without_javascript_the_summary_still_takes_the_focus(browser, live_server, principal):
    _, requester = principal
    context = browser.new_context(base_url=live_server, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, requester.email, PASSWORD)
        page.goto("/demandes/nouvelle")
        page.get_by_role("button", name="Envoyer la demande").click()
        page.wait_for_load_state()
        assert page.evaluate("document.activeElement.id") == "resume-erreurs"  # autofocus
    finally:
        context.close()


def test_enter_in_a_text_field_sends_the_request(page, principal):
    _, requester = principal
    log_in(page, requester.email, PASSWORD)
    page.goto("/demandes/nouvelle")
    page.get_by_label("Élèves de 4e").check()
    page.get_by_label("Cannabis").check()
    page.get_by_label("Nombre de groupes").fill("2")
    page.locator("#windows-0-start_date").fill("2027-01-11")
    page.locator("#windows-0-end_date").fill("2027-01-15")
    page.locator("#windows-0-start_time").fill("08:00")
    page.locator("#windows-0-end_time").fill("12:00")
    people = page.get_by_label("Personnes par groupe")
    people.fill("26")
    people.press("Enter")  # not "Ajouter une période", the first button of the page
    page.wait_for_url(re.compile(r"/demandes/\d+$"))
    assert "Envoyée, en attente d'examen" in page.content()
    db.session.expire_all()
    item = db.session.scalar(select(InterventionRequest))
    assert item.status is RequestStatus.SUBMITTED and item.people_per_group == 26 and len(item.windows) == 1


def test_long_remarks_are_counted_refused_and_kept_and_weekends_refused(page, principal):
    _, requester = principal
    log_in(page, requester.email, PASSWORD)
    page.goto("/demandes/nouvelle")
    assert "4\u202f000 caractères au maximum." in page.locator("#notes-limite").inner_text()
    page.get_by_label("Élèves de 4e").check()
    page.get_by_label("Cannabis").check()
    page.get_by_label("Nombre de groupes").fill("1")
    page.get_by_label("Personnes par groupe").fill("26")
    page.locator("#windows-0-start_date").fill("2027-01-16")  # a Saturday and a Sunday
    page.locator("#windows-0-end_date").fill("2027-01-17")
    page.locator("#windows-0-start_time").fill("08:00")
    page.locator("#windows-0-end_time").fill("12:00")
    remarks = ("Les élèves ont déjà travaillé sur les écrans en 5e. " * 80)[:4000] + " Merci !"
    page.get_by_label("Remarques").fill(remarks)  # pasted: a maxlength attribute would have cut it here
    assert page.get_by_label("Remarques").input_value() == remarks
    page.locator("#notes-compte").filter(has_text="8 caractères de trop.").wait_for()
    assert_accessible(page)
    shoot(page, "form-counter")
    page.get_by_role("button", name="Envoyer la demande").click()
    page.wait_for_load_state()
    assert page.get_by_label("Remarques").input_value() == remarks  # nothing dropped
    assert "votre texte en compte 4\u202f008" in page.locator("#notes-erreur").inner_text()
    assert "l'établissement n'a pas cours le samedi" in page.locator("#windows-0-start_date-erreur").inner_text()
    assert page.locator("#resume-erreurs h2").inner_text() == "Le formulaire contient 2 erreurs"
    assert_accessible(page)
    shoot(page, "form-weekend-and-long-remarks")
    assert db.session.scalar(select(InterventionRequest)) is None


def test_the_feedback_page_names_its_session(page, principal):
    establishment, requester = principal
    item = make_request(establishment, requester, status="in_planning", group_count=2)
    session = item.interventions[1]
    session.status = InterventionStatus.CONFIRMED
    session.starts_at = utcnow().replace(hour=8, minute=0) - timedelta(days=3)
    session.ends_at = session.starts_at + timedelta(hours=2)
    db.session.commit()
    log_in(page, requester.email, PASSWORD)
    page.goto(f"/demandes/{item.id}/interventions/{session.id}/avis")
    heading = page.locator("h1").inner_text()
    assert heading.startswith("Votre avis sur l'intervention du ") and "27 novembre 2026" in heading
    details = page.locator("dl").inner_text()
    assert "Collège Jean-Moulin" in details and session.group_label in details
    assert_accessible(page)
    shoot(page, "feedback")
    page.get_by_role("button", name="Enregistrer mon avis").click()  # no mark chosen
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "resume-erreurs"
    assert_accessible(page)
    shoot(page, "feedback-errors")


def test_the_establishment_says_it_has_saturday_classes(page, principal):
    establishment, requester = principal
    log_in(page, requester.email, PASSWORD)
    page.goto("/etablissement/modifier")
    page.get_by_label("Des cours ou des activités ont lieu le samedi").check()
    assert_accessible(page)
    shoot(page, "establishment-edit")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    page.wait_for_url("**/etablissement/")
    assert_accessible(page)
    shoot(page, "establishment")
    db.session.refresh(establishment)
    assert establishment.saturday_classes
