"""A requester logs in, writes a request (with a mistake to correct), submits it; every page passes axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Force, InterventionRequest, RequestStatus, Role
from tests.browser.helpers import assert_accessible, log_in
from tests.factories import PASSWORD, make_coordinator, make_establishment, make_user

pytestmark = pytest.mark.browser


def test_requester_creates_and_submits_a_request(app, page, clock):
    establishment = make_establishment("69", force=Force.POLICE, name="Collège Jean-Moulin", phone="04 78 00 00 01")
    requester = make_user(Role.REQUESTER, establishment_id=establishment.id, full_name="Isabelle Lefèvre")
    make_coordinator("69", Force.POLICE)
    db.session.commit()

    log_in(page, requester.email, PASSWORD)
    assert_accessible(page)
    page.get_by_role("link", name="Demander une intervention").click()
    page.wait_for_url("**/demandes/nouvelle")
    assert page.locator("h1").inner_text() == "Nouvelle demande d'intervention"
    assert_accessible(page)

    page.get_by_label("Élèves de 4e").check()
    page.get_by_label("Cannabis").check()
    page.get_by_label("Protoxyde d'azote").check()
    page.get_by_label("Nombre de groupes").fill("3")
    page.get_by_label("Personnes par groupe").fill("28")
    page.locator("#windows-0-start_date").fill("2026-12-07")  # too soon: the form says so
    page.locator("#windows-0-end_date").fill("2026-12-11")
    page.locator("#windows-0-start_time").fill("08:00")
    page.locator("#windows-0-end_time").fill("12:00")
    page.get_by_role("button", name="Envoyer la demande").click()
    page.wait_for_load_state()
    error = page.locator("#windows-0-start_date-erreur")
    assert "Prévoyez un délai d'au moins 15 jours" in error.inner_text()
    assert page.locator("#windows-0-start_date").get_attribute("aria-invalid") == "true"
    assert_accessible(page)

    page.locator("#windows-0-start_date").fill("2027-01-11")
    page.locator("#windows-0-end_date").fill("2027-01-15")
    page.get_by_role("button", name="Envoyer la demande").click()
    page.wait_for_url("**/demandes/*")
    assert "Envoyée, en attente d'examen" in page.content()
    assert page.locator("h1").count() == 1
    assert_accessible(page)

    page.get_by_role("link", name="Accueil").click()
    expect(page.locator("body")).to_contain_text("Demandes récentes")
    assert_accessible(page)
    db.session.expire_all()
    item = db.session.scalar(select(InterventionRequest))
    assert item.status is RequestStatus.SUBMITTED and item.group_count == 3


def test_a_member_corrects_the_establishment_with_the_keyboard(app, page, clock):
    establishment = make_establishment("69", force=Force.POLICE, name="College Jean Moulin")
    requester = make_user(Role.REQUESTER, establishment_id=establishment.id, full_name="Isabelle Lefèvre")
    db.session.commit()

    log_in(page, requester.email, PASSWORD)
    page.goto(page.url.split("/accueil")[0] + "/etablissement/")
    page.get_by_role("link", name="Modifier les informations de l'établissement").click()
    page.wait_for_url("**/etablissement/modifier")
    assert_accessible(page)
    name = page.get_by_label("Nom de l'établissement")
    name.fill("")
    page.keyboard.press("Enter")  # submitted from the keyboard, with the name missing
    page.wait_for_load_state()
    assert "Indiquez le nom." in page.locator("#name-erreur").inner_text()
    assert name.get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    name.fill("Collège Jean-Moulin")
    page.get_by_label("Téléphone de l'établissement").fill("04 78 00 00 01")
    page.get_by_role("button", name="Enregistrer les modifications").press("Enter")
    page.wait_for_url("**/etablissement/")
    assert "Collège Jean-Moulin" in page.locator("h1").inner_text() and "04 78 00 00 01" in page.content()
    assert_accessible(page)
