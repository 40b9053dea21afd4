"""Personal access tokens of the JSON API (issue #22): made on the person's account page, shown once, kept hashed.

A token is `relais_pat_` and 43 random URL-safe characters (256 bits); the `access_token` row keeps its SHA-256,
a short prefix the person recognises in their list, its name, its scope (read, or read and write), its expiry
(a year by default, at most `max_days`), when it was last used (written at most once a minute: `TOUCH_EVERY`) and
when it was revoked. A token acts as its person, with their role and scope: the API asks the same policies as
the pages. Plain Python on a session: no request here.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, joinedload

from app.domain.refusals import Refused
from app.models import AccessToken, TokenScope, User

TOKEN_PREFIX = "relais_pat_"  # noqa: S105 (the visible prefix of every token, no secret)
SHOWN_PREFIX = len(TOKEN_PREFIX) + 6  # « relais_pat_AbC123 » in the list: enough to tell tokens apart
DEFAULT_DAYS = 365
TOUCH_EVERY = timedelta(minutes=1)
NAME_MAX = 100


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` is shown once to its owner and never stored."""

    token: AccessToken
    secret: str


def create_token(session: Session, user: User, name: str, scope: TokenScope, now: datetime, *,
                 days: int = DEFAULT_DAYS, max_days: int = DEFAULT_DAYS) -> NewToken:
    """A new token of this person; its lifetime is bounded by `max_days`. Refused: "token_invalid" (no name,
    a lifetime out of bounds)."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX or not 1 <= days <= max_days:
        raise Refused("token_invalid")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(user_id=user.id, name=name, prefix=secret[:SHOWN_PREFIX], token_hash=token_hash(secret),
                        scope=TokenScope(scope), created_at=now, expires_at=now + timedelta(days=days))
    session.add(token)
    session.flush()
    return NewToken(token, secret)


def tokens_of(session: Session, user: User) -> list[AccessToken]:
    """The person's tokens, the newest first (revoked and expired ones too, marked as such by `is_live`)."""
    return list(session.scalars(select(AccessToken).where(AccessToken.user_id == user.id)
                                .order_by(AccessToken.id.desc())))


def is_live(token: AccessToken, now: datetime) -> bool:
    return token.revoked_at is None and token.expires_at > now


def revoke(session: Session, user: User, token_id: int, now: datetime) -> None:
    """Ends one of the person's own tokens (a conditional UPDATE). Refused: "token_closed" (not theirs, or already
    revoked)."""
    result = session.execute(update(AccessToken)
                             .where(AccessToken.id == token_id, AccessToken.user_id == user.id,
                                    AccessToken.revoked_at.is_(None))
                             .values(revoked_at=now))
    if result.rowcount != 1:
        raise Refused("token_closed")


def bearer_query(secret: str) -> Select:
    """The token of this secret with its person (their scopes and establishment, as the log-in loads them)."""
    return (select(AccessToken).where(AccessToken.token_hash == token_hash(secret))
            .options(joinedload(AccessToken.user).joinedload(User.scopes),
                     joinedload(AccessToken.user).joinedload(User.establishment)))


def authenticate(session: Session, secret: str, now: datetime) -> AccessToken | None:
    """The live token of this secret whose person may still log in, or None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalars(bearer_query(secret)).unique().first()
    if token is None or not is_live(token, now) or not token.user.is_active:
        return None
    return token


def needs_touch(token: AccessToken, now: datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY


def touch(connection: Connection | Session, token_id: int, now: datetime) -> bool:
    """Notes the use now, unless another request just did (two workers write it once)."""
    result = connection.execute(update(AccessToken)
                                .where(AccessToken.id == token_id,
                                       or_(AccessToken.last_used_at.is_(None),
                                           AccessToken.last_used_at <= now - TOUCH_EVERY))
                                .values(last_used_at=now))
    return result.rowcount == 1


def may_write(token: AccessToken) -> bool:
    return token.scope is TokenScope.READ_WRITE
