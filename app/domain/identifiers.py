"""Validation and generation of French establishment identifiers.

Schools are identified by their UAI (formerly RNE) and companies or
administrations by their SIRET. Checking the control characters catches most
typing mistakes before a request reaches a coordinator, and the ``make_*``
helpers build valid identifiers for deterministic demo data.
"""

from __future__ import annotations

import re

__all__ = [
    "UAI_ALPHABET",
    "is_valid_siret",
    "is_valid_uai",
    "make_siret",
    "make_uai",
    "normalize_siret",
    "normalize_uai",
    "uai_check_letter",
]

#: The 23 letters used as UAI check letters (I, O and Q are left out because
#: they are easily mistaken for digits).
UAI_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ"

#: SIREN of La Poste: its establishments do not follow the Luhn rule.
LA_POSTE_SIREN = "356000000"

_WHITESPACE = re.compile(r"\s+")  # includes non-breaking and narrow spaces


def uai_check_letter(digits7: str) -> str:
    """Return the check letter of a UAI from its 7 leading digits.

    The letter is ``UAI_ALPHABET[int(digits7) % 23]``; it guards against a
    single mistyped digit in the identifier printed on school documents.
    """
    if len(digits7) != 7 or not digits7.isascii() or not digits7.isdigit():
        raise ValueError(f"expected 7 digits, got {digits7!r}")
    return UAI_ALPHABET[int(digits7) % len(UAI_ALPHABET)]


def normalize_uai(value: str) -> str:
    """Return the canonical form of a UAI (no whitespace, upper case).

    It does not validate: call :func:`is_valid_uai` for that. Users type the
    letter in lower case or paste codes with spaces, which we store cleaned.
    """
    return _WHITESPACE.sub("", value).upper()


def is_valid_uai(value: str) -> bool:
    """Tell whether ``value`` is a well-formed UAI with the right check letter.

    Case and surrounding whitespace are ignored.
    """
    uai = normalize_uai(value)
    if len(uai) != 8:
        return False
    digits, letter = uai[:7], uai[7]
    if not digits.isascii() or not digits.isdigit():
        return False
    return uai_check_letter(digits) == letter


def make_uai(number: int) -> str:
    """Build a valid UAI from an integer between 0 and 9 999 999."""
    if not 0 <= number <= 9_999_999:
        raise ValueError(f"UAI number out of range: {number}")
    digits = f"{number:07d}"
    return digits + uai_check_letter(digits)


def _luhn_sum(digits: str) -> int:
    """Return the Luhn sum: every second digit from the right is doubled."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total


def _luhn_check_digit(payload: str) -> str:
    """Return the digit that, appended to ``payload``, makes it Luhn-valid."""
    # Appending a digit shifts the payload by one position, so compute the
    # sum as if the check digit (0) were already there.
    return str((10 - _luhn_sum(payload + "0") % 10) % 10)


def normalize_siret(value: str) -> str:
    """Return a SIRET without any whitespace (``"732 829 320 00074"`` → 14 digits).

    It does not validate: call :func:`is_valid_siret` for that.
    """
    return _WHITESPACE.sub("", value)


def is_valid_siret(value: str) -> bool:
    """Tell whether ``value`` is a valid SIRET (14 digits, Luhn key).

    La Poste's establishments (SIREN 356000000) are numbered with a different
    rule, the sum of their digits being a multiple of 5; both are accepted.
    """
    siret = normalize_siret(value)
    if len(siret) != 14 or not siret.isascii() or not siret.isdigit():
        return False
    if _luhn_sum(siret) % 10 == 0:
        return True
    if siret.startswith(LA_POSTE_SIREN):
        return sum(int(char) for char in siret) % 5 == 0
    return False


def make_siret(siren8: int, nic_prefix: int) -> str:
    """Build a valid SIRET from the first 8 SIREN digits and a 4-digit NIC prefix.

    The 9th digit is the SIREN's own Luhn key, so the SIREN is valid too, and
    the 14th digit is chosen so that the whole SIRET passes the Luhn check.
    """
    if not 0 <= siren8 <= 99_999_999:
        raise ValueError(f"SIREN prefix out of range: {siren8}")
    if not 0 <= nic_prefix <= 9_999:
        raise ValueError(f"NIC prefix out of range: {nic_prefix}")
    siren_payload = f"{siren8:08d}"
    siren = siren_payload + _luhn_check_digit(siren_payload)
    payload = siren + f"{nic_prefix:04d}"
    return payload + _luhn_check_digit(payload)
