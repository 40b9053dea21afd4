"""« Mes sessions » in a real browser: reached from the navigation, accessible on a desktop and on a phone, and
ending another device's session logs that device out (issue #17, point 4)."""

from __future__ import annotations

import pytest

from app.domain.demo import DEMO_PASSWORD
from tests.browser.helpers import assert_accessible, log_in

pytestmark = pytest.mark.browser

COORDINATOR = "coordination.police.69@relais.demo"
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.5 Mobile/15E148 Safari/604.1")


def test_mes_sessions_shows_each_device_and_ends_another_one(demo, page, browser, live_server, tmp_path):
    phone_context = browser.new_context(base_url=live_server, locale="fr-FR", user_agent=PHONE,
                                        viewport={"width": 390, "height": 844})
    phone = phone_context.new_page()
    phone.set_default_timeout(10_000)
    try:
        log_in(phone, COORDINATOR, DEMO_PASSWORD)
        log_in(page, COORDINATOR, DEMO_PASSWORD)
        page.get_by_role("link", name="Mes sessions").click()
        page.wait_for_url("**/compte/sessions")
        assert page.locator("h1").inner_text() == "Mes sessions"
        assert page.get_by_text("Cet appareil", exact=True).count() == 1
        assert page.get_by_role("heading", name="Safari sur iOS").is_visible()
        assert_accessible(page)
        page.screenshot(path=str(tmp_path / "mes-sessions-bureau.png"), full_page=True)

        phone.goto("/compte/sessions")
        assert_accessible(phone)
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
        phone.screenshot(path=str(tmp_path / "mes-sessions-telephone.png"), full_page=True)

        page.get_by_role("button", name="Terminer cette session — Safari sur iOS", exact=False).click()
        page.get_by_text("La session est terminée").wait_for()
        assert page.get_by_role("heading", name="Safari sur iOS").count() == 0
        assert_accessible(page)
        phone.goto("/accueil")
        phone.wait_for_url("**/compte/connexion**")
    finally:
        phone_context.close()
