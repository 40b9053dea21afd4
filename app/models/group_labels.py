"""A session's group label, stored in French and shown in the language of the page or e-mail.

The lifecycle names the groups of a request « Groupe 1 », « Groupe 2 »… (the service's language, kept as is in the
database, the exports and the history). Read from the database, the label is a `GroupLabel`: equal to the stored
text (comparisons, writes, SQL, f-strings that write the history), but shown — Jinja, `str()`, a message's
`%(group)s` — through the catalogue (« Group 1 » in English). A label that is not « Groupe N » is shown as it is.
"""

from __future__ import annotations

import re

from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

_NUMBERED = re.compile(r"Groupe (\d+)")


class GroupLabel(str):
    __slots__ = ()

    def __str__(self) -> str:
        numbered = _NUMBERED.fullmatch(self)
        return gettext("Groupe %(number)s", number=numbered[1]) if numbered else str.__str__(self)

    def __format__(self, spec: str) -> str:
        return format(str.__str__(self), spec)  # f-strings write records (the history): they stay in French

    def __html__(self) -> str:
        return escape(str(self))


class GroupLabelType(TypeDecorator):
    """A String column read as `GroupLabel`."""

    impl = String
    cache_ok = True

    def process_result_value(self, value, dialect):
        return None if value is None else GroupLabel(value)
