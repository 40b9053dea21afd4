"""The French labels of the application and the French that people wrote, to check that English pages and e-mails
show no French leftover (#18): tests/browser/test_english.py, tests/web/test_english_emails.py."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
# Placeholders, markup and entities cut a message into the fragments a page shows as they are.
_CUTS = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\{.*?\}\}|\{\w*\}|<[^>]*>|&\w+;|\n")
_FRENCH_LETTER = re.compile("[àâçéèêëîïôûùüÿœæ]", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]")


def _words(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def french_labels() -> set[str]:
    """The French labels of the application: the fragments of at least two words (and ten characters) of each
    message the English catalogue translates differently, its one-word messages with a French letter (« Annulée »),
    its short messages with their number (« Groupe 1 »), and the French labels of the reference data."""
    labels: set[str] = set()
    with (ROOT / "app/translations/en/LC_MESSAGES/messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="en")
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for french in ids:
            if french in strings:
                continue
            for fragment in _CUTS.split(french):
                fragment = _words(fragment).strip(" :;,.…()«»-—")
                if len(fragment.split()) >= 2 and len(fragment) >= 10:
                    labels.add(fragment)
            # « Annulée », « Réalisée »: a one-word message, if it cannot be English (a letter English does not use).
            if len(french.split()) == 1 and len(french) >= 5 and _FRENCH_LETTER.search(french):
                labels.add(french.strip(" :;,.…"))
            # « Groupe 1 »: a short message as shown with its number.
            sample = _words(_PLACEHOLDER.sub("1", french))
            if _PLACEHOLDER.search(french) and len(sample.split()) == 2 and not _CUTS.search(sample):
                labels.add(sample)
    for name in ("topics.csv", "audiences.csv"):
        with (ROOT / "app/data" / name).open(encoding="utf-8", newline="") as handle:
            labels.update(row["label_fr"] for row in csv.DictReader(handle) if row["label_fr"] != row["label_en"])
    return labels


def texts_people_wrote(subjects: bool = True) -> list[str]:
    """What people typed or chose to call things (names, addresses, remarks, reasons in their own words), the
    places' names, and the subjects of e-mails already written to French readers: French on an English page
    without being a leftover. Longest first, to be blanked out of the page before looking for labels."""
    from sqlalchemy import select

    from app.domain.vocabulary import stored_text
    from app.extensions import db
    from app.models import Departement, Establishment, Trainer, Unit, User
    from app.models.establishments import JoinRequest
    from app.models.interventions import Assignment, Feedback, Intervention, InterventionRequest, SessionReport
    from app.models.outbox import OutgoingMessage
    from app.models.trainers import AvailabilityException

    columns = (Establishment.name, Establishment.address, Establishment.commune_name, Unit.name, Unit.commune_name,
               User.full_name, Trainer.rank, Trainer.languages, InterventionRequest.place, InterventionRequest.room,
               InterventionRequest.equipment, InterventionRequest.contact_name, InterventionRequest.notes,
               InterventionRequest.refusal_reason, InterventionRequest.cancel_reason, Intervention.cancel_reason,
               Assignment.decline_reason, Feedback.comment, SessionReport.not_held_reason, SessionReport.remarks,
               AvailabilityException.reason, JoinRequest.message, Departement.name, Departement.region,
               Departement.academie) + ((OutgoingMessage.subject,) if subjects else ())
    texts = {_words(value) for column in columns for value in db.session.scalars(select(column).distinct()) if value}
    texts = {text for text in texts if stored_text(text) is text}  # not a reason the application wrote itself
    return sorted((text for text in texts if len(text) >= 4), key=len, reverse=True)


def leftovers(text: str, patterns: dict[str, re.Pattern], written: list[str]) -> set[str]:
    """The French labels in a text once what people wrote is blanked out."""
    text = _words(text)
    for words in written:
        text = text.replace(words, " ¶ ")
    return {label for label, pattern in patterns.items() if pattern.search(text)}


def label_patterns(labels: set[str]) -> dict[str, re.Pattern]:
    """Whole words only: « Annulée » is not in « Annulées », nor a fragment inside a longer word."""
    return {label: re.compile(rf"(?<!\w){re.escape(label)}(?!\w)", re.IGNORECASE) for label in labels}
