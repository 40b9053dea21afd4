"""Log-in sessions: opened at log-in, recognised on each request, ended by log-out, a new password or the person.

A log-in gives the browser a random token (256 bits); the `login_session` row keeps its SHA-256, when it was
opened, last seen, and until when it may last. A session ends when:
- it is ended: log-out, "Mes sessions", a password reset (`revoked_at`);
- its lifetime is over: `Lifetimes.session` without "remember me", `Lifetimes.remembered` with it;
- it was idle for longer than the person's role allows (`Lifetimes.idle_for`);
- the password changed since it was opened (`credential`: whatever path changed it), or the account was deactivated.

Recognising a session costs the one statement that loads the person; `last_seen_at` is written at most every
`TOUCH_EVERY`, so the idle timeout is exact to those few minutes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, delete, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, joinedload

from app.models import LoginSession, Role, User

TOUCH_EVERY = timedelta(minutes=5)
# An ended session stays on record this long after its last activity: where its owner logs in from
# (`known_address`), then it is deleted at their next log-in.
KEPT_FOR = timedelta(days=90)
STAFF = frozenset({Role.COORDINATOR, Role.ADMIN})
USER_AGENT_KEPT = 300  # characters of the User-Agent kept for the person's list of their sessions


@dataclass(frozen=True)
class Lifetimes:
    """How long sessions last (from the configuration: RELAIS_SESSION_HOURS, RELAIS_REMEMBER_DAYS,
    RELAIS_IDLE_HOURS_STAFF, RELAIS_IDLE_HOURS)."""

    session: timedelta = timedelta(hours=12)
    remembered: timedelta = timedelta(days=30)
    idle_staff: timedelta = timedelta(hours=8)
    idle_others: timedelta = timedelta(days=7)

    def idle_for(self, role: Role) -> timedelta:
        """Coordinators and admins see a territory's schedule: their sessions end sooner when left idle."""
        return self.idle_staff if role in STAFF else self.idle_others


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def credential_of(password_hash: str | None) -> str:
    """A short fingerprint of the password hash: sessions opened before a new password no longer match it."""
    return hashlib.sha256(f"relais-login:{password_hash or ''}".encode()).hexdigest()[:16]


def open_session(session: Session, user: User, now: datetime, lifetimes: Lifetimes, *, remember: bool,
                 user_agent: str = "", address: str = "") -> tuple[str, int]:
    """A new session for the person: its token (the only copy: the row keeps its hash) and its id. The person's
    sessions that ended long ago are deleted on the way."""
    delete_old_sessions(session, user, now, lifetimes)
    token = secrets.token_urlsafe(32)
    login = LoginSession(
        user_id=user.id, token_hash=token_hash(token), credential=credential_of(user.password_hash),
        created_at=now, last_seen_at=now, remember=remember,
        expires_at=now + (lifetimes.remembered if remember else lifetimes.session),
        user_agent=(user_agent or "")[:USER_AGENT_KEPT], address=(address or "")[:45])
    session.add(login)
    user.last_login_at = now
    session.flush()
    return token, login.id


def person_of_token(token: str) -> Select:
    """The one statement of each request: the person and their session, with the coordinator's scopes and the
    requester's establishment that most pages check or show."""
    return (select(User, LoginSession).join(LoginSession, LoginSession.user_id == User.id)
            .where(LoginSession.token_hash == token_hash(token))
            .options(joinedload(User.scopes), joinedload(User.establishment)))


def is_live(login: LoginSession, user: User, now: datetime, lifetimes: Lifetimes) -> bool:
    """Whether this session still logs the person in now."""
    return (login.revoked_at is None and now < login.expires_at
            and now < login.last_seen_at + lifetimes.idle_for(user.role)
            and user.is_active and login.credential == credential_of(user.password_hash))


def needs_touch(login: LoginSession, now: datetime) -> bool:
    return now - login.last_seen_at >= TOUCH_EVERY


def touch(connection: Connection | Session, login_id: int, now: datetime) -> bool:
    """Notes activity now, unless another request just did (a conditional UPDATE: two workers write it once)."""
    result = connection.execute(update(LoginSession)
                                .where(LoginSession.id == login_id, LoginSession.last_seen_at <= now - TOUCH_EVERY)
                                .values(last_seen_at=now))
    return result.rowcount == 1


def live_condition(user: User, now: datetime, lifetimes: Lifetimes):
    """The person's sessions that still log them in, as SQL (the same rule as `is_live`)."""
    return and_(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None), LoginSession.expires_at > now,
                LoginSession.last_seen_at > now - lifetimes.idle_for(user.role),
                LoginSession.credential == credential_of(user.password_hash))


def live_sessions(session: Session, user: User, now: datetime, lifetimes: Lifetimes) -> list[LoginSession]:
    """The person's sessions that still log them in, the most recently active first."""
    if not user.is_active:
        return []
    return list(session.scalars(select(LoginSession).where(live_condition(user, now, lifetimes))
                                .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())))


def end_session(session: Session, user: User, login_id: int, now: datetime) -> bool:
    """Ends one of the person's own sessions; False when it was already over or is someone else's."""
    result = session.execute(update(LoginSession)
                             .where(LoginSession.id == login_id, LoginSession.user_id == user.id,
                                    LoginSession.revoked_at.is_(None))
                             .values(revoked_at=now))
    return result.rowcount == 1


def end_other_sessions(session: Session, user: User, kept_id: int, now: datetime) -> int:
    """Ends every session of the person but this one; how many were still open."""
    result = session.execute(update(LoginSession)
                             .where(LoginSession.user_id == user.id, LoginSession.id != kept_id,
                                    LoginSession.revoked_at.is_(None))
                             .values(revoked_at=now))
    return result.rowcount


def end_all_sessions(session: Session, user: User, now: datetime) -> int:
    """Ends every session of the person: a new password, a deactivated account."""
    result = session.execute(update(LoginSession)
                             .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
                             .values(revoked_at=now))
    return result.rowcount


def delete_old_sessions(session: Session, user: User, now: datetime, lifetimes: Lifetimes) -> int:
    """Forgets the person's sessions that ended and were last active more than KEPT_FOR ago."""
    result = session.execute(delete(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.last_seen_at < now - KEPT_FOR,
        or_(LoginSession.revoked_at.is_not(None), LoginSession.expires_at <= now,
            LoginSession.last_seen_at <= now - lifetimes.idle_for(user.role),
            LoginSession.credential != credential_of(user.password_hash))))
    return result.rowcount


def known_address(session: Session, email: str, address: str) -> bool:
    """Whether the account of this e-mail address (if any) logged in from this network address in the last
    KEPT_FOR: its owner, most likely, whom a stranger's failed attempts must not lock out."""
    return session.scalar(select(LoginSession.id).join(User, User.id == LoginSession.user_id)
                          .where(User.email == email, LoginSession.address == address).limit(1)) is not None


# -- what the person sees of each session ----------------------------------------------------------------------

_BROWSERS = (("Edge", r"Edg(?:e|A|iOS)?/"), ("Opera", r"OPR/|Opera"), ("Samsung Internet", r"SamsungBrowser/"),
             ("Firefox", r"Firefox/|FxiOS/"), ("Chrome", r"Chrome/|CriOS/|Chromium/"), ("Safari", r"Safari/"))
_SYSTEMS = (("iOS", r"iPhone|iPad|iPod"), ("Android", r"Android"), ("ChromeOS", r"CrOS"),
            ("Windows", r"Windows"), ("macOS", r"Macintosh|Mac OS X"), ("Linux", r"Linux|X11"))


def describe_device(user_agent: str) -> tuple[str | None, str | None]:
    """(browser, system) recognised in a User-Agent, each None when unknown: « Firefox », « Windows »."""
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent or "")), None)
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent or "")), None)
    return browser, system
