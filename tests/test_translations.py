"""Every French string of the interface has its English translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def test_english_catalogue_translates_every_message(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "-o", str(template), "--no-location", "."],
                   cwd=ROOT, check=True, capture_output=True)
    with template.open("rb") as handle:
        wanted = {message.id for message in read_po(handle) if message.id}
    with (ROOT / "app/translations/en/LC_MESSAGES/messages.po").open("rb") as handle:
        english = {message.id: message.string for message in read_po(handle, locale="en") if message.id}
    missing = sorted(message_id for message_id in wanted if not english.get(message_id))
    assert not missing, f"{len(missing)} message(s) without English translation (make extract-messages): {missing[:10]}"
