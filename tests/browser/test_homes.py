"""Each role logs in through the real browser and gets an accessible home page."""

from __future__ import annotations

import pytest

from app.domain.demo import DEMO_PASSWORD
from tests.browser.helpers import assert_accessible, log_in

pytestmark = pytest.mark.browser

DEMO_LOGINS = {
    "admin": ("admin@relais.demo", "Administration nationale"),
    "coordinator": ("coordination.police.69@relais.demo", "Habilitations à surveiller"),
    "trainer": ("formateur.pfad@relais.demo", "Mon profil de formateur"),
    "requester": ("principal.college@relais.demo", "Isabelle Lefèvre"),
}


@pytest.mark.parametrize("role", sorted(DEMO_LOGINS))
def test_each_role_logs_in_and_home_page_is_accessible(demo, page, role):
    email, expected = DEMO_LOGINS[role]
    log_in(page, email, DEMO_PASSWORD)
    assert expected in page.content()
    assert page.locator("h1").count() == 1
    assert page.locator("main").count() == 1
    assert_accessible(page)


def test_public_pages_are_accessible_and_keyboard_reachable(demo, page):
    for path in ("/", "/compte/connexion", "/compte/inscription", "/compte/mot-de-passe-oublie"):
        page.goto(path)
        assert_accessible(page)
    page.goto("/compte/connexion")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#contenu", "the first Tab must reach the skip link"


def test_language_switch_in_the_browser(demo, page):
    log_in(page, "admin@relais.demo", DEMO_PASSWORD)
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Log out").is_visible()
    assert_accessible(page)


def test_the_coordination_accepts_a_newcomer_from_its_home_with_the_keyboard(demo, page):
    log_in(page, "coordination.police.69@relais.demo", DEMO_PASSWORD)
    link = page.get_by_role("link", name="1 demande de rattachement à un établissement sans membre actif attend "
                                          "votre décision.")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/coordination/rattachements")
    assert_accessible(page)
    page.get_by_role("button", name="Accepter").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Aucune demande en attente.").wait_for()
    assert "Aucune demande en attente." in page.content() and "est rattaché(e) à" in page.content()
    assert_accessible(page)
