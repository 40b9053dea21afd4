"""A coordinator on the page of a request: every box has its own label, and reaches the right field."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import Force, InterventionRequest, RequestStatus
from tests.browser.helpers import assert_accessible, log_in

pytestmark = pytest.mark.browser
COORDINATOR = "coordination.police.69@relais.demo"


def _request_of_69(status: RequestStatus) -> InterventionRequest:
    found = db.session.scalars(select(InterventionRequest).where(
        InterventionRequest.departement_code == "69", InterventionRequest.force == Force.POLICE,
        InterventionRequest.status == status).order_by(InterventionRequest.id)).first()
    assert found is not None, f"the demo has a request {status.value} in the Rhône, police"
    return found


def test_each_box_of_a_submitted_request_has_its_own_label(demo, page):
    item = _request_of_69(RequestStatus.SUBMITTED)
    log_in(page, COORDINATOR, DEMO_PASSWORD)
    page.goto(f"/coordination/demandes/{item.id}")
    assert_accessible(page)  # unique ids, every control labelled, and axe
    page.get_by_text("Motif de l'annulation", exact=True).click()
    assert page.evaluate("document.activeElement.id") == "motif-annulation"
    page.keyboard.type("Collège fermé pour travaux")
    assert page.get_by_label("Motif du refus").input_value() == ""
    assert page.get_by_role("combobox", name="Force compétente").is_visible()


def test_the_coordination_cancels_one_session_alone_with_the_keyboard(demo, page):
    open_statuses = ("to_schedule", "offered", "confirmed")
    item = next(request for request in db.session.scalars(select(InterventionRequest).where(
        InterventionRequest.departement_code == "69", InterventionRequest.force == Force.POLICE,
        InterventionRequest.status.in_((RequestStatus.SCHEDULED, RequestStatus.IN_PLANNING)))
        .order_by(InterventionRequest.id))
        if sum(session.status.value in open_statuses for session in request.interventions) > 1)
    log_in(page, COORDINATOR, DEMO_PASSWORD)
    page.goto(f"/coordination/demandes/{item.id}")
    link = page.get_by_role("link", name="Annuler cette intervention").first
    group = link.inner_text().split("—")[-1].strip()
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/annuler")
    assert page.get_by_text("Seule cette intervention est annulée").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Annuler cette intervention").focus()
    page.keyboard.press("Enter")  # no reason: refused, in French, next to the box
    page.get_by_text("Indiquez le motif.", exact=True).wait_for()
    assert_accessible(page)
    page.get_by_label("Motif de l'annulation").fill("Sortie scolaire ce jour-là")
    page.get_by_role("button", name="Annuler cette intervention").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/coordination/demandes/{item.id}")
    page.get_by_text(f"L'intervention « {group} » est annulée").wait_for()
    assert page.get_by_text("Motif : Sortie scolaire ce jour-là").is_visible()
    assert page.get_by_role("link", name="Annuler cette intervention").count() >= 1  # the others go on
    assert_accessible(page)


def test_the_coordination_corrects_an_establishment_and_keeps_its_units(demo, page):
    log_in(page, COORDINATOR, DEMO_PASSWORD)
    page.goto("/coordination/demandes")
    page.get_by_role("navigation", name="Coordination").get_by_role("link", name="Établissements").click()
    assert_accessible(page)
    page.get_by_role("link", name="Corriger").first.click()
    page.get_by_label("Nom de l'établissement").fill("")
    page.get_by_role("button", name="Enregistrer les corrections").click()
    page.get_by_text("Indiquez le nom.", exact=True).wait_for()
    assert_accessible(page)
    page.get_by_label("Nom de l'établissement").fill("Collège Jean-Moulin")
    page.get_by_role("button", name="Enregistrer les corrections").click()
    page.get_by_text("Les informations de Collège Jean-Moulin sont corrigées.").wait_for()
    page.get_by_role("navigation", name="Coordination").get_by_role("link", name="Unités").click()
    assert_accessible(page)
    page.get_by_role("link", name="Nouvelle unité").click()
    page.get_by_role("button", name="Enregistrer l'unité").click()
    page.get_by_text("Indiquez le nom de l'unité.", exact=True).wait_for()
    assert_accessible(page)
    page.get_by_label("Nom de l'unité").fill("Commissariat de Villeurbanne")
    page.get_by_label("Type d'unité").select_option("commissariat")
    page.get_by_label("Code postal de la commune").fill("69100")
    page.get_by_role("button", name="Enregistrer l'unité").click()
    page.get_by_text("Unité Commissariat de Villeurbanne créée.").wait_for()
    assert page.get_by_role("row", name="Commissariat de Villeurbanne").is_visible()
    assert_accessible(page)


def test_the_coordination_pages_stay_within_a_phone_screen(demo, page):
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, COORDINATOR, DEMO_PASSWORD)
    item = _request_of_69(RequestStatus.SCHEDULED)
    for url in ("/coordination/demandes", "/coordination/rattachements", "/coordination/etablissements",
                "/coordination/unites", f"/coordination/demandes/{item.id}"):
        page.goto(url)
        # Wide tables scroll in their own box; the page itself does not slide sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
        assert_accessible(page)
