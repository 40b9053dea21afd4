"""A coordinator opens the candidates of a session in the browser: accessible, and explained."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import Force, Intervention, InterventionStatus
from tests.browser.helpers import assert_accessible, log_in

pytestmark = pytest.mark.browser


def test_coordinator_reads_candidates_of_a_session(demo, page):
    intervention = db.session.scalars(
        select(Intervention).where(Intervention.departement_code == "69", Intervention.force == Force.POLICE,
                                   Intervention.status == InterventionStatus.TO_SCHEDULE).order_by(Intervention.id)
    ).first()
    assert intervention is not None, "the demo has sessions waiting for a trainer"
    log_in(page, "coordination.police.69@relais.demo", DEMO_PASSWORD)
    page.goto(f"/coordination/demandes/{intervention.request_id}")
    page.get_by_role("link", name=f"Formateurs possibles — {intervention.group_label}").click()
    page.wait_for_url("**/candidats")
    assert page.get_by_role("heading", name="Formateurs écartés et pourquoi").is_visible()
    assert_accessible(page)
