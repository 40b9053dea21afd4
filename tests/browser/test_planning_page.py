"""« Planification » in Chromium on the demo data: the coordinator of the Rhône's police previews the plan of the
coming weeks, is told it is proven optimal, and the page passes axe at desktop width and at 390 px (issue #20). With
RELAIS_SHOTS=<folder>, the page is saved as a screenshot at both widths."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from app.domain.clock import utcnow
from app.domain.demo import DEMO_PASSWORD
from tests.browser.helpers import assert_accessible, log_in

pytestmark = pytest.mark.browser

COORDINATOR = "coordination.police.69@relais.demo"


def test_a_coordinator_previews_a_plan_proven_optimal(demo, page):
    log_in(page, COORDINATOR, DEMO_PASSWORD)
    page.get_by_role("link", name="Planification").first.click()
    page.wait_for_url("**/planification/")
    today = utcnow().date()
    page.get_by_label("Du").fill((today + timedelta(days=1)).isoformat())
    page.get_by_label("Au").fill((today + timedelta(days=42)).isoformat())
    page.get_by_label("Département").select_option("69")
    page.get_by_role("button", name="Calculer l'aperçu").click()
    page.get_by_role("heading", name="Aperçu du plan").wait_for()
    assert page.locator("#preuve").inner_text().startswith("Plan optimal (prouvé)")
    folder = os.environ.get("RELAIS_SHOTS")
    for width, suffix in ((1280, "desktop"), (390, "390")):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{folder}/planification-{suffix}.png", full_page=True)
