"""The labels of the reference data, in the language of the page or e-mail that shows them.

Topics and audiences live in the database (loaded from app/data/*.csv) with their French label; forces and kinds
of establishment are enumerations. Each has here one lazy label per code, translated by the English catalogue like
every other message: whatever shows a topic, an audience, a force or a kind of establishment (pages, e-mails,
calendar events, statistics, exports) takes its label from here, never from `label_fr`. `tests/test_translations.py`
checks that each row of the CSV files has its label here, French as in the file and English as its `label_en`.
Départements keep their names (proper nouns).
"""

from __future__ import annotations

import re

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from markupsafe import escape

from app.models import EstablishmentKind
from app.models.group_labels import GroupLabel

TOPICS = {
    "cannabis": _l("Cannabis"),
    "alcool": _l("Alcool"),
    "tabac-vapotage": _l("Tabac et vapotage"),
    "protoxyde-azote": _l("Protoxyde d'azote"),
    "cannabinoides-synthese": _l("Cannabinoïdes de synthèse (PTC)"),
    "cocaine-drogues-synthese": _l("Cocaïne et drogues de synthèse"),
    "medicaments-detournes": _l("Mésusage de médicaments (psychotropes)"),
    "loi-sanctions": _l("La loi et les sanctions"),
    "harcelement": _l("Harcèlement"),
    "risques-numeriques": _l("Risques numériques"),
}
AUDIENCES = {
    "6e": _l("Élèves de 6e"),
    "5e": _l("Élèves de 5e"),
    "4e": _l("Élèves de 4e"),
    "3e": _l("Élèves de 3e"),
    "seconde": _l("Élèves de seconde"),
    "premiere": _l("Élèves de première"),
    "terminale": _l("Élèves de terminale"),
    "cap-bac-pro": _l("Élèves de CAP et bac pro"),
    "etudiants": _l("Étudiants"),
    "apprentis": _l("Apprentis"),
    "personnels": _l("Personnels de l'établissement"),
    "parents": _l("Parents"),
    "salaries": _l("Salariés"),
}
FORCES = {"police": _l("Police nationale"), "gendarmerie": _l("Gendarmerie nationale")}
ESTABLISHMENT_KINDS = {
    EstablishmentKind.COLLEGE: _l("Collège"),
    EstablishmentKind.LYCEE: _l("Lycée"),
    EstablishmentKind.LYCEE_PRO: _l("Lycée professionnel"),
    EstablishmentKind.HIGHER_EDUCATION: _l("Enseignement supérieur"),
    EstablishmentKind.COMPANY: _l("Entreprise"),
    EstablishmentKind.ADMINISTRATION: _l("Administration"),
    EstablishmentKind.ASSOCIATION: _l("Association"),
    EstablishmentKind.OTHER: _l("Autre"),
}

# What an update of a session's invitation may say changed (CalendarNotice.changed), in the order said.
CHANGED_PARTS = {
    "name": _l("le nom de l'établissement"),
    "address": _l("l'adresse"),
    "place": _l("le lieu"),
    "room": _l("la salle"),
    "equipment": _l("le matériel disponible"),
    "contact": _l("le contact sur place"),
}


def changed_text(codes) -> str:
    """« la salle, le contact sur place »: the parts of an invitation that changed, in the reader's language."""
    return ", ".join(str(label) for code, label in CHANGED_PARTS.items() if code in set(codes))


def _code(item) -> str:
    return item if isinstance(item, str) else item.code


def topic_label(topic) -> str:
    """The label of a topic (a Topic or its code) in the language of the moment; a topic newer than this module
    keeps its French label from the database."""
    label = TOPICS.get(_code(topic))
    return str(label) if label is not None else getattr(topic, "label_fr", _code(topic))


def audience_label(audience) -> str:
    """The label of an audience (an Audience or its code) in the language of the moment."""
    label = AUDIENCES.get(_code(audience))
    return str(label) if label is not None else getattr(audience, "label_fr", _code(audience))


def force_label(force, missing: str = "") -> str:
    """The label of a force (a Force or its value); `missing` when there is none."""
    label = FORCES.get(str(force)) if force else None
    return str(label) if label is not None else str(missing)


def kind_label(kind) -> str:
    """The label of a kind of establishment (an EstablishmentKind or its value)."""
    label = ESTABLISHMENT_KINDS.get(kind)
    return str(label) if label is not None else str(kind or "")


# -- texts written in French by the domain, shown in the reader's language -----------------------------------------

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_WRITTEN: dict[str, re.Pattern] = {}


def _pattern(message: str) -> re.Pattern:
    """The message with its placeholders as named groups: « 3 proposition(s)… » gives count=3."""
    pieces = _PLACEHOLDER.split(message)  # text, name, text, name, …, text
    return re.compile("".join(re.escape(piece) if index % 2 == 0 else f"(?P<{piece}>.+?)"
                              for index, piece in enumerate(pieces)))


def N_(message: str) -> str:  # noqa: N802 (the name gettext tools look for)
    """Marks a message for the catalogue and keeps it in French: what the domain stores (a reason in a column) or
    hands over as data (a plan's reasons) stays in the service's language; `stored_text` shows it translated."""
    _WRITTEN[message] = _pattern(message)
    return message


# Why the cascade of offers hands a session back to the coordination (Intervention.attention_reason).
ATTENTION_OFFERS_EXHAUSTED = N_("%(count)s proposition(s) déclinée(s) ou expirée(s) : à reprendre par la "
                                "coordination.")
ATTENTION_NO_CANDIDATE = N_("Plus aucun formateur possible : à reprendre par la coordination.")

# Why an offer closed without its trainer's answer: others filled the session first (Assignment.decline_reason).
# The trainer turned nothing down (eligibility.asked_answer): they may be asked again if it needs someone again.
SESSION_FILLED = N_("Intervention complète.")


class WrittenText(LazyString):
    """A stored text translated when shown, like Flask-Babel's lazy strings, but not trusted as HTML: its parameters
    come out of the stored text, which may hold what someone typed (Flask-Babel's own `__html__` returns the text
    as markup, unescaped)."""

    def __html__(self) -> str:
        return str(escape(str(self)))


def stored_text(text: str | None):
    """A text the domain wrote in French from a message marked with `N_`, as a lazy string in the language of the
    page or e-mail; any other text (an older wording, a person's own words) as it is."""
    if not text:
        return text
    for message, pattern in _WRITTEN.items():
        found = pattern.fullmatch(text)
        if found:
            return WrittenText(gettext, message, **found.groupdict())
    return text


def note_text(note: str | None) -> str:
    """A history note in the reader's language: its parts (« Groupe 1 — Jean Dupont — motif ») each shown as
    `stored_text` shows it, « Groupe 1 » as « Group 1 » in English; the people's words as they wrote them."""
    def shown(part: str) -> str:
        group = str(GroupLabel(part))
        return group if group != part else str(stored_text(part))

    return " — ".join(shown(part) for part in (note or "").split(" — "))
