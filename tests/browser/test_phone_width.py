"""On a 390 px phone, no page of any role's menu is wider than the screen (#18): wide tables scroll inside their
own box, the page itself never sideways. With RELAIS_SHOTS=<folder>, each page is also saved there."""

from __future__ import annotations

import os

import pytest

from app.domain.demo import DEMO_PASSWORD
from tests.browser.helpers import log_in
from tests.browser.test_homes import DEMO_LOGINS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("role", sorted(DEMO_LOGINS))
def test_every_page_of_the_menu_fits_a_phone(demo, browser, live_server, role):
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, DEMO_LOGINS[role][0], DEMO_PASSWORD)
    # The menu's pages, and the pages the home links to (a request, a session, a trainer…).
    paths = page.evaluate("""() => [...new Set([...document.querySelectorAll('header a[href^="/"], main a[href^="/"]')]
        .map(a => a.getAttribute('href').split('#')[0])
        .filter(href => !href.endsWith('.ics') && !href.endsWith('.csv') && !href.includes('/langue/')))]""")
    assert len(paths) >= 4, paths
    too_wide = {}
    shots = os.environ.get("RELAIS_SHOTS")
    for number, path in enumerate(["/accueil", *paths]):
        page.goto(path)
        if shots:
            page.screenshot(path=os.path.join(shots, f"phone-{role}-{number:02d}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    context.close()
    assert not too_wide, f"pages wider than a phone ({PHONE['width']} px): {too_wide}"
