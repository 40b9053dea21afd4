"""How Relais writes dates, times, time zones, months and numbers: the one place, for the pages (as Jinja filters,
`app.templating`), the e-mails, the flashed messages and the reasons the domain gives.

French as the French write it:

- the first of the month is « 1er » (« 1er mars 2027 », « lundi 1er mars »);
- times follow the French typographic norm (Lexique des règles typographiques en usage à l'Imprimerie nationale):
  « 8 h 30 », « 14 h », the hour without a leading zero, the minutes only when there are some, a non-breaking
  space on each side of the « h » so that a time never breaks across two lines on a phone. One way everywhere
  (pages and e-mails); only the files read by other programs keep theirs (iCalendar, CSV exports: « 09:30 »,
  which spreadsheets read as a time);
- months as « septembre 2026 », decimals with a comma, thousands with a narrow space (Babel's French);
- a place's time zone is named for people (« heure de La Réunion ») and only where it differs from Paris.

English follows Babel's English ("March 1, 2027", "8:30 AM", "Réunion Time").

Plain Python on Babel: the domain may use it (it asks Flask-Babel for the language of the request when there is
one, French otherwise). Texts are written once per value and language (`lru_cache`): a page repeats them, and Babel
takes 30 to 60 µs for each.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_time, get_timezone_location, get_timezone_name
from babel.numbers import format_decimal, format_percent

from app.domain.timezones import to_local

FRENCH = Locale.parse("fr")
PARIS = "Europe/Paris"
# Between the figures and the « h » of a time: they stay on one line.
NO_BREAK = "\u00a0"

# The zones of the départements (app/data/departements.csv), named as people there say it. Babel's French names
# them « heure : La Réunion » or, for the Antilles, « heure de l'Atlantique »; other languages take Babel's
# names of the place ("Réunion Time", "Guadeloupe Time").
FRENCH_ZONE_NAMES = {
    PARIS: "heure de Paris",
    "America/Guadeloupe": "heure de la Guadeloupe",
    "America/Martinique": "heure de la Martinique",
    "America/Cayenne": "heure de la Guyane",
    "Indian/Reunion": "heure de La Réunion",
    "Indian/Mayotte": "heure de Mayotte",
}

_DATETIME_DATE_STYLES = {"medium": "d MMM y", "long": "EEEE d MMMM y", "short": "dd/MM/y"}
_QUOTED = re.compile(r"('[^']*')")
_DAY_OF_MONTH = re.compile(r"(?<!d)d(?!d)")


def current_locale() -> Locale:
    """The language of the request or e-mail being written (Flask-Babel's), French outside one."""
    try:
        from flask_babel import get_locale

        return get_locale() or FRENCH
    except RuntimeError:  # no application context: a command, a test of the domain
        return FRENCH


def _locale(locale: Locale | str | None) -> Locale:
    if locale is None:
        return current_locale()
    return locale if isinstance(locale, Locale) else Locale.parse(locale)


def day_text(value: date | datetime | None, style: str = "long", locale: Locale | str | None = None) -> str:
    """« 1er mars 2027 » (long), « lundi 1er mars 2027 » (full), « 1 mars 2027 » never; "March 1, 2027" in English.
    `style` is a Babel style (short, medium, long, full) or a pattern (« d MMMM », « EEEE »)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return _day_text(value, style, _locale(locale))


def clock_text(value: time | datetime | None, locale: Locale | str | None = None) -> str:
    """A wall-clock time: « 8 h 30 », « 14 h »; "8:30 AM" in English. A datetime is read as it is (already local)."""
    if value is None:
        return ""
    return _clock_text(value.hour, value.minute, _locale(locale))


def moment_text(value: datetime | None, zone: str = PARIS, style: str = "medium",
                locale: Locale | str | None = None, default_zone: str = PARIS) -> str:
    """An instant in the place's zone: « 12 janv. 2027 à 9 h 30 » (medium), « mardi 12 janvier 2027 à 9 h 30 »
    (long), with « (heure de La Réunion) » after it when the place is not in the default zone (Paris)."""
    if value is None:
        return ""
    return _moment_text(value, zone or default_zone, default_zone, style, _locale(locale))


def local_clock_text(value: datetime | None, zone: str = PARIS, locale: Locale | str | None = None) -> str:
    """The time of day of an instant in the place's zone: « 9 h 30 »."""
    if value is None:
        return ""
    local = to_local(value, zone or PARIS)
    return _clock_text(local.hour, local.minute, _locale(locale))


def zone_text(zone: str, locale: Locale | str | None = None) -> str:
    """« heure de La Réunion », "Réunion Time"."""
    return _zone_text(zone, _locale(locale))


def month_text(value: date | str | None, locale: Locale | str | None = None) -> str:
    """« septembre 2026 » for a date or a "2026-09" month key; "September 2026" in English."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        year, month = value.split("-")[:2]
        value = date(int(year), int(month), 1)
    return _month_text(value.replace(day=1), _locale(locale))


def number_text(value: int | float | None, digits: int | None = None, locale: Locale | str | None = None) -> str:
    """« 1 234 », « 12,5 »; `digits` fixes the decimals (« 0,50 »). Anything not a number is returned as text."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale(locale))


def percent_text(ratio: float | None, locale: Locale | str | None = None) -> str:
    """A share of one as a percentage: « 87 % » (with Babel's narrow no-break space in French)."""
    if ratio is None:
        return ""
    return format_percent(ratio, locale=_locale(locale))


def plural_choice(count: int, locale: Locale | str | None = None) -> int:
    """The number `ngettext` should pick its form by. French puts 0 in the singular (« 0 formateur créé »), but the
    French texts are the source strings, chosen by gettext's source rule (singular for 1 only) as no French catalogue
    exists to say otherwise. The templates' `ngettext` applies it; in Python, show the count under another name
    (Flask-Babel's `num` is the number chosen by): `ngettext("%(count)s créé", "%(count)s créés", plural_choice(n),
    count=n)`."""
    return 1 if count == 0 and _locale(locale).language == "fr" else count


@lru_cache(maxsize=16384)
def _day_text(value: date, style: str, locale: Locale) -> str:
    pattern = locale.date_formats[style].pattern if style in ("short", "medium", "long", "full") else style
    if value.day == 1 and locale.language == "fr":
        pattern = _first_of_month(pattern)
    return format_date(value, format=pattern, locale=locale)


def _first_of_month(pattern: str) -> str:
    """The pattern with « 1er » for the day of the month (a lone `d` outside quoted text; `dd` stays « 01 »)."""
    parts = _QUOTED.split(pattern)
    return "".join(part if index % 2 else _DAY_OF_MONTH.sub("d'er'", part) for index, part in enumerate(parts))


@lru_cache(maxsize=4096)
def _clock_text(hour: int, minute: int, locale: Locale) -> str:
    if locale.language == "fr":
        return f"{hour}{NO_BREAK}h" + (f"{NO_BREAK}{minute:02d}" if minute else "")
    return format_time(time(hour, minute), format="short", locale=locale)


@lru_cache(maxsize=16384)
def _moment_text(value: datetime, zone: str, default_zone: str, style: str, locale: Locale) -> str:
    local = to_local(value, zone)
    day = _day_text(local.date(), _DATETIME_DATE_STYLES.get(style, style), locale)
    clock = _clock_text(local.hour, local.minute, locale)
    if locale.language == "fr":
        text = f"{day} à {clock}"
    else:
        text = f"{day} at {clock}" if style == "long" else f"{day}, {clock}"
    if zone != default_zone:
        text += f" ({_zone_text(zone, locale)})"
    return text


@lru_cache(maxsize=256)
def _zone_text(zone: str, locale: Locale) -> str:
    if locale.language == "fr":
        named = FRENCH_ZONE_NAMES.get(zone)
        return named or get_timezone_name(zone, locale=locale, width="long", zone_variant="generic")
    return get_timezone_location(zone, locale=locale)


@lru_cache(maxsize=1024)
def _month_text(value: date, locale: Locale) -> str:
    return format_date(value, format="LLLL y", locale=locale)
