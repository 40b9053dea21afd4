"""Static reference data about French départements.

Kept free of Flask so it can be used from the web app, CLI commands and tests
alike. The data lives in ``app/data/departements.csv`` (shipped with the code,
not fetched at runtime) because it changes only with territorial reforms.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DEPARTEMENTS_CSV = Path(__file__).resolve().parent.parent / "data" / "departements.csv"

# A commune INSEE code is 5 characters: digits, except "2A"/"2B" for Corsica.
_COMMUNE_INSEE_RE = re.compile(r"^(?:\d{2}|2[AB])\d{3}$")


@dataclass(frozen=True, slots=True)
class DepartementInfo:
    """One département: identity, school-holiday zone, local time zone, préfecture position."""

    code: str
    name: str
    region: str
    academie: str
    # "A", "B" or "C"; None for Corsica and overseas (they have their own calendars).
    holiday_zone: str | None
    # The chef-lieu, where the préfecture sits (latitude and longitude below are its position).
    prefecture: str
    # IANA name: a session is scheduled in the local time of where it takes place.
    timezone: str
    latitude: float
    longitude: float


@cache
def load_departements() -> list[DepartementInfo]:
    """Read the shipped CSV once; the data is immutable for the life of the process.

    Callers must not mutate the returned list (it is shared through the cache).
    """
    with DEPARTEMENTS_CSV.open(encoding="utf-8", newline="") as handle:
        return [
            DepartementInfo(
                code=row["code"],
                name=row["name"],
                region=row["region"],
                academie=row["academie"],
                holiday_zone=row["holiday_zone"] or None,
                prefecture=row["prefecture"],
                timezone=row["timezone"],
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
            )
            for row in csv.DictReader(handle)
        ]


@cache
def departements_by_code() -> dict[str, DepartementInfo]:
    """Index of :func:`load_departements` by INSEE code, for O(1) lookups."""
    return {dep.code: dep for dep in load_departements()}


def departement_for_commune(insee_code: str) -> str:
    """Return the département code of a commune, i.e. the prefix of its INSEE code.

    Overseas communes ("97xxx") have a 3-character département code; all others
    (including Corsica's "2A"/"2B") have 2 characters. Raises ``ValueError`` for
    strings that are not commune INSEE codes, so bad input fails loudly rather
    than silently mapping to a wrong département.
    """
    code = insee_code.strip().upper()
    if not _COMMUNE_INSEE_RE.fullmatch(code):
        raise ValueError(f"not a commune INSEE code: {insee_code!r}")
    return code[:3] if code.startswith("97") else code[:2]


def timezone_for_departement(code: str) -> str:
    """Return the IANA time zone of a département (overseas ones are not Europe/Paris).

    Raises ``KeyError`` for an unknown département code.
    """
    try:
        return departements_by_code()[code.strip().upper()].timezone
    except KeyError:
        raise KeyError(f"unknown département code: {code!r}") from None
