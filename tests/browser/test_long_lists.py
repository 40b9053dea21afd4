"""Lists that grow with use, in the browser (#18): the trainer's home shows its first offers and a link to all of
them, page by page; the requester's requests and the outbox too; the pages' links are reached and followed with
the keyboard, and axe finds nothing. With RELAIS_SHOTS=<folder>, each page is also saved at desktop width and at
390 px."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.domain.clock import utcnow
from app.domain.demo import DEMO_PASSWORD
from app.extensions import db
from tests.browser.helpers import assert_accessible, log_in

pytestmark = pytest.mark.browser


def shot(page, name: str, pager: str | None = None) -> None:
    """The whole page; for a long list (`pager`: its navigation's label), its top and its end, where the pages'
    links are, as a screen shows them."""
    folder = os.environ.get("RELAIS_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width, suffix in ((1280, "desktop"), (390, "390")):
        page.set_viewport_size({"width": width, "height": 900})
        if pager is None:
            page.screenshot(path=f"{folder}/{name}-{suffix}.png", full_page=True)
            continue
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=f"{folder}/{name}-top-{suffix}.png")
        page.get_by_role("navigation", name=pager).scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.screenshot(path=f"{folder}/{name}-end-{suffix}.png")
    page.set_viewport_size(size)


@pytest.fixture
def grown(demo):
    """The demo's trainer with 40 more offers waiting, its requester's establishment with 120 more requests."""
    from bench.lists import grow_lists

    grow_lists(db.session, utcnow(), offers=40, requests=120)
    db.session.commit()


def follow_with_keyboard(page, name: str) -> None:
    link = page.get_by_role("navigation", name=name).get_by_role("link", name="Page suivante")
    link.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_trainer_reaches_every_offer_page_by_page(grown, page):
    log_in(page, "formateur.pfad@relais.demo", DEMO_PASSWORD)
    offers = page.locator("#propositions ~ article, section[aria-labelledby=propositions] article")
    assert offers.count() == 3
    shot(page, "home-trainer")
    link = page.get_by_role("link", name="Voir toutes les propositions")
    total = int(link.inner_text().split("(")[1].rstrip(")").replace("\u202f", "").replace(" ", ""))
    assert total >= 40
    link.click()
    page.wait_for_url("**/propositions/")
    assert page.locator("article").count() == 10
    assert page.get_by_role("link", name="Revenir au début").count() == 0
    assert_accessible(page)
    shot(page, "offers-page-1", "Pages des propositions")
    follow_with_keyboard(page, "Pages des propositions")
    assert "apres=" in page.url
    assert page.get_by_role("link", name="Revenir au début").count() == 1
    assert_accessible(page)
    shot(page, "offers-page-2", "Pages des propositions")


def test_a_requester_and_an_administrator_go_through_long_lists(grown, page):
    log_in(page, "principal.college@relais.demo", DEMO_PASSWORD)
    page.goto("/demandes/")
    assert page.locator("tbody tr").count() == 50
    assert_accessible(page)
    shot(page, "requests-page-1", "Pages des demandes")
    follow_with_keyboard(page, "Pages des demandes")
    assert page.get_by_role("link", name="Revenir au début").count() == 1
    assert_accessible(page)
    shot(page, "requests-page-2", "Pages des demandes")
    page.set_viewport_size({"width": 390, "height": 900})
    for path in ("/accueil", "/demandes/"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{path} is wider than a phone"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/accueil")
    shot(page, "home-requester")

    page.context.clear_cookies()
    log_in(page, "admin@relais.demo", DEMO_PASSWORD)
    page.goto("/admin/messages")
    assert_accessible(page)
    shot(page, "outbox-page-1", "Pages des messages")
    if page.get_by_role("navigation", name="Pages des messages").count():
        follow_with_keyboard(page, "Pages des messages")
        assert_accessible(page)
        shot(page, "outbox-page-2", "Pages des messages")
