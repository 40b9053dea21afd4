"""The web side of log-in sessions (the rules are app.domain.login_sessions): what a log-in puts in the cookies,
how each request finds its person again, and log-out.

Flask-Login keeps, as the person's "id" (`login_manager.id_attribute`), the token of the log-in: in the signed
session cookie, and in the "remember me" cookie when asked. `load_user` reads it back in one statement; the row
says whether it still logs anyone in.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import current_user, login_user, logout_user
from flask_login.utils import decode_cookie

from app.domain import audit, login_sessions
from app.domain.clock import utcnow
from app.extensions import db
from app.models import User
from app.unit_of_work import run


def lifetimes() -> login_sessions.Lifetimes:
    config = current_app.config
    return login_sessions.Lifetimes(session=timedelta(hours=config["RELAIS_SESSION_HOURS"]),
                                    remembered=timedelta(days=config["RELAIS_REMEMBER_DAYS"]),
                                    idle_staff=timedelta(hours=config["RELAIS_IDLE_HOURS_STAFF"]),
                                    idle_others=timedelta(hours=config["RELAIS_IDLE_HOURS"]))


def log_in(user: User, *, remember: bool = False) -> None:
    """Opens a session for the person on this browser. The cookie session starts afresh (a new CSRF secret,
    nothing kept from before the log-in but the language chosen)."""
    limits = lifetimes()
    audit.acts_as(user)  # the log-in's own writes (its session, the last log-in) are the person's
    token, login_id = run(lambda: login_sessions.open_session(
        db.session, user, utcnow(), limits, remember=remember, user_agent=request.user_agent.string,
        address=request.remote_addr or "")).value
    language = session.get("language")
    had_remember_cookie = _remember_cookie_name() in request.cookies
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # Flask-WTF's copy of the old one
    if language:
        session["language"] = language
    user.login_token, user.login_session_id = token, login_id
    login_user(user, remember=remember, duration=limits.remembered)
    if not remember and had_remember_cookie:
        session["_remember"] = "clear"  # an earlier "remember me" of this browser gives way to this log-in


def load_user(token: str) -> User | None:
    """The person whose live session has this token, or None (and the cookies forget it)."""
    now = utcnow()
    row = db.session.execute(login_sessions.person_of_token(token)).unique().first()
    if row is None or not login_sessions.is_live(row.LoginSession, row.User, now, lifetimes()):
        _forget(token)
        return None
    user, login = row
    if login_sessions.needs_touch(login, now):
        # Its own short transaction: the request's own (read only, or its unit of work) stays as it is.
        with db.engine.begin() as connection:
            login_sessions.touch(connection, login.id, now)
    user.login_token = token
    user.login_session_id = login.id
    return user


def log_out() -> None:
    """Ends this browser's session on the server too: a copy of its cookies no longer logs anyone in."""
    login_id = getattr(current_user, "login_session_id", None) if current_user.is_authenticated else None
    if login_id is not None:
        user = current_user._get_current_object()
        run(lambda: login_sessions.end_session(db.session, user, login_id, utcnow()))
    logout_user()


def _remember_cookie_name() -> str:
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")


def _forget(token: str) -> None:
    session.pop("_user_id", None)
    cookie = request.cookies.get(_remember_cookie_name())
    if cookie is not None and decode_cookie(cookie) == token:
        session["_remember"] = "clear"  # Flask-Login deletes the dead "remember me" cookie with the answer
