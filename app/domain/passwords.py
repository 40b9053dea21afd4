"""Password policy: a minimum length and a refusal of the most common passwords."""

from __future__ import annotations

from functools import cache

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash


@cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most frequent leaked passwords.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, min_length: int, personal_words: tuple[str, ...] = ()) -> str | None:
    """Why the password is refused, in the reader's language, or None if it is acceptable."""
    if len(password) < min_length:
        return _("Le mot de passe doit contenir au moins %(count)d caractères.", count=min_length)
    lowered = password.lower()
    if lowered in _common_passwords():
        return _("Ce mot de passe fait partie des plus courants : choisissez-en un autre.")
    if len(set(lowered)) < 4:
        return _("Ce mot de passe répète trop peu de caractères différents.")
    for word in personal_words:
        if word and len(word) >= 4 and word.lower() in lowered:
            return _("Le mot de passe ne doit pas contenir votre nom ou votre adresse e-mail.")
    return None


def password_advice(min_length: int) -> str:
    """The hint under a new password's field: the same minimum as the check."""
    return _("Au moins %(count)d caractères ; évitez les mots de passe courants.", count=min_length)


def hash_password(password: str, method: str | None = None) -> str:
    """scrypt by default (werkzeug); tests may choose a faster method."""
    return generate_password_hash(password, method=method) if method else generate_password_hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    return bool(password_hash) and check_password_hash(password_hash, password)
