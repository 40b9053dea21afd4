"""The second factor of coordinators and admins who sign in with a password (issue #21): TOTP (RFC 6238).

- Enrolment: a new secret, kept encrypted (the Fernet cipher of app.domain.caldav_push, from RELAIS_CALDAV_KEY or
  SECRET_KEY), shown once as text, QR code and otpauth URI; a first code confirms it and gives ten recovery codes,
  kept hashed, each accepted once.
- Each password sign-in then asks for a code: accepted in the time steps around now (one each side, for clocks a
  little apart), and only a step after the last one accepted (a conditional UPDATE: a code seen once, or twice at
  the same moment, logs in once).
- An admin may reset someone's second factor: they enrol again at their next sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.models import RecoveryCode, Role, User

ISSUER_NAME = "Relais"
STEP_SECONDS = 30
WINDOW = 1  # time steps accepted before and after now
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper
STAFF = frozenset({Role.COORDINATOR, Role.ADMIN})


def applies_to(user: User) -> bool:
    """Coordinators and admins use a second factor when they sign in with a password."""
    return user.role in STAFF


def is_enrolled(user: User) -> bool:
    return user.totp_secret is not None and user.totp_confirmed_at is not None


def new_secret() -> str:
    return pyotp.random_base32()


def encrypt(secret: str, keys: MultiFernet) -> str:
    return keys.encrypt(secret.encode()).decode()


def secret_of(user: User, keys: MultiFernet) -> str | None:
    """The person's TOTP secret in clear, or None (none, or a key that no longer reads it)."""
    if user.totp_secret is None:
        return None
    try:
        return keys.decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:
        return None


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads (the QR code holds it)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER_NAME)


def start_enrolment(session: Session, user: User, keys: MultiFernet) -> str:
    """A new secret for the person, not yet confirmed (the one being enrolled is kept until confirmed)."""
    if user.totp_confirmed_at is not None:
        raise ValueError("already enrolled: reset first")
    secret = secret_of(user, keys)
    if secret is None:
        secret = new_secret()
        user.totp_secret = encrypt(secret, keys)
        user.totp_last_step = None
        session.flush()
    return secret


def current_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * STEP_SECONDS)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step around now whose code this is, or None."""
    code = "".join(code.split())
    if not (code.isascii() and code.isdigit()) or len(code) != 6:
        return None
    here = current_step(now)
    for step in range(here - WINDOW, here + WINDOW + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def _accept_step(session: Session, user: User, step: int) -> bool:
    """Marks the step as used unless it, or a later one, already was: True once per step."""
    result = session.execute(update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None),
                                                                        User.totp_last_step < step))
                             .values(totp_last_step=step).execution_options(synchronize_session=False))
    if result.rowcount == 1:
        set_committed_value(user, "totp_last_step", step)  # as the row now holds it: no second UPDATE
        return True
    return False


def confirm_enrolment(session: Session, user: User, code: str, now: datetime, keys: MultiFernet) -> list[str] | None:
    """With a right code: the secret is confirmed and the ten recovery codes (in clear, shown once) returned;
    None otherwise."""
    secret = secret_of(user, keys)
    if secret is None or user.totp_confirmed_at is not None:
        return None
    step = matching_step(secret, code, now)
    if step is None or not _accept_step(session, user, step):
        return None
    user.totp_confirmed_at = now
    return new_recovery_codes(session, user, now)


def verify(session: Session, user: User, code: str, now: datetime, keys: MultiFernet) -> bool:
    """A code of the person's authenticator, accepted once; or one of their unused recovery codes, used up."""
    if not is_enrolled(user):
        return False
    secret = secret_of(user, keys)
    if secret is not None:
        step = matching_step(secret, code, now)
        if step is not None:
            return _accept_step(session, user, step)
    return use_recovery_code(session, user, code, now)


# -- recovery codes ---------------------------------------------------------------------------------------------


def recovery_hash(user_id: int, code: str) -> str:
    normalised = "".join(code.lower().split()).replace("-", "")
    return hashlib.sha256(f"relais-recovery:{user_id}:{normalised}".encode()).hexdigest()


def new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    """Ten new codes (« abcde-fghjk »), replacing any earlier ones; only their hashes are kept."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    session.add_all(RecoveryCode(user_id=user.id, code_hash=recovery_hash(user.id, code), created_at=now)
                    for code in codes)
    session.flush()
    return codes


def use_recovery_code(session: Session, user: User, code: str, now: datetime) -> bool:
    """True once for each of the person's recovery codes (a conditional UPDATE)."""
    if not code.strip():
        return False
    result = session.execute(update(RecoveryCode)
                             .where(RecoveryCode.user_id == user.id,
                                    RecoveryCode.code_hash == recovery_hash(user.id, code),
                                    RecoveryCode.used_at.is_(None))
                             .values(used_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1


def recovery_codes_left(session: Session, user: User) -> int:
    return len(session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                             RecoveryCode.used_at.is_(None))).all())


# -- an admin's reset -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reset:
    user: User
    was_enrolled: bool


def reset(session: Session, user: User) -> Reset:
    """Forgets the person's second factor: they enrol again at their next password sign-in."""
    was_enrolled = is_enrolled(user)
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()
    return Reset(user, was_enrolled)
