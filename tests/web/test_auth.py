"""Log-in, log-out, registration, activation, password reset, rate limiting and CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.domain.passwords import verify_password
from app.extensions import db, limiter
from app.models import OutgoingMessage, Role, User
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_token_from, enrol_second_factor, login, post_form


def _last_link(recipient: str) -> str:
    message = db.session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.recipient == recipient).order_by(OutgoingMessage.id.desc())
    ).first()
    assert message is not None, f"no e-mail to {recipient}"
    for word in message.body_text.split():
        if word.startswith("http"):
            return word.split("127.0.0.1:5000", 1)[1]
    raise AssertionError("no link in the e-mail")


def test_login_and_logout(client):
    user = make_user(Role.REQUESTER)
    db.session.commit()
    response = login(client, user)
    assert response.headers["Location"] == "/accueil"
    home = client.get("/accueil")
    assert home.status_code == 200
    assert user.full_name in home.get_data(as_text=True)
    logout = post_form(client, "/compte/deconnexion", {}, page="/accueil")
    assert logout.status_code == 302
    assert client.get("/accueil").status_code == 302  # back to the log-in page


def test_wrong_password_is_refused_in_french(client):
    user = make_user()
    db.session.commit()
    response = post_form(client, "/compte/connexion", {"email": user.email, "password": "mauvais-mot-de-passe"})
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_unactivated_and_deactivated_accounts_cannot_log_in(client):
    invited = make_user(activated=False)
    disabled = make_user(active=False)
    db.session.commit()
    for user in (invited, disabled):
        response = post_form(client, "/compte/connexion", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 200


def test_registration_confirms_the_address_then_logs_in(client):
    response = post_form(client, "/compte/inscription", {
        "full_name": "Anne Proviseure", "email": "Anne.Proviseure@lycee.fr", "phone": "",
        "password": "Un-Tres-Bon-Mot-2026", "confirm": "Un-Tres-Bon-Mot-2026"})
    assert response.status_code == 200
    user = User.by_email("anne.proviseure@lycee.fr")
    assert user.role is Role.REQUESTER and not user.is_active
    link = _last_link("anne.proviseure@lycee.fr")
    assert client.get(link).status_code == 302
    db.session.refresh(user)
    assert user.is_active
    assert client.get("/accueil").status_code == 200
    # The link works once.
    client.post("/compte/deconnexion", data={"csrf_token": csrf_token_from(client.get("/accueil").get_data(True))})
    assert "plus valable" in client.get(link, follow_redirects=True).get_data(as_text=True)


def test_registration_refuses_weak_and_mismatched_passwords(client):
    response = post_form(client, "/compte/inscription", {
        "full_name": "Paul Martin", "email": "paul@exemple.fr", "password": "court", "confirm": "court"})
    assert "Le mot de passe doit contenir au moins 12 caractères." in response.get_data(as_text=True)
    response = post_form(client, "/compte/inscription", {  # 11 characters, none common: still too short
        "full_name": "Paul Martin", "email": "paul@exemple.fr", "password": "Kq7-vb2-Lm9", "confirm": "Kq7-vb2-Lm9"})
    assert "au moins 12 caractères" in response.get_data(as_text=True)
    response = post_form(client, "/compte/inscription", {
        "full_name": "Paul Martin", "email": "paul@exemple.fr", "password": "qwerty123456", "confirm": "qwerty123456"})
    assert "plus courants" in response.get_data(as_text=True)
    response = post_form(client, "/compte/inscription", {
        "full_name": "Paul Martin", "email": "paul@exemple.fr", "password": "Un-Tres-Bon-Mot-2026",
        "confirm": "Un-Autre-Mot-2026"})
    assert "ne correspondent pas" in response.get_data(as_text=True)
    assert User.by_email("paul@exemple.fr") is None


def test_the_password_hint_gives_the_configured_minimum(app, client):
    assert "Au moins 12 caractères ; évitez les mots de passe courants." in client.get(
        "/compte/inscription").get_data(as_text=True)
    app.config["RELAIS_PASSWORD_MIN_LENGTH"] = 16
    page = client.get("/compte/inscription").get_data(as_text=True)
    assert "Au moins 16 caractères" in page and "Au moins 12" not in page
    response = post_form(client, "/compte/inscription", {
        "full_name": "Paul Martin", "email": "paul@exemple.fr", "password": "Kq7-vb2-Lm9-xx",
        "confirm": "Kq7-vb2-Lm9-xx"})
    assert "au moins 16 caractères" in response.get_data(as_text=True)


def test_registration_does_not_reveal_existing_accounts(client):
    existing = make_user(email="deja@exemple.fr")
    db.session.commit()
    response = post_form(client, "/compte/inscription", {
        "full_name": "Quelqu'un", "email": "deja@exemple.fr", "password": "Un-Tres-Bon-Mot-2026",
        "confirm": "Un-Tres-Bon-Mot-2026"})
    assert "Consultez votre messagerie" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "deja@exemple.fr")).id == existing.id
    assert "nouveau-mot-de-passe" in _last_link("deja@exemple.fr")


def test_password_reset_works_once(client):
    user = make_user(email="oubli@exemple.fr")
    db.session.commit()
    response = post_form(client, "/compte/mot-de-passe-oublie", {"email": "oubli@exemple.fr"})
    assert "Consultez votre messagerie" in response.get_data(as_text=True)
    link = _last_link("oubli@exemple.fr")
    response = post_form(client, link, {"password": "Nouveau-Secret-2027", "confirm": "Nouveau-Secret-2027"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, "Nouveau-Secret-2027")
    login(client, user, "Nouveau-Secret-2027")
    client.post("/compte/deconnexion", data={"csrf_token": csrf_token_from(client.get("/accueil").get_data(True))})
    again = client.get(link, follow_redirects=True)
    assert "plus valable" in again.get_data(as_text=True)


def test_an_email_is_written_in_its_recipients_language_not_the_pages(client):
    """The page of the request is French, the message to an English-speaking account is English: each render
    takes the catalogue of its own language (app.templating binds _() per render)."""
    make_user(email="reader@example.org", full_name="Ada Reader", language="en")
    db.session.commit()
    page = post_form(client, "/compte/mot-de-passe-oublie", {"email": "reader@example.org"}).get_data(as_text=True)
    assert "Consultez votre messagerie" in page and 'lang="fr"' in page
    message = db.session.scalar(select(OutgoingMessage).where(OutgoingMessage.recipient == "reader@example.org"))
    assert message.body_text.startswith("Hello Ada Reader,") and "Bonjour" not in message.body_text
    assert "Hello Ada Reader," in message.body_html and "Bonjour" not in message.body_html


def test_password_reset_for_unknown_address_says_the_same_and_sends_no_link(client):
    """The same page, and the same work (one e-mail written: the timing tells nothing either), but the e-mail
    says that no account uses the address, with no link to choose a password."""
    disabled = make_user(email="parti@exemple.fr", active=False)
    db.session.commit()
    for address in ("personne@nulle-part.fr", disabled.email):
        response = post_form(client, "/compte/mot-de-passe-oublie", {"email": address})
        assert "Consultez votre messagerie" in response.get_data(as_text=True)
        [message] = db.session.scalars(select(OutgoingMessage).where(OutgoingMessage.recipient == address)).all()
        assert "aucun compte actif" in message.body_text and "/compte/inscription" in message.body_text
        assert "nouveau-mot-de-passe" not in message.body_text + message.body_html


def test_expired_reset_link_is_refused(client, clock):
    user = make_user(email="lent@exemple.fr")
    db.session.commit()
    post_form(client, "/compte/mot-de-passe-oublie", {"email": user.email})
    link = _last_link(user.email)
    # itsdangerous reads the wall clock: a forged old timestamp is the honest way to age a token.
    from itsdangerous import URLSafeTimedSerializer

    token = link.rsplit("/", 1)[1]
    serializer = URLSafeTimedSerializer(client.application.config["SECRET_KEY"], salt="relais-password-reset")
    payload = serializer.loads(token)
    import time as real_time
    from unittest import mock

    three_hours_ago = real_time.time() - timedelta(hours=3).total_seconds()
    with mock.patch("itsdangerous.timed.time.time", return_value=three_hours_ago):
        old_token = serializer.dumps(payload)
    response = client.get(f"/compte/nouveau-mot-de-passe/{old_token}", follow_redirects=True)
    assert "plus valable" in response.get_data(as_text=True)


def test_invitation_activation_sets_the_password(client):
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login(client, admin)
    response = post_form(client, "/admin/utilisateurs/inviter", {
        "full_name": "Jeanne Coordinatrice", "email": "jeanne@interieur.gouv.fr", "role": "coordinator",
        "departements": ["69", "01"], "force": "gendarmerie"})
    assert response.status_code == 302
    invited = User.by_email("jeanne@interieur.gouv.fr")
    assert not invited.is_activated
    assert sorted(s.departement_code for s in invited.scopes) == ["01", "69"]
    link = _last_link("jeanne@interieur.gouv.fr")
    client.post("/compte/deconnexion", data={"csrf_token": csrf_token_from(client.get("/accueil").get_data(True))})
    response = post_form(client, link, {"password": "Gendarmerie-Lyon-2026", "confirm": "Gendarmerie-Lyon-2026"})
    assert response.status_code == 302
    assert response.location.endswith("/compte/double-authentification/activer")  # a coordinator enrols first
    enrol_second_factor(client)
    db.session.refresh(invited)
    assert invited.is_active
    assert "Jeanne Coordinatrice" in client.get("/accueil").get_data(as_text=True)


def test_invitation_requires_a_departement_for_coordinators(client):
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login(client, admin)
    response = post_form(client, "/admin/utilisateurs/inviter", {
        "full_name": "Sans Périmètre", "email": "sans@interieur.gouv.fr", "role": "coordinator", "force": ""})
    assert "Choisissez au moins un département" in response.get_data(as_text=True)
    assert User.by_email("sans@interieur.gouv.fr") is None


@pytest.fixture
def limited_client(database_url):
    """A second app on the same database with the rate limits switched on."""
    limited_app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                                         "RELAIS_LOGIN_LIMIT_PER_ADDRESS": "8 per 15 minutes"})
    with limited_app.app_context():
        limiter.reset()
        yield limited_app.test_client()
        limiter.reset()
        db.session.remove()
        db.engine.dispose()


def test_login_is_rate_limited_per_account(app, limited_client):
    user = make_user()
    other = make_user()
    db.session.commit()
    statuses = [post_form(limited_client, "/compte/connexion", {"email": user.email, "password": "faux-mot-de-passe"})
                .status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    # Even the right password waits: the account is protected, not the attacker's guess.
    blocked = post_form(limited_client, "/compte/connexion", {"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.get_data(as_text=True)
    # Another account from the same address is not blocked by this account's limit.
    assert login(limited_client, other).status_code == 302


def test_login_is_rate_limited_per_address(app, limited_client):
    statuses = [post_form(limited_client, "/compte/connexion", {"email": f"inconnu{i}@exemple.fr",
                                                                "password": "faux-mot-de-passe"}).status_code
                for i in range(9)]
    assert statuses == [200] * 8 + [429]


def test_form_without_csrf_token_is_refused(client):
    user = make_user()
    db.session.commit()
    response = client.post("/compte/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)
    response = client.post("/compte/connexion", data={"email": user.email, "password": PASSWORD,
                                                      "csrf_token": "faux-jeton"})
    assert response.status_code == 400


def test_passwords_are_hashed_with_scrypt_outside_tests():
    from app.domain.passwords import hash_password

    assert hash_password("Un-Tres-Bon-Mot-2026").startswith("scrypt:")


def test_language_switch_to_english_and_back(client):
    user = make_user()
    db.session.commit()
    login(client, user)
    page = client.get("/accueil").get_data(as_text=True)
    assert 'lang="fr"' in page and "Se déconnecter" in page
    post_form(client, "/compte/langue/en", {"next": "/accueil"}, page="/accueil")
    page = client.get("/accueil").get_data(as_text=True)
    assert 'lang="en"' in page and "Log out" in page
    db.session.refresh(user)
    assert user.language == "en"
    post_form(client, "/compte/langue/fr", {"next": "/accueil"}, page="/accueil")
    assert "Se déconnecter" in client.get("/accueil").get_data(as_text=True)


def test_open_redirect_after_login_is_refused(client):
    user = make_user()
    db.session.commit()
    html = client.get("/compte/connexion").get_data(as_text=True)
    response = client.post("/compte/connexion?next=//evil.example/x",
                           data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token_from(html)})
    assert response.headers["Location"] == "/accueil"


def test_the_account_of_a_request_comes_with_its_scopes_and_establishment(app):
    """One statement loads the log-in session of the cookie's token and its account, with what most pages check
    (a coordinator's scopes) or show (a requester's establishment): nothing more is read when a page asks."""
    from sqlalchemy import event, inspect

    from app.domain.clock import utcnow
    from app.domain.login_sessions import Lifetimes, open_session
    from app.extensions import login_manager
    from tests.factories import make_coordinator, make_establishment

    coordinator = make_coordinator("69")
    requester = make_user(Role.REQUESTER, establishment_id=make_establishment("69").id)
    ids = [open_session(db.session, user, utcnow(), Lifetimes(), remember=False)[0]
           for user in (coordinator, requester)]
    db.session.commit()
    statements = []

    def record(_connection, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        db.session.expunge_all()
        loaded = [login_manager._user_callback(token) for token in ids]
        assert not any({"scopes", "establishment"} & inspect(user).unloaded for user in loaded)
        assert [scope.departement_code for scope in loaded[0].scopes] == ["69"]
        assert loaded[1].establishment.departement_code == "69" and loaded[1].scopes == []
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 2
