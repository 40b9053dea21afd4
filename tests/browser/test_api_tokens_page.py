"""« Jetons d'accès à l'API » (#22) in a real browser: reached from the navigation, a token made and shown once,
then revoked; accessible and no wider than a phone; the API's documentation page too."""

from __future__ import annotations

import re
import urllib.request

import pytest

from app.domain.demo import DEMO_PASSWORD
from tests.browser.helpers import check_both_widths, log_in

pytestmark = pytest.mark.browser

REQUESTER = "principal.college@relais.demo"


def test_a_token_is_made_shown_once_used_and_revoked(demo, page, live_server):
    log_in(page, REQUESTER, DEMO_PASSWORD)
    page.get_by_role("link", name="Jetons d'API").click()
    page.wait_for_url("**/compte/jetons")
    assert page.locator("h1").inner_text() == "Jetons d'accès à l'API"
    check_both_widths(page, "jetons-api")
    page.get_by_label("Nom du jeton").fill("Tableur de la vie scolaire")
    page.get_by_label("Lecture et écriture").check()
    page.get_by_role("button", name="Créer le jeton").click()
    secret = page.get_by_label("Jeton", exact=True).input_value()
    assert re.fullmatch(r"relais_pat_[A-Za-z0-9_-]{43}", secret)
    check_both_widths(page, "jetons-api-nouveau")
    call = urllib.request.Request(f"{live_server}/api/v1/establishment",  # noqa: S310 (the test's own server)
                                  headers={"Authorization": f"Bearer {secret}"})
    with urllib.request.urlopen(call) as answer:  # noqa: S310 (the test's own server)
        assert answer.status == 200
    page.goto("/compte/jetons")
    assert secret not in page.content()
    page.get_by_role("button", name="Révoquer — Tableur de la vie scolaire").click()
    page.get_by_text("Jeton révoqué").wait_for()
    assert page.get_by_text("Révoqué", exact=True).count() == 1


def test_the_api_documentation_page_is_accessible(page, live_server):
    page.goto("/api/v1/docs")
    assert page.locator("h1").inner_text().startswith("Documentation de l'API")
    assert page.get_by_role("link", name="GET /api/v1/requests", exact=True).count() == 1
    check_both_widths(page, "api-docs")
