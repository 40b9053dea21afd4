"""English without French leftovers (#18): each role, in English, walks its pages on the demo data, and no French
label of the application shows — neither a message of the catalogue nor a label of the reference data."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po

from app.domain.demo import DEMO_PASSWORD
from tests.browser.helpers import log_in

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LOGINS = {
    "admin": "admin@relais.demo",
    "coordinator": "coordination.police.69@relais.demo",
    "trainer": "formateur.pfad@relais.demo",
    "requester": "principal.college@relais.demo",
}
# Placeholders, markup and entities cut a message into the fragments a page shows as they are.
_CUTS = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\{.*?\}\}|\{\w*\}|<[^>]*>|&\w+;|\n")
_FRENCH_LETTER = re.compile("[àâçéèêëîïôûùüÿœæ]", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]")
# Pages not to open: files, feeds, and links that act (log-out and the language are forms; these are GETs that
# would only ask for a confirmation, harmless, but they show the same words as the page that links to them).
_SKIPPED = re.compile(r"\.(ics|csv|svg|ico|png|js|css)$|/static/|/compte/langue/")
PAGES_PER_ROLE = 60
# Requests are seen in several states (the history, the sessions and their reasons differ): a few of each kind.
_SEVERAL = re.compile(r"^(/coordination)?/demandes/N$")


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


def texts_people_wrote() -> list[str]:
    """What people typed or chose to call things (names, addresses, remarks, reasons in their own words), the
    places' names, and the subjects of e-mails already written to French readers: French on an English page
    without being a leftover. Longest first, to be blanked out of the page before looking for labels."""
    from sqlalchemy import select

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
               AvailabilityException.reason, JoinRequest.message, OutgoingMessage.subject, Departement.name,
               Departement.region, Departement.academie)
    texts = {_words(value) for column in columns for value in db.session.scalars(select(column).distinct()) if value}
    return sorted((text for text in texts if len(text) >= 4), key=len, reverse=True)


# Everything a person reads or hears on the page: its text, the names of its controls, its title.
_PAGE_TEXT = """() => {
  const parts = [document.title, document.body.innerText];
  for (const element of document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
    for (const name of ["aria-label", "title", "placeholder", "alt"]) {
      if (element.hasAttribute(name)) parts.push(element.getAttribute(name));
    }
  }
  for (const element of document.querySelectorAll("option, input[type=submit], input[type=button]")) {
    parts.push(element.textContent || element.value);
  }
  return parts.join("\\n");
}"""


def _links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or _SKIPPED.search(parts.path):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _shape(path: str) -> str:
    """Pages of one kind (another request, another week): one of each is enough."""
    return re.sub(r"\d+", "N", path.split("?")[0]) + ("?" + re.sub(r"=[^&]*", "=", path.split("?")[1])
                                                      if "?" in path else "")


def walk_in_english(page, origin: str, labels: set[str], written: list[str]) -> tuple[list[str], dict[str, set[str]]]:
    """Opens the home, then every page of a new shape linked from the pages opened, breadth first."""
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    queue, seen, known, opened, leftovers = ["/accueil"], {_shape("/accueil"): 1}, {"/accueil"}, [], {}
    # Whole words only: « Annulée » is not in « Annulées », nor a fragment inside a longer word.
    patterns = {label: re.compile(rf"(?<!\w){re.escape(label)}(?!\w)", re.IGNORECASE) for label in labels}
    while queue and len(opened) < PAGES_PER_ROLE:
        path = queue.pop(0)
        response = page.goto(path)
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        opened.append(path)
        text = _words(page.evaluate(_PAGE_TEXT))
        for words in written:
            text = text.replace(words, " ¶ ")
        found = {label for label, pattern in patterns.items() if pattern.search(text)}
        if found:
            leftovers[path] = found
        for link in _links(page, origin):
            shape = _shape(link)
            if link not in known and seen.get(shape, 0) < (4 if _SEVERAL.match(shape) else 1):
                seen[shape] = seen.get(shape, 0) + 1
                known.add(link)
                queue.append(link)
    return opened, leftovers


def test_the_french_labels_are_many_and_english_is_not_among_them():
    labels = french_labels()
    assert len(labels) > 300
    assert "Motif du refus" in labels and "Cannabinoïdes de synthèse (PTC)" in labels
    assert not any(label in labels for label in ("Log out", "Year 7 pupils (6e)", "Cannabis"))


@pytest.mark.parametrize("role", sorted(LOGINS))
def test_each_role_walks_its_pages_in_english_without_french_leftovers(demo, page, live_server, role):
    labels = french_labels()
    log_in(page, LOGINS[role], DEMO_PASSWORD)
    opened, leftovers = walk_in_english(page, live_server, labels, texts_people_wrote())
    print(f"{role}: {len(opened)} pages in English", *opened, sep="\n  ")
    assert len(opened) >= 5, opened
    report = "\n".join(f"{path}: {sorted(found)}" for path, found in leftovers.items())
    assert not leftovers, f"French on {len(leftovers)} of {len(opened)} English pages:\n{report}"
