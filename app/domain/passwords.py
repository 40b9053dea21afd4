"""Password policy: a minimum length and a refusal of the most common passwords."""

from __future__ import annotations

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash


@cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most frequent leaked passwords.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, min_length: int, personal_words: tuple[str, ...] = ()) -> str | None:
    """A French explanation of why the password is refused, or None if it is acceptable."""
    if len(password) < min_length:
        return f"Le mot de passe doit contenir au moins {min_length} caractères."
    lowered = password.lower()
    if lowered in _common_passwords():
        return "Ce mot de passe fait partie des plus courants : choisissez-en un autre."
    if len(set(lowered)) < 4:
        return "Ce mot de passe répète trop peu de caractères différents."
    for word in personal_words:
        if word and len(word) >= 4 and word.lower() in lowered:
            return "Le mot de passe ne doit pas contenir votre nom ou votre adresse e-mail."
    return None


def hash_password(password: str, method: str | None = None) -> str:
    """scrypt by default (werkzeug); tests may choose a faster method."""
    return generate_password_hash(password, method=method) if method else generate_password_hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    return bool(password_hash) and check_password_hash(password_hash, password)
