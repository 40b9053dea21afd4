"""A school changes the room and the contact of a confirmed session from its phone (#19, point 4): the page says
who will be told, a mistake is shown next to its field, and the request's page says the calendars were updated.
With RELAIS_SHOTS=<folder>, the page is saved there at desktop and phone widths."""

from __future__ import annotations

import os

import pytest

from tests.browser.helpers import assert_accessible, log_in
from tests.factories import PASSWORD, make_confirmed_session

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_a_school_moves_its_session_to_another_room(app, browser, live_server, clock, viewport):
    intervention, trainer, coordinator = make_confirmed_session()
    requester = intervention.request.created_by
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, requester.email, PASSWORD)
    page.goto(f"/demandes/{intervention.request_id}")
    page.get_by_role("link", name="Modifier le lieu, la salle ou le contact").click()
    page.wait_for_url("**/informations-pratiques")
    assert "Une intervention confirmée est à venir" in page.content()
    assert_accessible(page)
    shots = os.environ.get("RELAIS_SHOTS")
    if shots:
        page.screenshot(path=os.path.join(shots, f"details-{viewport['width']}.png"), full_page=True)
    page.get_by_label("Salle").fill("Salle polyvalente B12")
    page.get_by_label("Téléphone du contact").fill("pas un numéro")
    page.get_by_role("button", name="Enregistrer et prévenir les personnes concernées").click()
    page.wait_for_load_state()
    assert "Numéro de téléphone invalide." in page.locator("#contact_phone-erreur").inner_text()
    assert page.get_by_label("Salle").input_value() == "Salle polyvalente B12", "what was typed is kept"
    assert_accessible(page)
    page.get_by_label("Téléphone du contact").fill("04 78 11 22 33")
    page.get_by_role("button", name="Enregistrer et prévenir les personnes concernées").click()
    page.wait_for_url(f"**/demandes/{intervention.request_id}")
    assert "L'intervention à venir est mise à jour dans l'agenda des formateurs et du contact." in page.content()
    assert "Salle polyvalente B12" in page.content()
    if shots:
        page.screenshot(path=os.path.join(shots, f"details-saved-{viewport['width']}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    context.close()
