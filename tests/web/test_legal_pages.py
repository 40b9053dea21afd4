"""The pages a French public service must have (issue #21): public, in French, linked from every page's footer,
filled from the configuration (the publisher), the retention settings (durations) and the committed results of
the accessibility tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.domain import retention
from app.domain.clock import utcnow
from app.extensions import db
from app.models import Role
from tests.browser.accessibility_report import check
from tests.factories import make_user

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "accessibility-results.json"
LEGAL = {"/mentions-legales": "Mentions légales", "/donnees-personnelles": "Données personnelles",
         "/accessibilite": "Déclaration d'accessibilité"}


@pytest.mark.parametrize("path", sorted(LEGAL))
def test_the_legal_pages_are_public(app, client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"<h1>{LEGAL[path]}</h1>" in html and 'lang="fr"' in html


@pytest.mark.parametrize("path", ["/compte/connexion", "/mentions-legales", "/accueil", "/compte/mes-donnees"])
def test_every_page_s_footer_links_them(app, client, logged_in, path):
    if path in ("/accueil", "/compte/mes-donnees"):
        logged_in(make_user(Role.REQUESTER))
    html = client.get(path).get_data(as_text=True)
    footer = html[html.index("<footer"):]
    for link in LEGAL:
        assert f'href="{link}"' in footer, (path, link)


def test_the_legal_notice_names_the_publisher_or_says_what_to_complete(app, client):
    html = client.get("/mentions-legales").get_data(as_text=True)
    assert "Ministère de l&#39;Intérieur" in html and "Place Beauvau" in html
    assert "à compléter par le service qui déploie Relais" in html  # the director and the host are not set
    app.config.update(RELAIS_PUBLISHER_DIRECTOR="Le secrétaire général", RELAIS_PUBLISHER_HOST="Hébergeur Exemple",
                      RELAIS_PUBLISHER_HOST_ADDRESS="1 rue de l'Hébergement, 75000 Paris",
                      RELAIS_PUBLISHER_EMAIL="relais@interieur.gouv.fr", RELAIS_PUBLISHER_DPO_EMAIL="dpd@exemple.fr")
    html = client.get("/mentions-legales").get_data(as_text=True)
    assert "Le secrétaire général" in html and "Hébergeur Exemple" in html
    assert "à compléter" not in html


def test_the_personal_data_page_reads_the_retention_settings(app, client):
    html = client.get("/donnees-personnelles").get_data(as_text=True)
    for text in ("article 6, paragraphe 1, point e, du RGPD", "Destinataires", "3 ans après sa dernière intervention",
                 "24 mois après la dernière connexion", "www.cnil.fr/fr/plaintes", "délégué à la protection"):
        assert text in html, text
    retention.save_periods(db.session, {"request_contacts": 2, "unused_accounts": 12}, None, utcnow())
    db.session.commit()
    html = client.get("/donnees-personnelles").get_data(as_text=True)
    assert "2 ans après sa dernière intervention" in html and "12 mois après la dernière connexion" in html


def test_the_accessibility_declaration_shows_the_committed_results(app, client):
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    html = client.get("/accessibilite").get_data(as_text=True)
    assert "partiellement conforme" in html and "RGAA" in html and "Défenseur des droits" in html
    assert f"axe-core {results['axe_version']}" in html
    for entry in results["pages"]:
        assert f"<code>{entry['path']}</code>".replace("<id>", "&lt;id&gt;") in html


def test_the_committed_accessibility_results_are_well_formed(app):
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert check(results) == []
    paths = {entry["path"] for entry in results["pages"]}
    assert {"/compte/mes-donnees", "/mentions-legales", "/donnees-personnelles", "/accessibilite"} <= paths
    assert all(entry["widths"] for entry in results["pages"])


def test_without_results_the_declaration_says_so(app, client, tmp_path):
    app.config["RELAIS_ACCESSIBILITY_RESULTS"] = str(tmp_path / "absent.json")
    html = client.get("/accessibilite").get_data(as_text=True)
    assert "ne sont pas encore publiés" in html
