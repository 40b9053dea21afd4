"""The agenda in a real browser: axe-core finds nothing, the keyboard walks every link in order and out again,
filters and periods work without JavaScript, and on a phone the table scrolls inside its frame with the trainers'
column kept in view. With RELAIS_SCREENSHOTS set to a folder, each view is saved there at desktop and phone width."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.domain.demo import DEMO_PASSWORD
from tests.browser.helpers import assert_accessible, log_in

pytestmark = pytest.mark.browser

COORDINATOR = "coordination.police.69@relais.demo"
TRAINER = "formateur.pfad@relais.demo"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

# Everything the Tab key stops at, in document order (the page has no positive tabindex).
FOCUSABLE = """() => [...document.querySelectorAll(
  'a[href], button:not([disabled]), select, input:not([type=hidden]), textarea, [tabindex]:not([tabindex="-1"])')]
  .filter(element => element.offsetParent !== null || element === document.body)
  .map(element => element.outerHTML.slice(0, 120))"""


def shot(page, name: str) -> None:
    folder = os.environ.get("RELAIS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def tab_through(page) -> list[str]:
    """Presses Tab from the top of the page until the focus leaves it; the elements it stopped at."""
    page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    page.locator("body").focus()
    stops = []
    for _ in range(400):
        page.keyboard.press("Tab")
        current = page.evaluate("document.activeElement === document.body ? null"
                                " : document.activeElement.outerHTML.slice(0, 120)")
        if current is None or len(stops) > 300:
            break
        stops.append(current)
    return stops


def assert_tab_order(page) -> None:
    """Tab stops at every link, select and button once, in the order of the page, then leaves it: no trap."""
    expected = page.evaluate(FOCUSABLE)
    stops = tab_through(page)
    assert len(expected) >= 5 and stops == expected


def test_the_coordination_reads_its_week_and_month_by_keyboard(demo, page):
    page.set_viewport_size(DESKTOP)
    log_in(page, COORDINATOR, DEMO_PASSWORD)
    page.goto("/accueil")
    page.get_by_role("link", name="Agenda", exact=True).first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/agenda/semaine")
    assert_accessible(page)
    shot(page, "coordinator-week-desktop")
    assert_tab_order(page)
    page.get_by_role("link", name="Mois", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/agenda/mois**")
    assert page.locator("table caption").count() == 1
    assert page.locator("th[scope=row]").count() >= 5 and page.locator("thead th[scope=col]").count() >= 29
    assert page.locator("a.agenda-entry").count() > 0
    assert_accessible(page)
    shot(page, "coordinator-month-desktop")
    page.get_by_role("link", name="Mois suivant").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page)
    # An entry leads to its request's page.
    page.goto("/agenda/mois")
    page.locator("a.agenda-entry").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/coordination/demandes/*")


def test_filters_and_periods_work_without_javascript(demo, browser, live_server):
    context = browser.new_context(base_url=live_server, locale="fr-FR", java_script_enabled=False,
                                  viewport=DESKTOP)
    page = context.new_page()
    try:
        log_in(page, COORDINATOR, DEMO_PASSWORD)
        page.goto("/agenda/semaine")
        trainer = page.locator("#filtre-formateur option").nth(1)
        name, value = trainer.inner_text(), trainer.get_attribute("value")
        page.select_option("#filtre-formateur", value)
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_url(f"**formateur={value}**")
        rows = page.locator("tbody th[scope=row]")
        assert rows.count() == 1 and name in rows.first.inner_text()
        page.get_by_role("link", name="Semaine suivante").click()
        page.wait_for_url(f"**formateur={value}**")
        assert page.locator("tbody th[scope=row]").count() == 1
    finally:
        context.close()


def test_on_a_phone_the_table_scrolls_in_its_frame_with_the_trainers_in_view(demo, page):
    page.set_viewport_size(PHONE)
    log_in(page, COORDINATOR, DEMO_PASSWORD)
    for path, name in (("/agenda/semaine", "coordinator-week-phone"), ("/agenda/mois", "coordinator-month-phone")):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page itself overflows"
        frame = page.locator(".agenda-scroll")
        assert frame.evaluate("f => f.scrollWidth > f.clientWidth"), "the table should scroll inside its frame"
        shot(page, name)
        header = page.locator("tbody th[scope=row]").first
        before = header.bounding_box()["x"]
        frame.evaluate("f => f.scrollLeft = 600")
        assert abs(header.bounding_box()["x"] - before) < 1, "the trainers' column must stay in view"
        assert header.bounding_box()["width"] >= 100
        # The frame takes the keyboard: arrows scroll it.
        frame.focus()
        frame.evaluate("f => f.scrollLeft = 0")
        page.keyboard.press("ArrowRight")
        for _ in range(30):  # the scroll may be smooth
            if frame.evaluate("f => f.scrollLeft") > 0:
                break
            page.wait_for_timeout(100)
        assert frame.evaluate("f => f.scrollLeft") > 0
        assert_accessible(page)


def test_a_trainer_reads_their_month_as_a_grid_or_a_list(demo, page):
    page.set_viewport_size(DESKTOP)
    log_in(page, TRAINER, DEMO_PASSWORD)
    page.get_by_role("link", name="Mon planning", exact=True).click()
    page.wait_for_url("**/agenda/mon-mois")
    assert page.locator("table caption").count() == 1
    assert_accessible(page)
    shot(page, "trainer-month-desktop")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "trainer-month-phone")
    page.get_by_role("link", name="Liste", exact=True).click()
    page.wait_for_url("**affichage=liste**")
    assert page.locator("a.agenda-entry").count() > 0 or "Rien de prévu" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    shot(page, "trainer-list-phone")
    assert_tab_order(page)
