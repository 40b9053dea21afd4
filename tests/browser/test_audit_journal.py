"""In Chromium, on the demo data: an administrator opens « Journal », filters it by action and object, reads the
entries as sentences and goes to the next page (#21). axe on each page, at desktop width and at 390 px."""

from __future__ import annotations

import pytest

from app.domain.demo import DEMO_PASSWORD
from tests.browser.helpers import check_both_widths, log_in

pytestmark = pytest.mark.browser

ADMIN = "admin@relais.demo"


def test_an_admin_searches_the_journal(demo, page):
    log_in(page, ADMIN, DEMO_PASSWORD)
    page.get_by_role("link", name="Journal").first.click()
    page.wait_for_url("**/admin/journal")
    assert page.get_by_role("heading", level=1).inner_text() == "Journal d'audit"
    assert page.locator("tbody tr").count() == 50
    check_both_widths(page, "journal")

    page.get_by_label("Action").select_option("update")
    page.get_by_label("Objet", exact=True).select_option("intervention_request")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**/admin/journal?*action=update*")
    first = page.locator("tbody tr").first.inner_text()
    assert "a modifié" in first and "la demande" in first
    page.get_by_role("link", name="Page suivante").click()
    page.wait_for_url("**avant=*")
    assert page.get_by_role("link", name="Revenir au début").count() == 1
    check_both_widths(page, "journal-filtre")
