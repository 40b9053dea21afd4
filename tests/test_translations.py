"""Every French string of the interface has its English translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def _translated(string) -> bool:
    """A message's English: a text, or for a plural (ngettext) one text per form, none of them empty."""
    return all(string) if isinstance(string, tuple) else bool(string)


def test_english_catalogue_translates_every_message(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "-o", str(template), "--no-location", "."],
                   cwd=ROOT, check=True, capture_output=True)
    with template.open("rb") as handle:
        wanted = {message.id for message in read_po(handle) if message.id}
    with (ROOT / "app/translations/en/LC_MESSAGES/messages.po").open("rb") as handle:
        english = {message.id: message.string for message in read_po(handle, locale="en") if message.id}
    missing = sorted((message_id for message_id in wanted if not _translated(english.get(message_id))), key=str)
    assert not missing, f"{len(missing)} message(s) without English translation (make extract-messages): {missing[:10]}"


def test_reference_data_has_its_labels_in_both_languages(app):
    """Each topic and audience of app/data has its label in app.domain.vocabulary: French as in the file, English
    as its label_en (through the catalogue); each force and kind of establishment has one too."""
    import csv

    from flask_babel import force_locale

    from app.domain.vocabulary import AUDIENCES, ESTABLISHMENT_KINDS, FORCES, TOPICS, audience_label, topic_label
    from app.models import EstablishmentKind, Force

    for filename, labels, label_of in (("topics.csv", TOPICS, topic_label), ("audiences.csv", AUDIENCES,
                                                                            audience_label)):
        with (ROOT / "app/data" / filename).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert {row["code"] for row in rows} == set(labels), filename
        with app.test_request_context():
            for row in rows:
                with force_locale("fr"):
                    assert label_of(row["code"]) == row["label_fr"]
                with force_locale("en"):
                    assert label_of(row["code"]) == row["label_en"]
    assert set(FORCES) == {force.value for force in Force}
    assert set(ESTABLISHMENT_KINDS) == set(EstablishmentKind)


def test_texts_the_domain_writes_in_french_are_shown_in_the_readers_language(app):
    """A reason the domain stores in French (from a message marked N_) and « Groupe 2 » read back from the
    database are shown in English to an English reader; other texts (a person's own words) stay as written."""
    from flask import render_template_string
    from flask_babel import force_locale

    from app.domain.planning import NO_CAPACITY
    from app.domain.vocabulary import ATTENTION_OFFERS_EXHAUSTED, note_text, stored_text
    from app.models.group_labels import GroupLabel

    group = GroupLabel("Groupe 2")
    with app.test_request_context(), force_locale("en"):
        assert str(stored_text(ATTENTION_OFFERS_EXHAUSTED % {"count": 3})) == \
            "3 offer(s) declined or expired: for the coordination to take up."
        assert str(stored_text(NO_CAPACITY)).startswith("The possible trainers")
        assert stored_text("Pas dispo ce jour-là") == "Pas dispo ce jour-là"
        assert render_template_string("{{ g }}, {{ _('Groupe : %(group)s, %(people)s personnes', group=g, people=3) }}",
                                      g=group) == "Group 2, Group: Group 2, 3 people"
        assert f"{group} — Jean" == "Groupe 2 — Jean"  # what the history records stays in French
        assert note_text(f"{group} — Jean — {NO_CAPACITY}") == \
            "Group 2 — Jean — The possible trainers are already busy at these times or have reached their limits."
    with app.test_request_context(), force_locale("fr"):
        assert str(group) == "Groupe 2" and str(stored_text(NO_CAPACITY)) == NO_CAPACITY


def test_holidays_are_explained_in_the_readers_language(app):
    """The holidays' own names stay French (proper nouns); the sentence and the date are the reader's."""
    from datetime import date

    from flask_babel import force_locale

    from app.domain.holidays import check_day

    with app.test_request_context(), force_locale("en"):
        assert check_day("69", "A", date(2026, 12, 25), True).blocked_reason == \
            "December 25, 2026 is a public holiday (Jour de Noël)."
        assert check_day("69", "A", date(2026, 12, 23), True).blocked_reason == \
            "December 23, 2026 falls in the school holidays (Vacances de Noël, zone A)."
