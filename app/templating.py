"""Jinja filters and globals: French dates, local times, navigation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, request, url_for
from flask_babel import get_locale, get_translations, refresh
from flask_login import current_user
from jinja2 import pass_context, pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from app.domain.timezones import to_local

FRENCH = Locale.parse("fr")


def _locale() -> Locale:
    # The Locale object itself: Babel would parse a locale name again on every date of every page.
    return get_locale() or FRENCH


def date_filter(value: date | datetime | None, style: str = "long") -> str:
    """« 12 janvier 2027 » in French, "January 12, 2027" in English."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return _date_text(value, style, _locale())


def local_datetime_filter(value: datetime | None, timezone_name: str | None = None, style: str = "medium") -> str:
    """An instant in the place's zone, with the zone named when it is not the default one."""
    if value is None:
        return ""
    default_zone = current_app.config["RELAIS_DEFAULT_TIMEZONE"]
    return _local_datetime_text(value, timezone_name or default_zone, default_zone, style, _locale())


def local_time_filter(value: datetime | None, timezone_name: str | None = None) -> str:
    if value is None:
        return ""
    return _local_time_text(value, timezone_name or current_app.config["RELAIS_DEFAULT_TIMEZONE"], _locale())


# Dates and times written once per value, zone, style and language: a page repeats them (a session's starts,
# the same expiry dates), and Babel takes 30 to 60 µs for each. Values are immutable, the texts small.
@lru_cache(maxsize=16384)
def _date_text(value: date, style: str, locale: Locale) -> str:
    pattern = {"long": "long", "short": "short", "full": "full"}.get(style, style)
    return format_date(value, format=pattern, locale=locale)


@lru_cache(maxsize=16384)
def _local_datetime_text(value: datetime, zone: str, default_zone: str, style: str, locale: Locale) -> str:
    pattern = {"medium": "d MMM y HH:mm", "long": "EEEE d MMMM y 'à' HH:mm"}.get(style, style)
    if locale.language != "fr" and style == "long":
        pattern = "EEEE d MMMM y 'at' HH:mm"
    text = format_datetime(to_local(value, zone), format=pattern, locale=locale)
    if zone != default_zone:
        text += f" ({zone.split('/')[-1].replace('_', ' ')})"
    return text


@lru_cache(maxsize=16384)
def _local_time_text(value: datetime, zone: str, locale: Locale) -> str:
    return format_time(to_local(value, zone), format="HH:mm", locale=locale)


# An id no row has, written where each row's id goes (`row_url`).
_ROW_MARKER = 918_273_645_546_372_819


def row_url(endpoint: str, key: str, **values) -> Callable[[int], str]:
    """`url_for(endpoint, key=id, **values)` for the rows of a long list: the address is built once around a
    marker and each row only puts its id in (Werkzeug takes about 8 µs to build an address, a list of fifty
    rows asks fifty times). For rules whose `key` is an integer id."""
    head, _, tail = url_for(endpoint, **values, **{key: _ROW_MARKER}).partition(str(_ROW_MARKER))
    return lambda row_id: f"{head}{int(row_id)}{tail}"


def _catalogue() -> Translations | NullTranslations:
    """The current locale's translations, kept on the app context: Flask-Babel looks its catalogue up again
    for every string (about 15 µs), and a page of fifty rows asks for hundreds of strings."""
    catalogues = g.setdefault("relais_catalogues", {})
    locale = str(get_locale())
    if locale not in catalogues:
        catalogues[locale] = get_translations()
    return catalogues[locale]


def _bound_to(catalogue: Translations | NullTranslations) -> dict:
    """`_`, `gettext` and `ngettext` of one render, bound to the catalogue of its language: Jinja's own (the i18n
    extension's, installed below for imported macros) look the language up again for every string, about 9 µs
    each, and a page of fifty rows asks for hundreds. Same behaviour: marked safe when autoescaping, then
    formatted with the escaped variables."""

    @pass_eval_context
    def gettext(eval_context: EvalContext, string: str, **variables) -> str:
        text = catalogue.ugettext(string)
        return (Markup(text) if eval_context.autoescape else text) % variables  # noqa: S704 (our catalogue, as Jinja does)

    @pass_eval_context
    def ngettext(eval_context: EvalContext, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        text = catalogue.ungettext(singular, plural, num)
        return (Markup(text) if eval_context.autoescape else text) % variables  # noqa: S704 (our catalogue, as Jinja does)

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


@pass_context
def text_block(context, template_name: str) -> str:
    """A plain-text part (.txt) inside an HTML page or e-mail, rendered with the same context and returned as
    plain text, so that autoescaping escapes everything in it that people typed. Including a .txt template
    from an .html one would not: Jinja escapes by the name of the template being compiled."""
    template = context.environment.get_template(template_name)
    return str(template.render(context.get_all()))


def init_app(app: Flask) -> None:
    @app.before_request
    def forget_cached_locale() -> None:
        # Flask-Babel caches the locale on the app context, which a test client reuses across requests.
        refresh()
        g.pop("relais_catalogues", None)

    # Templates' _() and ngettext() through the cached catalogue (Flask-Babel installed the uncached ones).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
        newstyle=True)

    app.add_template_filter(date_filter, "date_fr")
    app.add_template_filter(local_datetime_filter, "local_datetime")
    app.add_template_filter(local_time_filter, "local_time")
    app.add_template_global(row_url)
    app.add_template_global(text_block)

    @app.context_processor
    def inject_globals() -> dict:
        return {
            **_bound_to(_catalogue()),
            "current_language": str(_locale()),
            "languages": app.config["RELAIS_LANGUAGES"],
            "current_path": request.full_path.rstrip("?") if request else "/",
            "current_user": current_user,
        }
