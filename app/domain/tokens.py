"""Signed, expiring links for password reset, account activation and the confirmation of a new login address."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

PASSWORD_RESET = "password-reset"  # noqa: S105 (a salt name, not a secret)
ACTIVATION = "activation"
EMAIL_CHANGE = "email-change"


def _account_fingerprint(password_hash: str | None, email: str) -> str:
    # A link dies as soon as the account's password or login address changes: a reset link works once, and a link
    # sent to an address since corrected (a coordinator's typo) no longer opens the account.
    return hashlib.sha256(f"{password_hash or 'unset'}\n{email}".encode()).hexdigest()[:16]


def make_token(secret_key: str, purpose: str, user_id: int, password_hash: str | None, email: str) -> str:
    serializer = URLSafeTimedSerializer(secret_key, salt=f"relais-{purpose}")
    return serializer.dumps({"uid": user_id, "fp": _account_fingerprint(password_hash, email)})


def read_token(secret_key: str, purpose: str, token: str, max_age_seconds: int) -> tuple[int, str] | None:
    """The user id and account fingerprint in a valid token, or None if forged or expired."""
    serializer = URLSafeTimedSerializer(secret_key, salt=f"relais-{purpose}")
    try:
        data = serializer.loads(token, max_age=max_age_seconds)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or "uid" not in data or "fp" not in data:
        return None
    return int(data["uid"]), str(data["fp"])


def token_matches(fingerprint: str, password_hash: str | None, email: str) -> bool:
    return fingerprint == _account_fingerprint(password_hash, email)


# -- a new login address (the link dies once used: the address changes) ----------------------------------------


def make_email_change_token(secret_key: str, user_id: int, password_hash: str | None, current_email: str,
                            new_email: str, expires_at: datetime) -> str:
    """A link asking to make `new_email` the login of this account as it is now (password and address), valid
    until `expires_at` (the application's clock, which tests control)."""
    serializer = URLSafeSerializer(secret_key, salt=f"relais-{EMAIL_CHANGE}")
    return serializer.dumps({"uid": user_id, "fp": _account_fingerprint(password_hash, current_email),
                             "new": new_email, "until": int(expires_at.timestamp())})


@dataclass(frozen=True)
class EmailChangeClaim:
    user_id: int
    fingerprint: str
    new_email: str

    def matches(self, password_hash: str | None, current_email: str) -> bool:
        """Whether the account is still as it was when the link was made."""
        return self.fingerprint == _account_fingerprint(password_hash, current_email)


def read_email_change_token(secret_key: str, token: str, now: datetime) -> EmailChangeClaim | None:
    """What a valid link asks, or None if forged or expired."""
    serializer = URLSafeSerializer(secret_key, salt=f"relais-{EMAIL_CHANGE}")
    try:
        data = serializer.loads(token)
    except BadData:
        return None
    if not (isinstance(data, dict) and type(data.get("uid")) is int and isinstance(data.get("new"), str)
            and type(data.get("until")) is int and isinstance(data.get("fp"), str)):
        return None
    if now.timestamp() > data["until"]:
        return None
    return EmailChangeClaim(data["uid"], data["fp"], data["new"])
