"""Log-in sessions can be ended (issue #17, points 4 and 13): each log-in is a row on the server whose token the
cookies carry; log-out, a new password, a deactivated account, the idle timeout and "Mes sessions" end it, and a
copy of the cookies then logs nobody in.

Each request of these tests is served in an app context of its own (`request_anew`), as a browser's next request
is: Flask-Login reads the person from the cookies again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from app import create_app
from app.domain import feeds, tokens
from app.extensions import db
from app.models import LoginSession, Role, User
from tests.factories import PASSWORD, make_coordinator, make_trainer, make_user
from tests.helpers import csrf_token_from, current_totp_code, request_anew

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


def browser(app, user_agent: str = FIREFOX):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


def get(client, url: str):
    return request_anew(client, "GET", url)


def post(client, url: str, data: dict | None = None, page: str | None = None):
    """Posts like the page's form: every field named *csrf_token gets the page's token."""
    token = csrf_token_from(get(client, page or url).get_data(as_text=True))
    fields = {name: token if name.endswith("csrf_token") else value for name, value in (data or {}).items()}
    fields.setdefault("csrf_token", token)
    return request_anew(client, "POST", url, data=fields)


def log_in(client, user: User, password: str = PASSWORD, remember: bool = False):
    data = {"email": user.email, "password": password}
    if remember:
        data["remember"] = "y"
    response = post(client, "/compte/connexion", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    if response.location.endswith("/compte/double-authentification"):  # a coordinator's or admin's code (#21)
        response = post(client, "/compte/double-authentification", {"code": current_totp_code(user.email)})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def logged_in(client) -> bool:
    return get(client, "/accueil").status_code == 200


def copy_of(app, client, *names: str):
    """Another browser holding a copy of these cookies (an attacker who captured them)."""
    thief = browser(app)
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        thief.set_cookie(name, cookie.value)
    return thief


def test_a_cookie_copied_before_log_out_no_longer_logs_in(app):
    user = make_user()
    db.session.commit()
    owner = browser(app)
    log_in(owner, user)
    thief = copy_of(app, owner, "session")
    assert logged_in(thief)
    post(owner, "/compte/deconnexion", page="/accueil")
    assert not logged_in(owner)
    assert not logged_in(thief), "the copied session cookie still logs in after log-out"


def test_remember_me_is_a_random_token_per_log_in_that_log_out_ends(app):
    user = make_user()
    db.session.commit()
    first, second = browser(app), browser(app)
    log_in(first, user, remember=True)
    log_in(second, user, remember=True)
    remembered = [client.get_cookie("remember_token").value for client in (first, second)]
    assert remembered[0] != remembered[1], "the same remember-me cookie at every log-in"
    assert str(user.id) not in {value.split("|")[0] for value in remembered}
    # The remember-me cookie alone (the browser was closed: no session cookie) logs in…
    thief = copy_of(app, first, "remember_token")
    assert logged_in(thief)
    # …until its log-in ends; the other device's log-in goes on.
    post(first, "/compte/deconnexion", page="/accueil")
    assert first.get_cookie("remember_token") is None
    assert not logged_in(thief), "the captured remember-me cookie survives log-out"
    assert logged_in(second)


def test_cookies_are_same_site_http_only_and_lasting_only_as_configured(app, database_url):
    production = create_app("production", {"SECRET_KEY": "une-cle-de-test", "SQLALCHEMY_DATABASE_URI": database_url,
                                           "RATELIMIT_ENABLED": False,
                                           "PASSWORD_HASH_METHOD": app.config["PASSWORD_HASH_METHOD"]})
    user = make_user()
    db.session.commit()
    for application, secure in ((app, False), (production, True)):
        client = browser(application)
        response = log_in(client, user, remember=True)
        cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
        assert set(cookies) == {"session", "remember_token"}
        for header in cookies.values():
            assert "SameSite=Lax" in header and "HttpOnly" in header
            assert ("Secure" in header) is secure, header
        expires = datetime.strptime(cookies["remember_token"].split("Expires=")[1].split(";")[0],
                                    "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
        assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)
        with application.app_context():
            db.session.remove()
    with production.app_context():
        db.engine.dispose()


def test_a_new_password_ends_every_session_remembered_or_not(app):
    user = make_user(email="oubli@exemple.fr")
    db.session.commit()
    laptop, phone = browser(app), browser(app, IPHONE)
    log_in(laptop, user)
    log_in(phone, user, remember=True)
    captured = copy_of(app, phone, "remember_token")
    token = tokens.make_token(app.config["SECRET_KEY"], tokens.PASSWORD_RESET, user.id, user.password_hash,
                              user.email)
    link = f"/compte/nouveau-mot-de-passe/{token}"
    stranger = browser(app)
    response = post(stranger, link, {"password": "Nouveau-Secret-2027", "confirm": "Nouveau-Secret-2027"})
    assert response.status_code == 302
    for client in (laptop, phone, captured):
        assert not logged_in(client)
    assert db.session.scalar(select(LoginSession.id).where(LoginSession.revoked_at.is_(None))) is None


def test_a_password_changed_by_any_path_ends_the_sessions_opened_with_the_old_one(app):
    """Not only the reset page: whatever writes a new hash (a command, an import, SQL), the sessions opened with
    the old password stop logging in."""
    user = make_user()
    db.session.commit()
    client = browser(app)
    log_in(client, user)
    user.password_hash = "pbkdf2:sha256:1000$autre$" + "0" * 64
    db.session.commit()
    assert not logged_in(client)


def test_a_deactivated_account_is_logged_out_at_once(app):
    user = make_user()
    db.session.commit()
    client = browser(app)
    log_in(client, user, remember=True)
    user.active = False
    db.session.commit()
    assert not logged_in(client)
    assert get(client, "/accueil").headers["Location"].startswith("/compte/connexion")


@pytest.mark.parametrize(("role", "idle"), [(Role.COORDINATOR, timedelta(hours=8)),
                                            (Role.ADMIN, timedelta(hours=8)),
                                            (Role.TRAINER, timedelta(days=7)),
                                            (Role.REQUESTER, timedelta(days=7))])
def test_an_idle_session_ends_after_the_roles_timeout(app, clock, role, idle):
    user = make_coordinator("69") if role is Role.COORDINATOR else (
        make_trainer().user if role is Role.TRAINER else make_user(role))
    db.session.commit()
    client = browser(app)
    log_in(client, user, remember=True)
    clock.advance(idle - timedelta(minutes=10))
    assert logged_in(client), "used within its idle timeout: still logged in"
    clock.advance(idle - timedelta(minutes=10))
    assert logged_in(client), "each visit counts as activity"
    clock.advance(idle + timedelta(minutes=1))
    assert not logged_in(client), "left idle longer than its role's timeout"


def test_a_session_without_remember_me_lasts_twelve_hours_at_most(app, clock):
    user = make_user()
    db.session.commit()
    client = browser(app)
    log_in(client, user)
    for _ in range(5):
        clock.advance(timedelta(hours=2, minutes=20))
        assert logged_in(client)
    clock.advance(timedelta(hours=1))
    assert not logged_in(client)


def test_activity_is_written_at_most_every_five_minutes(app, clock):
    """The request's cost stays one statement: last_seen_at is written again only after five minutes."""
    user = make_user()
    db.session.commit()
    client = browser(app)
    log_in(client, user)
    writes: list[str] = []

    def note(_connection, _cursor, statement, *_rest) -> None:
        if statement.lstrip().upper().startswith("UPDATE LOGIN_SESSION"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        for _ in range(4):
            clock.advance(timedelta(minutes=1))
            assert logged_in(client)
        assert writes == []
        clock.advance(timedelta(minutes=2))
        assert logged_in(client) and logged_in(client)
        assert len(writes) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    seen = db.session.scalar(select(LoginSession.last_seen_at))
    assert seen == clock.now()


def test_mes_sessions_lists_the_devices_and_ends_one_or_all_the_others(app):
    user = make_user()
    other_person = make_user()
    db.session.commit()
    laptop, phone, tablet = browser(app), browser(app, IPHONE), browser(app, "curl/8.0")
    for client in (laptop, phone, tablet):
        log_in(client, user)
    log_in(browser(app), other_person)
    page = get(laptop, "/compte/sessions").get_data(as_text=True)
    assert "Firefox sur Windows" in page and "Safari sur iOS" in page and "Appareil non reconnu" in page
    assert page.count("Cet appareil") == 1 and "Se déconnecter de cet appareil" in page
    assert "Mes sessions" in page and 'aria-current="page"' in page  # the navigation's link
    ids = {agent: login_id for agent, login_id in db.session.execute(
        select(LoginSession.user_agent, LoginSession.id).where(LoginSession.user_id == user.id))}
    phone_id = ids[IPHONE]
    foreign_id = db.session.scalar(select(LoginSession.id).where(LoginSession.user_id == other_person.id))
    # Ending someone else's session changes nothing, and says no more than for a session already over.
    response = post(laptop, f"/compte/sessions/{foreign_id}/terminer", {f"s{foreign_id}-csrf_token": ""},
                    page="/compte/sessions")
    assert response.status_code == 302
    assert "Cette session était déjà terminée." in get(laptop, "/compte/sessions").get_data(as_text=True)
    assert db.session.get(LoginSession, foreign_id).revoked_at is None
    # One of their own.
    post(laptop, f"/compte/sessions/{phone_id}/terminer", {f"s{phone_id}-csrf_token": ""}, page="/compte/sessions")
    assert not logged_in(phone) and logged_in(laptop) and logged_in(tablet)
    # All the others.
    post(laptop, "/compte/sessions/terminer-les-autres", {"autres-csrf_token": ""}, page="/compte/sessions")
    assert not logged_in(tablet) and logged_in(laptop)
    page = get(laptop, "/compte/sessions").get_data(as_text=True)
    assert "Safari sur iOS" not in page and "Terminer toutes les autres sessions" not in page
    # Its own: a log-out.
    current_id = db.session.scalar(select(LoginSession.id).where(LoginSession.user_id == user.id,
                                                                  LoginSession.revoked_at.is_(None)))
    post(laptop, f"/compte/sessions/{current_id}/terminer", {f"s{current_id}-csrf_token": ""}, page="/compte/sessions")
    assert not logged_in(laptop)


def test_ending_a_session_needs_the_pages_csrf_token(app):
    user = make_user()
    db.session.commit()
    laptop, phone = browser(app), browser(app)
    log_in(laptop, user)
    log_in(phone, user)
    response = request_anew(laptop, "POST", "/compte/sessions/terminer-les-autres", data={})
    assert response.status_code == 400
    assert logged_in(phone)


def test_the_csrf_secret_is_new_after_log_in(app):
    """A token planted or read before the log-in is worthless after it."""
    user = make_user()
    db.session.commit()
    client = browser(app)
    before = csrf_token_from(get(client, "/compte/connexion").get_data(as_text=True))
    with client.session_transaction() as cookie_session:
        secret_before = cookie_session["csrf_token"]
    response = request_anew(client, "POST", "/compte/connexion", data={
        "email": user.email, "password": PASSWORD, "csrf_token": before})
    assert response.status_code == 302
    with client.session_transaction() as cookie_session:
        assert cookie_session.get("csrf_token") != secret_before
    stale = request_anew(client, "POST", "/compte/deconnexion", data={"csrf_token": before})
    assert stale.status_code == 400
    assert logged_in(client)


def test_pages_behind_log_in_are_not_stored_by_browsers_or_proxies(app):
    trainer = make_trainer()
    db.session.commit()
    client = browser(app)
    log_in(client, trainer.user)
    for url in ("/accueil", "/calendrier/", "/compte/sessions", "/formateurs/mes-disponibilites"):
        response = get(client, url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    feed = db.session.scalar(select(feeds.CalendarFeed))
    token = feeds.feed_token(app.config["SECRET_KEY"], feed.nonce)
    assert get(client, f"/calendrier/flux/{token}.ics").headers["Cache-Control"] == "private, max-age=300"


def test_a_deactivated_trainer_record_loses_its_feed_though_the_account_stays(app):
    trainer = make_trainer()
    feed = feeds.feed_of(db.session, app.config["SECRET_KEY"], user=trainer.user)
    db.session.commit()
    url = f"/calendrier/flux/{feeds.feed_token(app.config['SECRET_KEY'], feed.nonce)}.ics"
    client = app.test_client()
    assert client.get(url).status_code == 200
    trainer.active, trainer.inactive_reason = False, "Mutation"
    db.session.commit()
    assert trainer.user.is_active
    assert client.get(url).status_code == 404


@pytest.mark.rolled_back
def test_ended_sessions_stay_on_record_ninety_days_then_go(app, clock):
    """The addresses a person logged in from are remembered for a while (a stranger's failed attempts do not lock
    them out there: test_rate_limits.py), then forgotten at a later log-in."""
    from app.domain.login_sessions import Lifetimes, end_all_sessions, known_address, open_session

    user = make_user()
    open_session(db.session, user, clock.now(), Lifetimes(), remember=False, address="192.0.2.10")
    end_all_sessions(db.session, user, clock.now())
    clock.advance(timedelta(days=30))
    open_session(db.session, user, clock.now(), Lifetimes(), remember=False, address="198.51.100.20")
    assert known_address(db.session, user.email, "192.0.2.10")
    clock.advance(timedelta(days=61))
    open_session(db.session, user, clock.now(), Lifetimes(), remember=False, address="198.51.100.20")
    assert not known_address(db.session, user.email, "192.0.2.10")
    assert known_address(db.session, user.email, "198.51.100.20")
    assert not known_address(db.session, "personne@ailleurs.fr", "198.51.100.20")
