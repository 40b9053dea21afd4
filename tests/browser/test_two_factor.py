"""The second step of a coordinator's password sign-in in a real browser: enrolment (secret, QR code, recovery
codes) and the code step; the single sign-on pages; with axe and at a phone's width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.domain import two_factor
from app.domain.clock import utcnow
from app.extensions import db
from app.models import Role
from tests.browser.helpers import check_both_widths, log_in
from tests.factories import PASSWORD, make_user
from tests.oidc_provider import closed_port_url, configure, running_provider

pytestmark = pytest.mark.browser


def _password(page, email: str) -> None:
    page.goto("/compte/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_a_coordinator_enrols_then_gives_a_code(app, page):
    coordinator = make_user(Role.COORDINATOR, second_factor=False, email="coordination@interieur.gouv.fr")
    db.session.commit()
    _password(page, coordinator.email)
    page.wait_for_url("**/compte/double-authentification/activer")
    assert page.locator("svg").first.is_visible()
    check_both_widths(page, "totp-enrolment")
    secret = re.sub(r"\s", "", page.locator("#cle-secrete").inner_text())
    page.get_by_label("Code affiché par l'application").fill("000000" if two_factor.code_at(
        secret, two_factor.current_step(utcnow())) != "000000" else "111111")
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.locator("#code-erreur").get_by_text("Ce code ne correspond pas")).to_be_visible()
    check_both_widths(page, "totp-enrolment-error")
    page.get_by_label("Code affiché par l'application").fill(two_factor.code_at(secret,
                                                                                two_factor.current_step(utcnow())))
    page.get_by_role("button", name="Activer la double authentification").click()
    page.get_by_role("heading", name="Vos codes de secours").wait_for()
    assert page.get_by_role("list", name="Codes de secours").get_by_role("listitem").count() == 10
    check_both_widths(page, "totp-recovery-codes")
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    page.wait_for_url("**/accueil")

    page.get_by_role("button", name="Se déconnecter").click()
    _password(page, coordinator.email)
    page.wait_for_url("**/compte/double-authentification")
    check_both_widths(page, "totp-code")
    page.get_by_label("Code de vérification").fill("000000")
    page.get_by_role("button", name="Valider").click()
    expect(page.locator("#code-erreur").get_by_text("Code incorrect ou déjà utilisé")).to_be_visible()
    check_both_widths(page, "totp-code-error")
    app_clock_step = two_factor.current_step(utcnow()) + 1  # the enrolment used this step: the next one
    page.get_by_label("Code de vérification").fill(two_factor.code_at(secret, app_clock_step))
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/accueil")


def test_the_single_sign_on_pages_and_the_admins_security_page(app, page):
    """The button on the log-in page, the provider down, an unknown agent (through a real provider on loopback),
    and the admins' page: axe and a phone's width."""
    admin = make_user(Role.ADMIN, email="admin@interieur.gouv.fr")
    db.session.commit()
    configure(app, closed_port_url())
    page.goto("/compte/connexion")
    check_both_widths(page, "sso-login")
    page.get_by_role("link", name="Se connecter avec ProConnect").click()
    expect(page.get_by_text("ProConnect ne répond pas pour le moment")).to_be_visible()
    check_both_widths(page, "sso-down")
    with running_provider() as provider:
        configure(app, provider.issuer)
        provider.set_user("agent-x", email="inconnu@interieur.gouv.fr", email_verified=True)
        page.goto("/compte/connexion")
        page.get_by_role("link", name="Se connecter avec ProConnect").click()
        page.get_by_placeholder("sub").fill("agent-x")  # the provider's own page
        page.get_by_role("button", name="Authorize").click()
        page.get_by_role("heading", name="Aucun compte Relais pour cette identité").wait_for()
        check_both_widths(page, "sso-unknown")
    log_in(page, admin.email, PASSWORD)
    page.goto("/compte/securite")
    check_both_widths(page, "security-settings")
