"""The three journeys with the keyboard alone, from log-in to the establishment's feedback (#18).

A collège principal asks for a session, the coordinator accepts the request and offers it to a trainer, the
gendarme accepts it, gives it, files the report, and the principal says how it went. No click: each control is
reached with Tab (or Shift+Tab) and used with the keys a person would press (typing, Space, Enter); every page
reached passes axe-core and the page-wide id and label check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Force, Intervention, InterventionRequest, InterventionStatus, RequestStatus, Role
from tests.browser.helpers import assert_accessible
from tests.factories import PASSWORD, make_coordinator, make_establishment, make_qualified_trainer, make_user
from tests.helpers import current_totp_code

pytestmark = pytest.mark.browser

MAX_TABS = 250


def _focused(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page, locator, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab backwards) until the control has the focus: it must be reachable by keyboard."""
    locator = locator.first
    for _ in range(MAX_TABS):
        if _focused(locator):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"the keyboard never reaches {locator} on {page.url}")


def follow(page, locator) -> None:
    """Tab to a link or button, press Enter, wait for the next page."""
    tab_to(page, locator)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page)


def type_into(page, locator, text: str) -> None:
    tab_to(page, locator)
    page.keyboard.type(text)


class DateKeys:
    """What to type into a date or time field: the order of its parts is the browser's (day first or month first,
    24-hour clock or AM/PM), read once on a page of the same browser context."""

    def __init__(self, context) -> None:
        probe = context.new_page()
        probe.set_content('<input type="date" id="d" aria-label="d"><input type="time" id="t" aria-label="t">')
        probe.focus("#d")
        probe.keyboard.type("01022027")
        self.month_first = probe.input_value("#d") == "2027-01-02"
        probe.close()

    def date(self, iso: str) -> str:
        year, month, day = iso.split("-")
        return f"{month}{day}{year}" if self.month_first else f"{day}{month}{year}"

    @staticmethod
    def time(hhmm: str) -> str:
        hours, minutes = hhmm.split(":")
        # On a 12-hour clock the last key chooses AM or PM; a 24-hour field ignores it.
        return f"{hours}{minutes}{'P' if int(hours) >= 12 else 'A'}"


def log_in_by_keyboard(page, email: str) -> None:
    page.goto("/compte/connexion")
    assert_accessible(page)
    type_into(page, page.get_by_label("Adresse e-mail"), email)
    page.keyboard.press("Tab")
    assert _focused(page.get_by_label("Mot de passe")), "the password comes right after the e-mail"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    if page.url.endswith("/compte/double-authentification"):  # a coordinator's second factor (#21)
        assert_accessible(page)
        type_into(page, page.get_by_label("Code de vérification"), current_totp_code(email))
        with page.expect_navigation():
            page.keyboard.press("Enter")
    page.wait_for_url("**/accueil")
    assert_accessible(page)


def new_page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def test_from_the_request_to_the_feedback_with_the_keyboard_alone(app, clock, browser, live_server):
    establishment = make_establishment("69", force=Force.POLICE, name="Collège Louise-Michel")
    principal = make_user(Role.REQUESTER, establishment_id=establishment.id, full_name="Isabelle Lefèvre")
    coordinator = make_coordinator("69", Force.POLICE)
    trainer = make_qualified_trainer()
    db.session.commit()

    # The principal asks for one session of cannabis prevention for a class of 4e.
    context, requester = new_page(browser, live_server)
    keys = DateKeys(context)
    log_in_by_keyboard(requester, principal.email)
    follow(requester, requester.get_by_role("link", name="Demander une intervention"))
    for choice in ("Élèves de 4e", "Cannabis"):
        tab_to(requester, requester.get_by_label(choice, exact=True))
        requester.keyboard.press("Space")
        assert requester.get_by_label(choice, exact=True).is_checked()
    type_into(requester, requester.get_by_label("Nombre de groupes"), "1")
    type_into(requester, requester.get_by_label("Personnes par groupe"), "26")
    type_into(requester, requester.locator("#windows-0-start_date"), keys.date("2027-01-11"))
    type_into(requester, requester.locator("#windows-0-end_date"), keys.date("2027-01-15"))
    type_into(requester, requester.locator("#windows-0-start_time"), keys.time("09:00"))
    type_into(requester, requester.locator("#windows-0-end_time"), keys.time("12:00"))
    assert requester.locator("#windows-0-end_time").input_value() == "12:00"
    type_into(requester, requester.get_by_label("Téléphone du contact"), "04 78 00 00 01")
    # Enter in a field sends the request (not "Ajouter une période").
    tab_to(requester, requester.get_by_label("Personnes par groupe"), backwards=True)
    with requester.expect_navigation():
        requester.keyboard.press("Enter")
    expect(requester.locator("body")).to_contain_text("Envoyée, en attente d'examen")
    assert_accessible(requester)
    request = db.session.scalar(select(InterventionRequest).where(
        InterventionRequest.establishment_id == establishment.id))
    assert request.status is RequestStatus.SUBMITTED

    # The coordinator accepts the request and offers its session to the trainer the page ranks first.
    _, coordination = new_page(browser, live_server)
    log_in_by_keyboard(coordination, coordinator.email)
    coordination.goto(f"/coordination/demandes/{request.id}")
    follow(coordination, coordination.get_by_role("button", name="Accepter et planifier"))
    db.session.expire_all()
    [session] = request.interventions
    follow(coordination, coordination.get_by_role("link", name=f"Formateurs possibles — {session.group_label}"))
    row = coordination.get_by_role("row").filter(has_text=trainer.full_name)
    follow(coordination, row.get_by_role("button", name="Proposer"))
    assert f"Intervention proposée à {trainer.full_name}." in coordination.content()

    # The gendarme reads the session's page, then accepts from it.
    _, officer = new_page(browser, live_server)
    log_in_by_keyboard(officer, trainer.user.email)
    follow(officer, officer.get_by_role("link", name="Voir la fiche de l'intervention"))
    assert "Collège Louise-Michel" in officer.locator("h1").inner_text()
    follow(officer, officer.get_by_role("button", name="Accepter"))
    db.session.expire_all()
    assert db.session.get(Intervention, session.id).status is InterventionStatus.CONFIRMED

    # After the session: the report, held, with the people reached.
    clock.freeze(db.session.get(Intervention, session.id).ends_at + timedelta(hours=2))
    # Weeks have passed: the log-in has ended while idle, the gendarme logs in again.
    log_in_by_keyboard(officer, trainer.user.email)
    follow(officer, officer.get_by_role("region", name="Comptes rendus à remplir").get_by_role(
        "link", name="Collège Louise-Michel"))
    tab_to(officer, officer.get_by_label("Oui"))
    officer.keyboard.press("Space")
    type_into(officer, officer.get_by_label("Nombre de personnes présentes"), "26")
    with officer.expect_navigation():
        officer.keyboard.press("Enter")
    expect(officer.locator("body")).to_contain_text("Compte rendu enregistré")
    assert_accessible(officer)
    db.session.expire_all()
    assert db.session.get(Intervention, session.id).status is InterventionStatus.DONE

    # The principal says how it went, from the home page's to-do list.
    log_in_by_keyboard(requester, principal.email)
    follow(requester, requester.get_by_role("link", name="donner votre avis"))
    assert "Collège Louise-Michel" in requester.content()
    tab_to(requester, requester.get_by_label("5 — Très satisfait"))
    requester.keyboard.press("Space")
    type_into(requester, requester.get_by_label("Commentaire"), "Les élèves ont posé beaucoup de questions.")
    follow(requester, requester.get_by_role("button", name="Enregistrer mon avis"))
    db.session.expire_all()
    feedback = db.session.get(Intervention, session.id).feedback
    assert (feedback.satisfaction, feedback.comment) == (5, "Les élèves ont posé beaucoup de questions.")
