"""In Chromium, on the demo data: "Mon agenda" of a trainer, a coordinator and an administrator (#19, point 7): the
estimated size of the address, the form that narrows it (force, départements, period) and gives its new address,
the address offered under Google's 1 MB and the warning when a chosen one is over; axe at desktop width and at
390 px. With RELAIS_SHOTS=<folder>, each page is saved as a screenshot at both widths."""

from __future__ import annotations

import urllib.request

import pytest
from playwright.sync_api import expect

from app.domain import feeds
from app.domain.demo import DEMO_PASSWORD
from tests.browser.helpers import log_in
from tests.browser.test_coordination_offices import check_both_widths

pytestmark = pytest.mark.browser


def open_my_calendar(page) -> None:
    page.get_by_role("link", name="Mon agenda", exact=True).click()
    page.wait_for_url("**/calendrier/")


def address(page) -> str:
    return page.get_by_label("Adresse web (Google Agenda, autres)").input_value()


def test_a_trainer_sees_the_size_of_their_address(demo, page):
    log_in(page, "formateur.pfad@relais.demo", DEMO_PASSWORD)
    open_my_calendar(page)
    assert "Taille estimée" in page.locator("#taille-agenda").inner_text()
    assert page.get_by_label("Force").count() == 0, "a trainer's feed is theirs: nothing to narrow"
    check_both_widths(page, "mon-agenda-formateur")


def test_a_coordinator_narrows_the_address_to_a_force_and_a_period(demo, page, live_server):
    log_in(page, "coordination.police.69@relais.demo", DEMO_PASSWORD)
    open_my_calendar(page)
    check_both_widths(page, "mon-agenda-coordination")
    page.get_by_label("Force").select_option("police")
    page.get_by_label("Jours passés").fill("30")
    page.get_by_label("Jours à venir").fill("120")
    page.get_by_role("button", name="Afficher l'adresse").click()
    page.wait_for_url("**/calendrier/?*")
    chosen = address(page)
    assert chosen.endswith("?force=police&jours_passes=30&jours_a_venir=120")
    assert page.get_by_label("Adresse d'abonnement (Apple Calendrier, Outlook, Thunderbird)").input_value() \
        == "webcal://" + chosen.split("://", 1)[1]
    with urllib.request.urlopen(live_server + chosen.split("127.0.0.1:5000", 1)[1]) as response:  # noqa: S310
        assert response.status == 200 and b"BEGIN:VCALENDAR" in response.read()
    check_both_widths(page, "mon-agenda-coordination-filtre")

    page.get_by_label("Jours à venir").evaluate("field => { field.removeAttribute('max'); field.value = '900'; }")
    page.get_by_role("button", name="Afficher l'adresse").click()
    expect(page.get_by_role("alert")).to_contain_text("Jours à venir : un nombre entier de 1 à 400.")


def test_an_admin_is_offered_an_address_under_the_limit_and_warned_when_choosing_everything(demo, page,
                                                                                            monkeypatch):
    log_in(page, "admin@relais.demo", DEMO_PASSWORD)
    open_my_calendar(page)
    whole_kb = int("".join(c for c in page.locator("#taille-agenda").inner_text().split(":")[1].split("Ko")[0]
                           if c.isdigit()))
    # The demo is smaller than the country: the limit brought down to a third of its feed, as for the national one.
    monkeypatch.setattr(feeds, "SIZE_LIMIT", whole_kb * 1000 // 3)
    page.reload()
    assert "?" in address(page) and page.locator("#agenda-reduit").count() == 1
    check_both_widths(page, "mon-agenda-admin")
    page.get_by_role("button", name="Afficher l'adresse").click()  # every département: nothing chosen
    page.wait_for_url("**/calendrier/?*")
    page.get_by_label("Départements").select_option([])
    page.get_by_role("button", name="Afficher l'adresse").click()
    page.wait_for_url("**/calendrier/?*")
    assert "?" not in address(page).replace("jours_passes=90", "")
    warning = page.locator("#agenda-trop-grand").inner_text()
    assert "Google Agenda refuse les agendas de plus de" in warning and "période plus courte" in warning
    check_both_widths(page, "mon-agenda-admin-trop-grand")
