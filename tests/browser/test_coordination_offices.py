"""In Chromium, on the demo data: an administrator finds « Coordinations », sees where each territory's answers go,
sets the address of a territory answered by its coordinator, is told next to the field what is wrong (#19, point 6);
axe on each page, at desktop width and at 390 px. With RELAIS_SHOTS=<folder>, each page is saved as a screenshot at
both widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.domain.demo import DEMO_DEPARTEMENTS, DEMO_PASSWORD
from app.extensions import db
from app.models import CoordinationOffice, Force
from tests.browser.helpers import check_both_widths, log_in

pytestmark = pytest.mark.browser

ADMIN = "admin@relais.demo"
SECOND = DEMO_DEPARTEMENTS[1]  # its gendarmerie has no address in the demo: its coordinator answers

def test_an_admin_sets_the_address_of_a_territory_answered_by_its_coordinator(demo, page):
    log_in(page, ADMIN, DEMO_PASSWORD)
    page.get_by_role("link", name="Coordinations").first.click()
    page.wait_for_url("**/admin/coordinations")
    assert page.get_by_role("heading", level=1).inner_text() == "Adresses des coordinations"
    assert page.get_by_text("coordination-pfad-69@interieur.demo").count() == 1

    page.get_by_label("Département", exact=True).select_option(SECOND)
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(f"**/admin/coordinations?departement={SECOND}")
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    assert "faute d'adresse de la coordination" in rows.nth(1).inner_text()
    check_both_widths(page, "coordinations-departement")

    rows.nth(1).get_by_role("link", name="Modifier").click()
    page.wait_for_url(f"**/admin/coordinations/{SECOND}/gendarmerie")
    check_both_widths(page, "coordination-modifier")

    email = page.get_by_label("Adresse e-mail de la coordination")
    email.fill("frad-bouches-du-rhone")
    page.get_by_label("Nom affiché dans les agendas").fill("Coordination FRAD — Bouches-du-Rhône")
    email.press("Enter")
    expect(page.get_by_role("heading", name="Le formulaire contient 1 erreur")).to_be_visible()
    assert email.get_attribute("aria-invalid") == "true"
    assert "Adresse e-mail invalide." in page.locator("#email-erreur").inner_text()
    check_both_widths(page, "coordination-erreur")

    email.fill("coordination-frad-13@interieur.demo")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(f"**/admin/coordinations?departement={SECOND}")
    assert "Adresse de la coordination enregistrée" in page.get_by_role("status").inner_text()
    assert "coordination-frad-13@interieur.demo" in page.locator("tbody tr").nth(1).inner_text()
    check_both_widths(page, "coordinations-enregistre")

    page.goto("/admin/coordinations")
    check_both_widths(page, "coordinations-liste")
    office = db.session.scalar(select(CoordinationOffice).where(
        CoordinationOffice.departement_code == SECOND, CoordinationOffice.force == Force.GENDARMERIE))
    assert (office.email, office.display_name) == ("coordination-frad-13@interieur.demo",
                                                   "Coordination FRAD — Bouches-du-Rhône")
