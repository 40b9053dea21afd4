"""In Chromium: a trainer connects their own CalDAV calendar (a real Radicale on loopback) from « Mon agenda », is
told next to the field when the password is wrong, then sees the calendar connected and, once the worker ran, the
last success (#19); axe and no overflow at desktop width and at 390 px. With RELAIS_SHOTS=<folder>, each state is
saved as a screenshot at both widths."""

from __future__ import annotations

import pytest

from app.domain import caldav_push
from app.domain.clock import utcnow
from app.extensions import db
from tests.browser.helpers import check_both_widths, log_in
from tests.factories import PASSWORD as ACCOUNT_PASSWORD
from tests.factories import make_confirmed_session
from tests.radicale import PASSWORD, USER

pytestmark = pytest.mark.browser


def test_a_trainer_connects_their_calendar_from_the_page(app, radicale, page):
    radicale.make_calendar(name="Agenda de service")
    intervention, trainer, _ = make_confirmed_session()
    db.session.commit()
    log_in(page, trainer.user.email, ACCOUNT_PASSWORD)
    page.goto("/calendrier/")
    section = page.locator("section", has=page.locator("#agenda-caldav"))
    check_both_widths(page, "caldav-formulaire")

    page.get_by_label("Adresse CalDAV de votre agenda").fill(radicale.url)
    page.get_by_label("Identifiant sur ce serveur").fill(USER)
    password = page.get_by_label("Mot de passe d'application")
    password.fill("pas-le-bon")
    section.get_by_role("button", name="Connecter mon agenda").click()
    page.wait_for_load_state()
    password = page.get_by_label("Mot de passe d'application")
    assert password.get_attribute("aria-invalid") == "true"
    assert "refuse cet identifiant" in page.locator("#password-erreur").inner_text()
    assert password.input_value() == ""  # never written back
    assert page.get_by_label("Adresse CalDAV de votre agenda").input_value() == radicale.url
    check_both_widths(page, "caldav-erreur")

    password.fill(PASSWORD)
    page.get_by_role("button", name="Connecter mon agenda").click()
    page.wait_for_url("**/calendrier/#agenda-caldav")
    assert "Agenda « Agenda de service » connecté" in page.get_by_role("status").first.inner_text()
    assert "1 changement à inscrire" in page.locator("#agenda-caldav").locator("xpath=..").inner_text()
    assert PASSWORD not in page.content()

    assert caldav_push.push_due(db.session, utcnow(), caldav_push.keys_from(app.config), timeout=5).written == 1
    page.reload()
    panel = page.locator("#agenda-caldav").locator("xpath=..").inner_text()
    assert "aucune pour l'instant" not in panel and "Déconnecter cet agenda" in panel
    check_both_widths(page, "caldav-connecte")
    assert intervention.ical_uid in radicale.events()


def test_the_demo_trainer_whose_server_is_down_sees_why_and_the_session_she_changed(demo, page):
    from app.domain.demo import DEMO_PASSWORD

    log_in(page, "formatrice.frad@relais.demo", DEMO_PASSWORD)
    page.goto("/calendrier/")
    panel = page.locator("#agenda-caldav").locator("xpath=..")
    text = panel.inner_text()
    assert "Agenda personnel" in text and "ne répond pas" in text and "changements à inscrire" in text
    assert "modifiée (ou supprimée) dans votre agenda" in text
    assert panel.get_by_role("button", name="Remplacer par la version de Relais").count() == 1
    check_both_widths(page, "caldav-demo-serveur-injoignable")
