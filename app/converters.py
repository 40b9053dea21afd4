"""One way to read identifiers and dates from URLs and query strings: values no table can hold are "not found" or
"not given", never an error of the database (an id beyond PostgreSQL's integer, a year 9999 that no date
arithmetic survives)."""

from __future__ import annotations

from datetime import date

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

# Every id column is a 32-bit integer on PostgreSQL; SQLite would take more, the same answer is given on both.
MAX_ID = 2**31 - 1
# Dates a person may type anywhere in Relais: wide enough for any certification or school year, narrow enough that
# adding a year or a week to them stays a date.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2100, 12, 31)


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: an id beyond what the database holds is a 404, like an id that does not exist."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (Werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min if min is not None else 1,
                         max=MAX_ID if max is None else max, signed=signed)


def db_id(value: str) -> int:
    """`request.args.get(name, type=db_id)`: an id, or the argument is ignored (ValueError)."""
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(value)
    return number


def query_date(value: str) -> date:
    """`request.args.get(name, type=query_date)`: an ISO date within the sensible range, or ignored (ValueError)."""
    day = date.fromisoformat(value.strip())
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(value)
    return day


def refuse_nul_bytes() -> None:
    """A NUL byte in a query string or a form is refused (400) before any view reads it: PostgreSQL cannot hold
    one in a text, so a filter or a search would fail deep in a query. (Forms also drop control characters.)"""
    for values in (request.args, request.form):
        if any("\x00" in value for _, value in values.items(multi=True)):
            abort(400)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter  # before the routes are bound to it
    app.before_request(refuse_nul_bytes)
