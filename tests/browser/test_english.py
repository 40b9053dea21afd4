"""English without French leftovers (#18): each role, in English, walks its pages on the demo data, and no French
label of the application shows — neither a message of the catalogue nor a label of the reference data."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from app.domain.demo import DEMO_PASSWORD
from tests.browser.helpers import log_in
from tests.french_labels import french_labels, label_patterns, leftovers, texts_people_wrote

pytestmark = pytest.mark.browser

LOGINS = {
    "admin": "admin@relais.demo",
    "coordinator": "coordination.police.69@relais.demo",
    "trainer": "formateur.pfad@relais.demo",
    "requester": "principal.college@relais.demo",
}
# Pages not to open: files, feeds, and links that act (log-out and the language are forms; these are GETs that
# would only ask for a confirmation, harmless, but they show the same words as the page that links to them).
# The API's reference (/api/v1/docs) is rendered from the OpenAPI document, which the code writes in French (#22
# asks for French examples); its page's own words follow the language, its content does not yet.
_SKIPPED = re.compile(r"\.(ics|csv|xlsx|json|svg|ico|png|js|css)$|/static/|/compte/langue/|^/api/v1/docs")
PAGES_PER_ROLE = 60
# Requests are seen in several states (the history, the sessions and their reasons differ): a few of each kind.
_SEVERAL = re.compile(r"^(/coordination)?/demandes/N$")


# Everything a person reads or hears on the page: its text, the names of its controls, its title; but not the
# passages marked as French on purpose (lang="fr": a French postal address, a French institution's name).
_PAGE_TEXT = """() => {
  let body = document.body.innerText;
  for (const element of document.querySelectorAll('body [lang]:not([lang^="en"])')) {
    body = body.replace(element.innerText, " ");
  }
  const parts = [document.title, body];
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
    queue, seen, known, opened, found_on = ["/accueil"], {_shape("/accueil"): 1}, {"/accueil"}, [], {}
    patterns = label_patterns(labels)
    while queue and len(opened) < PAGES_PER_ROLE:
        path = queue.pop(0)
        try:
            response = page.goto(path)
        except PlaywrightError as error:  # a link to a file (an export chosen by a query): not a page
            if "Download is starting" not in str(error):
                raise
            continue
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        opened.append(path)
        found = leftovers(page.evaluate(_PAGE_TEXT), patterns, written)
        if found:
            found_on[path] = found
        for link in _links(page, origin):
            shape = _shape(link)
            if link not in known and seen.get(shape, 0) < (4 if _SEVERAL.match(shape) else 1):
                seen[shape] = seen.get(shape, 0) + 1
                known.add(link)
                queue.append(link)
    return opened, found_on


def test_the_french_labels_are_many_and_english_is_not_among_them():
    labels = french_labels()
    assert len(labels) > 300
    assert "Motif du refus" in labels and "Cannabinoïdes de synthèse (PTC)" in labels
    assert not any(label in labels for label in ("Log out", "Year 7 pupils (6e)", "Cannabis"))


@pytest.mark.parametrize("role", sorted(LOGINS))
def test_each_role_walks_its_pages_in_english_without_french_leftovers(demo, page, live_server, role):
    labels = french_labels()
    log_in(page, LOGINS[role], DEMO_PASSWORD)
    opened, found_on = walk_in_english(page, live_server, labels, texts_people_wrote())
    print(f"{role}: {len(opened)} pages in English", *opened, sep="\n  ")
    assert len(opened) >= 5, opened
    report = "\n".join(f"{path}: {sorted(found)}" for path, found in found_on.items())
    assert not found_on, f"French on {len(found_on)} of {len(opened)} English pages:\n{report}"
