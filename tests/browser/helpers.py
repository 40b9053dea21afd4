"""Browser helpers shared by the journeys: log in through the form, check a page with axe-core."""

from __future__ import annotations

import os
from pathlib import Path


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Serious and critical axe-core violations of the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in impacts]


# Every id once, every form control named by a label of its own (label[for], aria-label or aria-labelledby): axe
# lets a control through when another control's label shares its id, or when a heading holds the id its label
# points to (clicking "Motif de l'annulation" focused "Motif du refus").
_IDS_AND_LABELS = """() => {
  const problems = [];
  const seen = new Map();
  for (const element of document.querySelectorAll("[id]")) {
    seen.set(element.id, (seen.get(element.id) || 0) + 1);
  }
  for (const [id, count] of seen) {
    if (count > 1) problems.push(`id "${id}" used ${count} times`);
  }
  const buttons = ["hidden", "submit", "button", "reset", "image"].map(type => `:not([type=${type}])`).join("");
  const controls = document.querySelectorAll(`input${buttons}, select, textarea`);
  for (const control of controls) {
    const name = control.name || control.id || control.outerHTML.slice(0, 80);
    if (control.hasAttribute("aria-label") && control.getAttribute("aria-label").trim()) continue;
    const labelledBy = (control.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    if (labelledBy.length && labelledBy.every(id => document.getElementById(id))) continue;
    const labels = [...document.querySelectorAll("label[for]")].filter(l => control.id && l.htmlFor === control.id);
    if (labels.length === 1 && labels[0].textContent.trim()) continue;
    problems.push(labels.length > 1 ? `${name}: ${labels.length} labels`
                                    : `${name}: no label[for], aria-label or aria-labelledby`);
  }
  return problems;
}"""


def ids_and_labels_problems(page) -> list[str]:
    """Duplicate ids and form controls without a label of their own, on the page as it is now."""
    return page.evaluate(_IDS_AND_LABELS)


def record_accessibility(page, violations: list[dict]) -> None:
    """With RELAIS_ACCESSIBILITY_LOG set (`make accessibility-report`), notes the page checked, its width and its
    serious or critical violations, one JSON line each: tests/browser/accessibility_report.py adds them up into
    docs/accessibility-results.json, which the « Accessibilité » page shows (issue #21)."""
    log = os.environ.get("RELAIS_ACCESSIBILITY_LOG")
    if not log:
        return
    import json
    import re
    from urllib.parse import urlsplit

    path = re.sub(r"/\d+(?=/|$)", "/<id>", urlsplit(page.url).path) or "/"
    line = {"path": path, "width": (page.viewport_size or {}).get("width"), "violations": len(violations),
            "rules": sorted({v["id"] for v in violations}),
            "axe_version": page.evaluate("() => (window.axe && window.axe.version) || null")}
    with open(log, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(line) + "\n")


def assert_accessible(page) -> None:
    # A click that navigates returns once the next page has started loading: check the page once it has loaded.
    page.wait_for_load_state()
    violations = axe_violations(page)
    record_accessibility(page, violations)
    details = "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — "
                        + ", ".join(str(n.get("target")) for n in v["nodes"][:5]) for v in violations)
    assert not violations, f"axe-core violations on {page.url}:\n{details}"
    problems = ids_and_labels_problems(page)
    assert not problems, f"ids or labels on {page.url}:\n" + "\n".join(problems)


def log_in(page, email: str, password: str) -> None:
    """Through the form; a coordinator or admin then types the code of their authenticator (their enrolled secret,
    read from the database the server thread shares)."""
    from tests.helpers import current_totp_code

    page.goto("/compte/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: url.endswith("/accueil") or "/compte/double-authentification" in url)
    if "/compte/double-authentification" in page.url:
        page.get_by_label("Code de vérification").fill(current_totp_code(email))
        page.get_by_role("button", name="Valider").click()
        page.wait_for_url("**/accueil")


def check_both_widths(page, name: str) -> None:
    """axe and the page's width at a desktop's width and a phone's; the screenshots when RELAIS_SHOTS is set."""
    folder = os.environ.get("RELAIS_SHOTS")
    size = page.viewport_size
    for width, suffix in ((1280, "desktop"), (390, "390")):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} wider than {width} px"
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{folder}/{name}-{suffix}.png", full_page=True)
    page.set_viewport_size(size)

