"""Jinja filters and globals: French dates, local times, navigation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, request, url_for
from flask_babel import get_locale, get_translations, refresh
from flask_login import current_user
from jinja2 import pass_context, pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from app.domain.vocabulary import changed_text
from app.formatting import (
    clock_text,
    current_locale,
    day_text,
    local_clock_text,
    moment_text,
    month_text,
    number_text,
    percent_text,
    plural_choice,
    zone_text,
)

# The filters write through app.formatting, the one place that says how Relais writes dates, times and numbers.


def date_filter(value: date | datetime | None, style: str = "long") -> str:
    """« 12 janvier 2027 », « 1er mars 2027 » in French, "January 12, 2027" in English."""
    return day_text(value, style)


def local_datetime_filter(value: datetime | None, timezone_name: str | None = None, style: str = "medium") -> str:
    """An instant in the place's zone, with the zone named for people when it is not the default one."""
    default_zone = current_app.config["RELAIS_DEFAULT_TIMEZONE"]
    return moment_text(value, timezone_name or default_zone, style, default_zone=default_zone)


def local_time_filter(value: datetime | None, timezone_name: str | None = None) -> str:
    """The time of day of an instant in the place's zone: « 9 h 30 »."""
    return local_clock_text(value, timezone_name or current_app.config["RELAIS_DEFAULT_TIMEZONE"])


def clock_filter(value: time | datetime | None) -> str:
    """A wall-clock time as it is (a window's « de 8 h à 12 h », a weekly slot): « 8 h 30 »."""
    return clock_text(value)


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
        text = catalogue.ungettext(singular, plural, plural_choice(num))
        return (Markup(text) if eval_context.autoescape else text) % variables  # noqa: S704 (our catalogue, as Jinja does)

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


@pass_context
def text_block(context, template_name: str) -> str:
    """A plain-text part (.txt) inside an HTML page or e-mail, rendered with the same context and returned as
    plain text, so that autoescaping escapes everything in it that people typed. Including a .txt template
    from an .html one would not: Jinja escapes by the name of the template being compiled."""
    template = context.environment.get_template(template_name)
    return str(template.render(context.get_all()))


def _hours() -> dict:
    """The hours that pages state (a session's bounds, a default school day), from the rules that apply them."""
    from app.domain.availability import SCHOOL_DAY_END, SCHOOL_DAY_START
    from app.domain.request_rules import EARLIEST_START, LATEST_END

    return {"session_earliest": EARLIEST_START, "session_latest": LATEST_END,
            "school_day_start": SCHOOL_DAY_START, "school_day_end": SCHOOL_DAY_END}


def init_app(app: Flask) -> None:
    @app.before_request
    def forget_cached_locale() -> None:
        # Flask-Babel caches the locale on the app context, which a test client reuses across requests.
        refresh()
        g.pop("relais_catalogues", None)

    # Templates' _() and ngettext() through the cached catalogue (Flask-Babel installed the uncached ones).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, plural_choice(n)),
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
        newstyle=True)

    app.add_template_filter(date_filter, "date_fr")
    app.add_template_filter(local_datetime_filter, "local_datetime")
    app.add_template_filter(local_time_filter, "local_time")
    app.add_template_filter(clock_filter, "clock")
    app.add_template_filter(month_text, "month")
    app.add_template_filter(number_text, "number")
    app.add_template_filter(percent_text, "percent")
    app.add_template_filter(zone_text, "zone_name")
    app.add_template_global(row_url)
    app.add_template_global(text_block)
    app.add_template_global(changed_text)
    app.add_template_global(_hours(), "HOURS")

    @app.context_processor
    def inject_globals() -> dict:
        return {
            **_bound_to(_catalogue()),
            "current_language": str(current_locale()),
            "languages": app.config["RELAIS_LANGUAGES"],
            "current_path": request.full_path.rstrip("?") if request else "/",
            "current_user": current_user,
        }
