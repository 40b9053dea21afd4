"""In Chromium, on the demo data: the Rhône's police coordinator finds on their home what Relais did since their last
visit, the offers it proposes and the session it could not serve, sends the proposal in one click, then sets their
scope's mode to automatic (issue #20); axe on each page, at desktop width and at 390 px. With RELAIS_SHOTS=<folder>,
each page is saved as a screenshot at both widths."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain import autopilot
from app.domain.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import AutopilotMode, AutopilotProposal, Force
from tests.browser.helpers import check_both_widths, log_in

pytestmark = pytest.mark.browser

COORDINATOR = "coordination.police.69@relais.demo"

def test_a_coordinator_sends_the_proposal_then_lets_relais_send_the_offers(demo, page):
    proposal = db.session.scalar(select(AutopilotProposal))
    offers, sessions = len(proposal.items), len({item.intervention_id for item in proposal.items})
    assert offers >= 2
    log_in(page, COORDINATOR, DEMO_PASSWORD)
    section = page.locator("section[aria-labelledby=pilote-automatique]")
    assert f"Relais propose {offers} offres — 69 – Rhône, Police nationale" in section.inner_text()
    assert "Aucun formateur ne remplit toutes les règles" in section.inner_text()
    check_both_widths(page, "accueil-coordination-pilote")

    section.get_by_role("button", name="Envoyer").click()
    page.wait_for_url("**/accueil")
    assert f"{offers} propositions envoyées pour {sessions} interventions." in page.get_by_role("status").inner_text()
    assert db.session.scalar(select(AutopilotProposal)) is None
    check_both_widths(page, "accueil-coordination-envoye")

    page.get_by_role("link", name="Régler le pilote automatique").click()
    page.wait_for_url("**/pilote-automatique/")
    assert page.get_by_role("heading", level=1).inner_text() == "Pilote automatique"
    assert page.get_by_label("Proposé (par défaut)").is_checked()
    check_both_widths(page, "pilote-automatique-reglage")
    page.get_by_label("Automatique").check()
    page.get_by_role("button", name="Enregistrer le mode").click()
    page.wait_for_url("**/pilote-automatique/")
    assert "Mode « Automatique » enregistré pour 69 – Rhône, Police nationale." in (
        page.get_by_role("status").inner_text())
    assert page.get_by_label("Automatique").is_checked()
    check_both_widths(page, "pilote-automatique-enregistre")
    db.session.expire_all()
    assert autopilot.mode_of(db.session, "69", Force.POLICE) is AutopilotMode.AUTOMATIC
