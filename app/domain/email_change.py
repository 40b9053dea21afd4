"""A new login address: asked by someone (a coordinator's import, the command line), confirmed by its owner.

The login address is the key to an account: a password reset goes there. Whoever may edit a trainer's record must
therefore not change it alone (they would then reset the password to an address they read). Asking only sends a
link to the new address (can that person read it?) and a notice to the old one (the owner learns of it). The
address changes when the link is followed and, for an account that has a password, that password is given: the
owner agrees, not only whoever reads the new address (who may be the person who typed it). The link is bound to
the account as it is (its address and password hash): it works once, and no longer after a password change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain import tokens
from app.domain.feeds import refresh_events_of_trainers
from app.domain.passwords import verify_password
from app.models import Trainer, User
from app.models.accounts import normalize_email

VALIDITY = timedelta(hours=48)


class Confirmation(StrEnum):
    CHANGED = "changed"
    INVALID_LINK = "invalid_link"  # forged, expired, already used, or the account changed or was deactivated
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 (an outcome's name, not a password)
    ADDRESS_TAKEN = "address_taken"  # another account took the new address meanwhile


def confirmation_token(secret_key: str, user: User, new_email: str, now: datetime) -> str:
    """The link's token asking to make `new_email` the login of `user` (valid for VALIDITY)."""
    return tokens.make_email_change_token(secret_key, user.id, user.password_hash, user.email,
                                          normalize_email(new_email), now + VALIDITY)


def account_asked(session: Session, secret_key: str, token: str, now: datetime
                  ) -> tuple[User, tokens.EmailChangeClaim] | None:
    """The active account a valid, unused link is about, with what it asks; None otherwise."""
    claim = tokens.read_email_change_token(secret_key, token, now)
    if claim is None:
        return None
    user = session.get(User, claim.user_id)
    if user is None or not user.active or not claim.matches(user.password_hash, user.email):
        return None
    return user, claim


def confirm_email_change(session: Session, secret_key: str, token: str, password: str | None, now: datetime
                         ) -> Confirmation:
    """Makes the link's new address the login of its account, if the account's password is given (when it has
    one) and no other account has the address. One conditional UPDATE on the address the link was made for (the
    unique index settles a race for the new one); the calendar events naming the trainer are refreshed."""
    asked = account_asked(session, secret_key, token, now)
    if asked is None:
        return Confirmation.INVALID_LINK
    user, claim = asked
    if user.password_hash is not None and not verify_password(user.password_hash, password or ""):
        return Confirmation.WRONG_PASSWORD
    if session.scalar(select(User.id).where(User.email == claim.new_email, User.id != user.id)) is not None:
        return Confirmation.ADDRESS_TAKEN
    try:
        with session.begin_nested():
            changed = session.execute(
                update(User).where(User.id == user.id, User.email == user.email, User.active)
                .values(email=claim.new_email).execution_options(synchronize_session="fetch")).rowcount
    except IntegrityError:
        return Confirmation.ADDRESS_TAKEN
    if changed != 1:
        return Confirmation.INVALID_LINK
    refresh_events_of_trainers(session, session.scalars(select(Trainer.id).where(Trainer.user_id == user.id)), now)
    return Confirmation.CHANGED
