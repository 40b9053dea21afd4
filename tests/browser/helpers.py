"""Browser helpers shared by the journeys: log in through the form, check a page with axe-core."""

from __future__ import annotations


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Serious and critical axe-core violations of the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in impacts]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    details = "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — "
                        + ", ".join(str(n.get("target")) for n in v["nodes"][:5]) for v in violations)
    assert not violations, f"axe-core violations on {page.url}:\n{details}"


def log_in(page, email: str, password: str) -> None:
    page.goto("/compte/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/accueil")
