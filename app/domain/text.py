"""What Relais keeps of text that people type or import: one cleaning, the same for forms and files."""

from __future__ import annotations

import re
import unicodedata

# Control characters no one types (NUL breaks PostgreSQL's text; others hide text in pages and e-mails, or turn it
# around: U+202E), except tab and the line breaks of a text area.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
LINE_SEPARATORS = re.compile("[\u2028\u2029]")


def clean_text(value):
    """NFC, no control characters, line separators as line breaks, no surrounding blanks (a value of blanks alone
    is empty). Lists are cleaned item by item; other values (numbers, dates) pass."""
    if isinstance(value, list):
        return [clean_text(item) for item in value]
    if not isinstance(value, str):
        return value
    value = LINE_SEPARATORS.sub("\n", unicodedata.normalize("NFC", value))
    return CONTROL.sub("", value).strip()
