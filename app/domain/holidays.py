"""Public and school holidays that rule out a prevention session on a given day.

No session is held on a public holiday, nor at a school during its school
holidays. Public holidays depend on the département (Alsace-Moselle and the
overseas départements have extra ones); school holidays depend on the zone
A/B/C of the school's académie. Corsica and overseas have their own school
calendars that the offline data does not ship, so for them (and for dates past
the data's coverage) we answer "unknown" rather than pretending it is a school
day. Lookups are cached because validation loops call them for every slot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from jours_feries_france import JoursFeries
from vacances_scolaires_france import SchoolHolidayDates, UnsupportedYearException

from app.formatting import day_text

__all__ = [
    "DayCheck",
    "SchoolHolidayAnswer",
    "SchoolHolidayStatus",
    "WindowCheck",
    "check_day",
    "is_public_holiday",
    "public_holiday_zone",
    "public_holidays",
    "school_calendar_coverage",
    "school_holiday",
]

#: Zone name used by jours-feries-france for mainland France.
METROPOLE = "Métropole"

#: Départements (INSEE codes) whose public holidays differ from mainland
#: France, mapped to the zone names accepted by jours-feries-france.
_PUBLIC_HOLIDAY_ZONES: dict[str, str] = {
    "57": "Alsace-Moselle",
    "67": "Alsace-Moselle",
    "68": "Alsace-Moselle",
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "975": "Saint-Pierre-et-Miquelon",
    "976": "Mayotte",
    "977": "Saint-Barthélémy",
    "978": "Saint-Martin",
    "986": "Wallis-et-Futuna",
    "987": "Polynésie Française",
    "988": "Nouvelle-Calédonie",
}

SCHOOL_ZONES = ("A", "B", "C")

SchoolHolidayStatus = Literal["holiday", "school_day", "unknown"]

_PONT_ASCENSION = "Pont de l'Ascension"

#: National "pont de l'Ascension" days (the same for zones A, B and C) that
#: vacances-scolaires-france 0.12 lacks although the official calendars have
#: them: classes stop on Wednesday evening and resume on Monday. Ascension
#: Thursday is a public holiday anyway; the Friday is the day that matters.
_MISSING_SCHOOL_HOLIDAYS: dict[date, str] = {
    day: _PONT_ASCENSION
    for thursday in (
        date(2023, 5, 18),
        date(2024, 5, 9),
        date(2025, 5, 29),
        date(2026, 5, 14),
    )
    for day in (thursday, thursday + timedelta(days=1), thursday + timedelta(days=2))
}

_REASON_NO_ZONE = _l(
    "Le calendrier des vacances scolaires n'est pas disponible pour cette zone "
    "(Corse, outre-mer)."
)


def _as_date(day: date) -> date:
    """Drop the time part: a datetime never equals a date used as a dict key."""
    return day.date() if isinstance(day, datetime) else day


def _format_day(day: date) -> str:
    """« 1er mars 2027 », "March 1, 2027": in the language of the sentences around it (the page's)."""
    return day_text(day)


# --------------------------------------------------------------------------
# Public holidays
# --------------------------------------------------------------------------


def public_holiday_zone(departement_code: str) -> str:
    """Return the jours-feries-france zone for a département INSEE code.

    Anything not listed (including Corsica ``2A``/``2B``) follows mainland rules.
    """
    return _PUBLIC_HOLIDAY_ZONES.get(departement_code.strip().upper(), METROPOLE)


@lru_cache(maxsize=256)
def _public_holidays_for_zone(zone: str, year: int) -> Mapping[date, str]:
    """Return a read-only {day: name} mapping, cached per (zone, year)."""
    holidays: dict[date, str] = {}
    for name, day in JoursFeries.for_year(year, zone).items():
        # Two holidays may fall on the same day (1er mai and Ascension in 2008).
        holidays[day] = f"{holidays[day]} et {name}" if day in holidays else name
    return MappingProxyType(holidays)


def public_holidays(departement_code: str, year: int) -> dict[date, str]:
    """Return the public holidays of ``year`` in a département, as {day: French name}."""
    return dict(_public_holidays_for_zone(public_holiday_zone(departement_code), year))


def is_public_holiday(departement_code: str, day: date) -> str | None:
    """Return the name of the public holiday on ``day`` in the département, or None."""
    day = _as_date(day)
    zone = public_holiday_zone(departement_code)
    return _public_holidays_for_zone(zone, day.year).get(day)


# --------------------------------------------------------------------------
# School holidays
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolHolidayAnswer:
    """Whether a day is in the school holidays, saying so when we cannot know.

    ``status`` is ``"holiday"`` (``name`` gives the French holiday name),
    ``"school_day"`` (not a school holiday period; weekends included) or
    ``"unknown"`` (``reason`` explains why, in French).
    """

    status: SchoolHolidayStatus
    name: str | None = None
    reason: str | None = None

    @property
    def is_holiday(self) -> bool:
        return self.status == "holiday"

    @property
    def is_known(self) -> bool:
        return self.status != "unknown"


@lru_cache(maxsize=1)
def _school_calendar() -> SchoolHolidayDates:
    """Load the library's CSV once: it parses about 14,000 rows."""
    return SchoolHolidayDates()


@lru_cache(maxsize=1)
def school_calendar_coverage() -> tuple[date, date]:
    """Return the first and last day for which the school calendar is known.

    The library pads its last year with non-holiday rows after the last
    published holidays (e.g. up to 31/12/2028 while the data stops with the
    summer of 2028), so the coverage ends with the last known holiday day.
    """
    calendar = _school_calendar()
    return date(calendar.min_year, 1, 1), max(calendar.data)


@lru_cache(maxsize=64)
def _school_holidays_for_zone(zone: str, year: int) -> Mapping[date, str]:
    """Return a read-only {day: holiday name} mapping, cached per (zone, year)."""
    rows = _school_calendar().holidays_for_year_and_zone(year, zone)
    holidays = {day: row["nom_vacances"] for day, row in rows.items()}
    for day, name in _MISSING_SCHOOL_HOLIDAYS.items():
        if day.year == year:
            holidays.setdefault(day, name)
    return MappingProxyType(holidays)


def _normalize_zone(zone: str | None) -> str | None:
    """Return "A", "B" or "C", or None for a zone the data does not cover."""
    if not zone:
        return None
    normalized = zone.strip().upper()
    return normalized if normalized in SCHOOL_ZONES else None


def school_holiday(zone: str | None, day: date) -> SchoolHolidayAnswer:
    """Tell whether ``day`` falls in the school holidays of ``zone`` (A, B or C).

    Answers "unknown" for Corsica/overseas (no zone) and for dates outside the
    data, so that callers can warn instead of wrongly allowing a session.
    """
    day = _as_date(day)
    normalized = _normalize_zone(zone)
    if normalized is None:
        return SchoolHolidayAnswer("unknown", reason=str(_REASON_NO_ZONE))
    first, last = school_calendar_coverage()
    if not first <= day <= last:
        return SchoolHolidayAnswer("unknown", reason=_reason_no_date(day))
    try:
        name = _school_holidays_for_zone(normalized, day.year).get(day)
    except UnsupportedYearException:
        return SchoolHolidayAnswer("unknown", reason=_reason_no_date(day))
    if name:
        return SchoolHolidayAnswer("holiday", name=name)
    return SchoolHolidayAnswer("school_day")


def _reason_no_date(day: date) -> str:
    return gettext("Le calendrier des vacances scolaires n'est pas disponible pour cette date (%(day)s).",
                   day=_format_day(day))


# --------------------------------------------------------------------------
# Day check for scheduling windows
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCheck:
    """Outcome of checking one day for a session, with French messages.

    ``blocked_reason`` is set when no session may take place that day;
    ``warning`` when the day is allowed but the school calendar is unknown.
    Weekends are not blocked here: opening hours are another rule's concern.
    """

    blocked_reason: str | None = None
    warning: str | None = None

    @property
    def is_blocked(self) -> bool:
        return self.blocked_reason is not None


def check_day(
    departement_code: str, zone: str | None, day: date, is_school: bool
) -> DayCheck:
    """Check whether a session may take place on ``day``.

    Public holidays block every session; school holidays block only sessions
    at a school (``is_school``). An unknown school calendar gives a warning.
    """
    day = _as_date(day)
    holiday_name = is_public_holiday(departement_code, day)
    if holiday_name is not None:
        return DayCheck(
            blocked_reason=gettext("Le %(day)s est un jour férié (%(name)s).", day=_format_day(day),
                                   name=holiday_name)
        )
    if not is_school:
        return DayCheck()
    answer = school_holiday(zone, day)
    if answer.status == "holiday":
        return DayCheck(
            blocked_reason=gettext("Le %(day)s tombe pendant les vacances scolaires (%(name)s, zone %(zone)s).",
                                   day=_format_day(day), name=answer.name, zone=_normalize_zone(zone))
        )
    if answer.status == "unknown":
        return DayCheck(
            warning=gettext("%(reason)s Vérifiez que le %(day)s ne tombe pas pendant les vacances scolaires de "
                            "l'établissement.", reason=answer.reason, day=_format_day(day))
        )
    return DayCheck()


@dataclass(frozen=True)
class WindowCheck:
    """A place's holiday context, bound once and reused for each day of a window."""

    departement_code: str
    zone: str | None
    is_school: bool

    def check(self, day: date) -> DayCheck:
        """Check one day; see :func:`check_day`."""
        return check_day(self.departement_code, self.zone, day, self.is_school)
