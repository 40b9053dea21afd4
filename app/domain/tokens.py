"""Signed, expiring links for password reset and account activation."""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

PASSWORD_RESET = "password-reset"  # noqa: S105 (a salt name, not a secret)
ACTIVATION = "activation"


def _fingerprint(password_hash: str | None) -> str:
    # The link dies as soon as the password changes: a reset link works once.
    return hashlib.sha256((password_hash or "unset").encode()).hexdigest()[:16]


def make_token(secret_key: str, purpose: str, user_id: int, password_hash: str | None) -> str:
    serializer = URLSafeTimedSerializer(secret_key, salt=f"relais-{purpose}")
    return serializer.dumps({"uid": user_id, "fp": _fingerprint(password_hash)})


def read_token(secret_key: str, purpose: str, token: str, max_age_seconds: int) -> tuple[int, str] | None:
    """The user id and password fingerprint in a valid token, or None if forged or expired."""
    serializer = URLSafeTimedSerializer(secret_key, salt=f"relais-{purpose}")
    try:
        data = serializer.loads(token, max_age=max_age_seconds)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or "uid" not in data or "fp" not in data:
        return None
    return int(data["uid"]), str(data["fp"])


def token_matches(fingerprint: str, password_hash: str | None) -> bool:
    return fingerprint == _fingerprint(password_hash)
