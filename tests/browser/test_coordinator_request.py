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
