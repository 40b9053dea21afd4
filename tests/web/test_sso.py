"""Single sign-on against a real OpenID Connect provider on loopback (tests/oidc_provider.py): first sign-in and
linking, returning user, unknown user, tampered state, wrong nonce, expired ID token, provider down, log-out at the
provider too, and the national setting that refuses coordinators' passwords."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import LoginSession, Role, User
from tests.factories import PASSWORD, make_trainer, make_user
from tests.helpers import login, post_form
from tests.oidc_provider import Provider, closed_port_url, configure, running_provider


@pytest.fixture
def oidc_provider(app) -> Iterator[Provider]:
    """A provider on loopback, the application pointed at it."""
    with running_provider() as provider:
        configure(app, provider.issuer)
        yield provider


def _start(client) -> str:
    response = client.get("/compte/proconnect")
    assert response.status_code == 302, _text(response)[:1000]
    return response.location


def _sign_in(client, provider, sub: str):
    """The whole journey: Relais → the provider (the person picks `sub`) → back to Relais."""
    back = provider.sign_in(_start(client), sub)
    return client.get(back)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _home(client) -> str:
    response = client.get("/accueil")
    assert response.status_code == 200, response.location
    return response.get_data(as_text=True)


def test_the_login_page_offers_proconnect_only_when_configured(app, client):
    assert "Se connecter avec ProConnect" not in client.get("/compte/connexion").get_data(as_text=True)
    unconfigured = client.get("/compte/proconnect", follow_redirects=True)
    assert unconfigured.request.path == "/compte/connexion"
    assert "La connexion unique n'est pas disponible sur ce serveur" in _text(unconfigured)
    configure(app, closed_port_url())
    assert "Se connecter avec ProConnect" in client.get("/compte/connexion").get_data(as_text=True)


def test_the_authorization_request_uses_pkce_state_and_nonce(client, oidc_provider):
    query = parse_qs(urlsplit(_start(client)).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0]
    assert query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["http://localhost/compte/proconnect/retour"]


def test_first_sign_in_links_the_imported_trainer_by_verified_email_then_by_sub(client, oidc_provider):
    trainer = make_trainer(user=make_user(Role.TRAINER, email="brigadier.martin@interieur.gouv.fr",
                                          full_name="Paul Martin", activated=False))
    db.session.commit()
    oidc_provider.set_user("agent-123", email="Brigadier.Martin@interieur.gouv.fr", email_verified=True,
                           given_name="Paul", usual_name="Martin")

    response = _sign_in(client, oidc_provider, "agent-123")
    assert response.status_code == 302 and response.location == "/accueil"
    assert "Paul Martin" in _home(client)
    user = db.session.get(User, trainer.user_id)
    db.session.refresh(user)
    assert (user.oidc_issuer, user.oidc_subject) == (oidc_provider.issuer, "agent-123")
    assert user.is_activated and user.password_hash is None  # the provider's verified address confirms it
    assert user.role is Role.TRAINER  # roles never come from the provider
    # A log-in session like a password's: listed, revocable.
    login_session = db.session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    assert login_session is not None and login_session.revoked_at is None


def test_a_coordinator_invited_by_an_admin_is_linked_at_the_first_sign_in(client, oidc_provider):
    invited = make_user(Role.COORDINATOR, email="nadia.invitee@interieur.gouv.fr", full_name="Nadia Invitée",
                        activated=False)
    db.session.commit()
    oidc_provider.set_user("agent-n1", email=invited.email, email_verified=True, given_name="Nadia",
                           usual_name="Autre-Nom")
    assert _sign_in(client, oidc_provider, "agent-n1").status_code == 302
    assert "Nadia Invitée" in _home(client)  # the name kept in Relais, not the provider's
    db.session.refresh(invited)
    assert invited.oidc_subject == "agent-n1" and invited.role is Role.COORDINATOR
    assert [scope.departement_code for scope in invited.scopes] == []  # scopes are given in Relais only


def test_a_returning_user_is_found_by_sub_even_with_a_new_email(client, oidc_provider):
    user = make_user(Role.COORDINATOR, email="c.dupont@interieur.gouv.fr", oidc_issuer=oidc_provider.issuer,
                     oidc_subject="agent-9")
    db.session.commit()
    oidc_provider.set_user("agent-9", email="claire.dupont@interieur.gouv.fr", email_verified=True)
    response = _sign_in(client, oidc_provider, "agent-9")
    assert response.status_code == 302
    assert user.full_name in _home(client)  # no second factor: the provider authenticated them


def test_an_unknown_agent_is_told_whom_to_ask(client, oidc_provider):
    make_user(Role.TRAINER, email="quelquun@interieur.gouv.fr")
    db.session.commit()
    oidc_provider.set_user("agent-x", email="inconnu@interieur.gouv.fr", email_verified=True)
    response = _sign_in(client, oidc_provider, "agent-x")
    page = _text(response)
    assert response.status_code == 403
    assert "aucun compte Relais n'existe à l'adresse inconnu@interieur.gouv.fr" in page
    assert "coordination de votre département" in page and "administrateur" in page
    assert client.get("/accueil").status_code == 302  # not logged in
    assert db.session.scalar(select(User).where(User.oidc_subject == "agent-x")) is None


def test_an_unverified_email_links_nothing(client, oidc_provider):
    user = make_user(Role.TRAINER, email="agent@interieur.gouv.fr")
    db.session.commit()
    oidc_provider.set_user("agent-u", email="agent@interieur.gouv.fr", email_verified=False)
    response = _sign_in(client, oidc_provider, "agent-u")
    assert response.status_code == 403
    assert "n'a pas confirmé votre adresse" in _text(response)
    db.session.refresh(user)
    assert user.oidc_subject is None


def test_a_provider_trusted_for_emails_links_without_email_verified(app, client, oidc_provider):
    """ProConnect gives `email` without `email_verified`: RELAIS_OIDC_TRUST_EMAIL=1 takes it as verified."""
    make_user(Role.REQUESTER, email="principal@ac-lyon.fr", full_name="Anne Principale")
    db.session.commit()
    oidc_provider.set_user("agent-p", email="principal@ac-lyon.fr")
    assert _sign_in(client, oidc_provider, "agent-p").status_code == 403  # by default: not verified
    app.config["RELAIS_OIDC_TRUST_EMAIL"] = True
    assert _sign_in(client, oidc_provider, "agent-p").status_code == 302
    assert "Anne Principale" in _home(client)


def test_a_tampered_state_is_refused(client, oidc_provider):
    make_user(Role.TRAINER, email="agent@interieur.gouv.fr")
    db.session.commit()
    oidc_provider.set_user("agent-s", email="agent@interieur.gouv.fr", email_verified=True)
    back = oidc_provider.sign_in(_start(client), "agent-s")
    path, query = back.split("?")
    values = parse_qs(query)
    response = client.get(path, query_string={"code": values["code"][0], "state": values["state"][0] + "x"})
    assert response.status_code == 400
    assert "Cette connexion a expiré ou a été interrompue" in _text(response)
    assert client.get("/accueil").status_code == 302


def test_a_wrong_nonce_is_refused(client, oidc_provider, caplog):
    make_user(Role.TRAINER, email="agent@interieur.gouv.fr")
    db.session.commit()
    oidc_provider.set_user("agent-n", email="agent@interieur.gouv.fr", email_verified=True)
    back = oidc_provider.sign_in(_start(client), "agent-n")
    with client.session_transaction() as session:  # the nonce this browser expects is not the ID token's
        key = next(key for key in session if key.startswith("_state_provider_"))
        stored = dict(session[key])
        stored["data"] = {**stored["data"], "nonce": "un-autre-nonce"}
        session[key] = stored
    response = client.get(back)
    assert response.status_code == 400
    assert "n'a pas pu être vérifiée" in _text(response)
    assert "Invalid claim: 'nonce'" in caplog.text
    assert client.get("/accueil").status_code == 302


def test_an_expired_id_token_is_refused(app, client, caplog):
    make_user(Role.TRAINER, email="agent@interieur.gouv.fr")
    db.session.commit()
    with running_provider(token_max_age=timedelta(minutes=-10)) as provider:
        configure(app, provider.issuer)
        provider.set_user("agent-e", email="agent@interieur.gouv.fr", email_verified=True)
        response = _sign_in(client, provider, "agent-e")
    assert response.status_code == 400
    assert "n'a pas pu être vérifiée" in _text(response)
    assert "ExpiredTokenError" in caplog.text
    assert client.get("/accueil").status_code == 302


def test_provider_down_gives_a_french_message_and_the_password_still_works(app, client):
    configure(app, closed_port_url())
    response = client.get("/compte/proconnect")
    page = _text(response)
    assert response.status_code == 503
    assert "ProConnect ne répond pas pour le moment" in page and "utilisez votre mot de passe" in page
    assert client.get("/compte/connexion").status_code == 200
    requester = make_user(Role.REQUESTER)
    db.session.commit()
    login(client, requester)
    assert requester.full_name in _home(client)


def test_the_provider_down_at_the_return_gives_the_same_message(app, client):
    make_user(Role.TRAINER, email="agent@interieur.gouv.fr")
    db.session.commit()
    with running_provider() as provider:
        configure(app, provider.issuer)
        provider.set_user("agent-d", email="agent@interieur.gouv.fr", email_verified=True)
        back = provider.sign_in(_start(client), "agent-d")
    response = client.get(back)  # the provider stopped meanwhile: the code cannot be exchanged
    assert response.status_code == 503
    assert "ne répond pas" in _text(response)


def test_logout_ends_the_session_here_and_at_the_provider(client, oidc_provider):
    user = make_user(Role.TRAINER, email="agent@interieur.gouv.fr")
    db.session.commit()
    oidc_provider.set_user("agent-l", email="agent@interieur.gouv.fr", email_verified=True)
    assert _sign_in(client, oidc_provider, "agent-l").status_code == 302
    response = post_form(client, "/compte/deconnexion", {}, page="/accueil")
    assert response.status_code == 302
    target = urlsplit(response.location)
    assert f"{target.scheme}://{target.netloc}" == oidc_provider.url and target.path == "/oauth2/end_session"
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/compte/connexion"]
    assert query["id_token_hint"][0].count(".") == 2  # the ID token Relais received
    # The provider's page ends its session and sends the browser back to Relais' log-in page.
    page = requests.get(response.location, timeout=5)
    assert page.status_code == 200
    confirm = requests.post(f"{oidc_provider.url}/oauth2/end_session/confirm",
                            data={"redirect_uri": query["post_logout_redirect_uri"][0]}, allow_redirects=False,
                            timeout=5)
    assert confirm.headers["Location"].startswith("http://localhost/compte/connexion")
    assert client.get("/accueil").status_code == 302
    login_session = db.session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    db.session.refresh(login_session)
    assert login_session.revoked_at is not None


def test_a_password_logout_does_not_go_to_the_provider(client, oidc_provider):
    requester = make_user(Role.REQUESTER)
    db.session.commit()
    login(client, requester)
    response = post_form(client, "/compte/deconnexion", {}, page="/accueil")
    assert response.location == "/compte/connexion"


def test_sso_required_refuses_a_coordinators_password_not_a_requesters(client, oidc_provider):
    admin = make_user(Role.ADMIN)
    coordinator = make_user(Role.COORDINATOR, email="coordination@interieur.gouv.fr")
    requester = make_user(Role.REQUESTER)
    db.session.commit()
    login(client, admin)
    page = client.get("/compte/securite").get_data(as_text=True)
    assert "Exiger la connexion unique" in page
    response = post_form(client, "/compte/securite", {"reglage-sso_required": "y", "reglage-submit": "Enregistrer"})
    assert response.status_code == 302
    post_form(client, "/compte/deconnexion", {}, page="/accueil")

    response = post_form(client, "/compte/connexion", {"email": coordinator.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "se connectent avec ProConnect" in _text(response)
    assert client.get("/accueil").status_code == 302
    login(client, requester)  # establishments' staff keep their password
    assert requester.full_name in _home(client)
    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    # The coordinator signs in through the provider instead.
    oidc_provider.set_user("agent-c", email=coordinator.email, email_verified=True)
    assert _sign_in(client, oidc_provider, "agent-c").status_code == 302
    assert coordinator.full_name in _home(client)


def test_only_admins_reach_the_security_page(client):
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    login(client, coordinator)
    assert client.get("/compte/securite").status_code == 403
