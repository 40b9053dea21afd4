"""« Mes données » and the legal pages in a real browser (issue #21): axe-core finds nothing serious at a desktop's
width and a phone's, and the footer of every page leads to the legal pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.helpers import check_both_widths, log_in
from tests.factories import MONDAY_9, PASSWORD, make_assigned_session, make_coordinator, make_trainer

pytestmark = pytest.mark.browser


def test_my_data_page_is_accessible_and_downloads(app, page, clock):
    trainer = make_trainer()
    make_coordinator("69")
    for day in range(2):
        make_assigned_session(trainer, MONDAY_9 + timedelta(days=day))
    db.session.commit()
    log_in(page, trainer.user.email, PASSWORD)
    page.get_by_role("contentinfo").get_by_role("link", name="Mes données").click()
    page.wait_for_url("**/compte/mes-donnees")
    assert page.get_by_role("heading", name="Ma fiche de formateur").is_visible()
    check_both_widths(page, "mes-donnees")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger mes données (JSON)").click()
    assert download.value.suggested_filename.endswith(".json")
    page.get_by_role("link", name="Demander une correction").first.click()
    page.get_by_label("Ce qui est inexact ou incomplet, et la correction demandée").fill("Mon grade a changé.")
    check_both_widths(page, "mes-donnees-correction")
    page.get_by_role("button", name="Envoyer la demande de correction").click()
    page.wait_for_url("**/compte/mes-donnees")
    assert page.get_by_text("Votre demande de correction est envoyée").is_visible()


def test_the_legal_pages_are_accessible_from_the_footer(app, page):
    page.goto("/compte/connexion")
    for name, heading in (("Mentions légales", "Mentions légales"), ("Données personnelles", "Données personnelles"),
                          ("Accessibilité : partiellement conforme", "Déclaration d'accessibilité")):
        page.get_by_role("contentinfo").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        check_both_widths(page, heading)


def test_the_retention_and_departure_forms_are_accessible(app, page, clock):
    from app.models import Role
    from tests.factories import make_user

    admin = make_user(Role.ADMIN)
    trainer = make_trainer()
    db.session.commit()
    log_in(page, admin.email, PASSWORD)
    page.goto("/admin/conservation")
    page.get_by_label("Comptes inutilisés avant désactivation (en mois)").fill("0")
    page.get_by_role("button", name="Enregistrer les durées").click()
    expect(page.get_by_text("Entre 1 et 360.").first).to_be_visible()
    check_both_widths(page, "durees-de-conservation")
    page.goto(f"/formateurs/{trainer.id}/depart")
    check_both_widths(page, "depart-formateur")
