"""In Chromium: a trainer files the report of a past session; the coordinator's dashboard counts it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import InterventionStatus
from tests.browser.helpers import assert_accessible, log_in
from tests.factories import PASSWORD, make_confirmed_session

pytestmark = pytest.mark.browser


def people_reached(page) -> str:
    page.wait_for_load_state()
    return page.get_by_role("row", name="Personnes touchées").get_by_role("cell").inner_text()


def test_trainer_reports_and_the_dashboard_follows(app, clock, browser, live_server, page):
    intervention, trainer, coordinator = make_confirmed_session()
    clock.freeze(intervention.ends_at + timedelta(hours=3))

    log_in(page, coordinator.email, PASSWORD)
    page.get_by_role("link", name="Statistiques").click()
    page.get_by_label("Du", exact=True).fill("2027-01-01")
    page.get_by_label("Au", exact=True).fill("2027-01-31")
    page.get_by_role("button", name="Afficher").click()
    assert people_reached(page) == "0"
    assert_accessible(page)

    trainer_context = browser.new_context(base_url=live_server, locale="fr-FR")
    trainer_page = trainer_context.new_page()
    log_in(trainer_page, trainer.user.email, PASSWORD)
    trainer_page.get_by_role("link", name=intervention.request.establishment.name).click()
    assert_accessible(trainer_page)
    trainer_page.get_by_label("Oui").check()
    trainer_page.get_by_label("Nombre de personnes présentes").fill("27")
    trainer_page.get_by_label("dont élèves ou étudiants").fill("25")
    trainer_page.get_by_label("dont personnels").fill("1")
    trainer_page.get_by_role("button", name="Enregistrer le compte rendu").click()
    # The breakdown is checked next to the field.
    expect(trainer_page.locator("body")).to_contain_text("doivent faire 27 au total")
    trainer_page.get_by_label("dont personnels").fill("2")
    trainer_page.get_by_role("button", name="Enregistrer le compte rendu").click()
    trainer_page.wait_for_url(f"**/formateurs/mes-interventions/{intervention.id}")
    expect(trainer_page.locator("body")).to_contain_text("Compte rendu enregistré")
    trainer_context.close()

    db.session.expire_all()
    assert intervention.status is InterventionStatus.DONE
    page.reload()
    assert people_reached(page) == "27"
