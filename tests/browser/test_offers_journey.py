"""End to end in Chromium: a coordinator offers, a trainer declines, the offer cascades, the next trainer
accepts and the session is confirmed; then the coordinator plans the rest of the week and sends it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Assignment, AssignmentStatus, Force, Intervention, InterventionStatus
from tests.browser.helpers import assert_accessible, log_in
from tests.factories import PASSWORD, make_coordinator, make_qualified_trainer, make_session_in_planning

pytestmark = pytest.mark.browser


def as_user(browser, live_server, email: str):
    context = browser.new_context(base_url=live_server, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, email, PASSWORD)
    return page


def test_offer_decline_cascade_accept_then_plan_the_week(app, clock, browser, live_server, page):
    first_session = make_session_in_planning()
    later_sessions = [make_session_in_planning(), make_session_in_planning()]
    near, far = make_qualified_trainer(unit_km=1), make_qualified_trainer(unit_km=15)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()

    # The coordinator offers the first session to the best candidate.
    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/coordination/demandes/{first_session.request_id}")
    page.get_by_role("link", name=f"Formateurs possibles — {first_session.group_label}").click()
    page.wait_for_url("**/candidats")
    row = page.get_by_role("row").filter(has_text=near.full_name)
    assert row.get_by_label(f"Horaire pour {near.full_name}").is_visible()
    assert_accessible(page)
    row.get_by_role("button", name="Proposer").click()
    page.wait_for_url(f"**/coordination/demandes/{first_session.request_id}")
    assert f"Intervention proposée à {near.full_name}." in page.content()

    # The nearest trainer declines, with a reason: the offer passes to the next one.
    trainer_page = as_user(browser, live_server, near.user.email)
    assert trainer_page.get_by_role("heading", name="Propositions en attente de votre réponse").is_visible()
    assert_accessible(trainer_page)
    # No reason box beside "Accepter": "Décliner…" leads to a second step that asks for it.
    assert trainer_page.get_by_label("Motif du refus").count() == 0
    trainer_page.get_by_role("link", name="Décliner…").first.click()
    trainer_page.wait_for_url("**/decliner")
    assert_accessible(trainer_page)
    trainer_page.get_by_role("button", name="Décliner").click()
    expect(trainer_page.locator("body")).to_contain_text("Indiquez pourquoi vous déclinez.")
    trainer_page.get_by_label("Motif du refus").fill("Stage de tir ce jour-là")
    trainer_page.get_by_role("button", name="Décliner").click()
    trainer_page.wait_for_url("**/accueil")
    assert "Proposition déclinée" in trainer_page.content()
    assert "Aucune proposition en attente." in trainer_page.content()

    # The next trainer accepts: the session is confirmed.
    other_page = as_user(browser, live_server, far.user.email)
    other_page.get_by_role("button", name="Accepter").first.click()
    other_page.wait_for_url("**/accueil")
    assert "L'intervention est acceptée" in other_page.content()
    db.session.expire_all()
    assert db.session.get(Intervention, first_session.id).status is InterventionStatus.CONFIRMED

    # The coordinator sees it confirmed, then plans the rest of the week and sends the offers.
    page.goto(f"/coordination/demandes/{first_session.request_id}")
    assert "Confirmée" in page.content() and "a accepté" in page.content()
    page.get_by_role("link", name="Planification").click()
    page.get_by_label("Du").fill("2027-01-11")
    page.get_by_label("Au").fill("2027-01-15")
    page.get_by_label("Département").select_option("69")
    page.get_by_role("button", name="Calculer l'aperçu").click()
    expect(page.get_by_role("heading", name="Aperçu du plan")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Envoyer les propositions").click()
    page.wait_for_url("**/accueil")
    assert "2 propositions envoyées pour 2 interventions." in page.content()
    offered = db.session.scalars(select(Assignment).where(Assignment.status == AssignmentStatus.OFFERED)).all()
    assert sorted(a.intervention_id for a in offered) == sorted(s.id for s in later_sessions)
