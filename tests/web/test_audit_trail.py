"""The audit trail's pages (#21): the admins' journal (filters, pages, export recorded as a read), the coordination's
history of an object of its territory, the reads of personal data in bulk, the address behind a trusted proxy,
and what the trail adds to a write request."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from app import create_app
from app.domain import audit
from app.extensions import db
from app.models import AuditEntry, Force, Role
from tests.factories import (
    make_coordinator,
    make_establishment,
    make_qualified_trainer,
    make_request,
    make_trainer,
    make_user,
)
from tests.helpers import count_queries, login, post_form


def entries(**where) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)))


def test_a_coordinator_s_change_is_recorded_with_their_name_and_told_in_the_history(app, client, clock):
    request = make_request(status="submitted")
    coordinator = make_coordinator("69", Force.POLICE, full_name="Marie Dupont")
    db.session.commit()
    login(client, coordinator)
    response = post_form(client, f"/coordination/demandes/{request.id}/accepter", {},
                         page=f"/coordination/demandes/{request.id}")
    assert response.status_code == 302
    [moved] = [e for e in entries(object_type="intervention_request", object_id=str(request.id))
               if json.loads(e.changes).get("status") == ["submitted", "in_planning"]]
    assert (moved.author_id, moved.author_name, moved.address) == (coordinator.id, "Marie Dupont", "127.0.0.1")
    assert json.loads(moved.changes)["status"] == ["submitted", "in_planning"]
    created = entries(object_type="intervention", transaction_key=moved.transaction_key)
    assert len(created) == request.group_count  # the sessions made in the same transaction, by the same person

    page = client.get(f"/historique/demande/{request.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Marie Dupont a modifié la demande" in html
    assert "l&#39;état : Envoyée, en attente d&#39;examen → Acceptée, en cours de planification" in html
    assert "Marie Dupont a créé l&#39;intervention" in html


def test_history_is_the_coordination_s_of_its_territory_only(app, client, clock):
    theirs = make_request(make_establishment("13", force=Force.GENDARMERIE), status="in_planning")
    ours = make_request(status="in_planning")
    their_trainer = make_trainer("13", Force.GENDARMERIE)
    coordinator = make_coordinator("69", Force.POLICE)
    requester = ours.created_by
    db.session.commit()
    login(client, coordinator)
    assert client.get(f"/historique/demande/{ours.id}").status_code == 200
    session_page = client.get(f"/historique/intervention/{ours.interventions[0].id}")
    assert session_page.status_code == 200 and "a créé l&#39;intervention" in session_page.get_data(as_text=True)
    assert client.get(f"/historique/demande/{theirs.id}").status_code == 404
    assert client.get(f"/historique/intervention/{theirs.interventions[0].id}").status_code == 404
    assert client.get(f"/historique/formateur/{their_trainer.id}").status_code == 404
    assert client.get("/admin/journal").status_code == 403
    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    login(client, requester)
    assert client.get(f"/historique/demande/{ours.id}").status_code == 403


def test_the_admins_search_the_journal_by_person_object_action_and_period_a_page_at_a_time(app, client, clock):
    admin = make_user(Role.ADMIN)
    db.session.commit()
    with audit.acting(audit.Actor(None, "Jeanne Martin")):
        people = [make_user(Role.REQUESTER) for _ in range(60)]
        db.session.commit()
    make_user(Role.REQUESTER, full_name="Autre personne")
    db.session.commit()
    login(client, admin)
    first = client.get("/admin/journal?personne=jeanne&objet=user_account&action=create&du=2026-11-30&au=2026-11-30")
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert html.count("Jeanne Martin a créé le compte") == 50 and "Autre personne" not in html
    assert 'rel="next"' in html
    next_url = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert second.count("Jeanne Martin a créé le compte") == 10 and "Revenir au début" in second
    assert f"nº {people[0].id}" in second
    empty = client.get("/admin/journal?du=2027-01-01").get_data(as_text=True)
    assert "Aucune entrée." in empty


def test_the_export_is_formula_safe_and_is_itself_recorded_as_a_read(app, client, clock):
    admin = make_user(Role.ADMIN, full_name="Admin National")
    with audit.acting(audit.Actor(None, "=HYPERLINK(\"x\")")):
        make_user(Role.REQUESTER)
        db.session.commit()
    login(client, admin)
    response = client.get("/admin/journal/export?format=csv&action=create")
    text = response.get_data().decode("utf-8-sig")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text
    [read] = entries(action="read", object_type="audit_trail")
    assert read.author_id == admin.id and json.loads(read.changes)["portée"] == "action=create"
    assert client.get("/admin/journal/export?format=xlsx").headers["Content-Type"].startswith("application/vnd.openxml")


def test_reading_a_trainer_s_record_or_the_roster_export_is_recorded(app, client, clock):
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    assert client.get(f"/formateurs/{trainer.id}").status_code == 200
    [record] = entries(action="read", object_type="trainer_record")
    assert (record.object_id, record.author_id) == (str(trainer.id), coordinator.id)
    assert client.get("/formateurs/export.csv").status_code == 200
    [export] = entries(action="read", object_type="trainers_export")
    assert json.loads(export.changes)["nombre"] == 1
    assert "a consulté la fiche d&#39;un formateur" in client.get(f"/historique/formateur/{trainer.id}").get_data(
        as_text=True)


def test_the_address_is_the_client_s_behind_a_trusted_proxy(app, database_url, clock):
    request = make_request(status="submitted")
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    behind = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RELAIS_TRUSTED_PROXIES": 1})
    client = behind.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.50"
    with behind.app_context():
        login(client, coordinator)
        post_form(client, f"/coordination/demandes/{request.id}/accepter", {},
                  page=f"/coordination/demandes/{request.id}")
        db.session.remove()
    addresses = {e.address for e in entries(object_type="intervention_request", object_id=str(request.id))
                 if e.author_id == coordinator.id}
    assert addresses == {"203.0.113.50"}


def test_a_write_request_pays_a_few_statements_for_its_trail(app, client, clock):
    requests = [make_request(status="submitted", group_count=4) for _ in range(2)]
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    for request in requests:
        page = f"/coordination/demandes/{request.id}"
        client.get(page)
        with count_queries() as statements:
            post_form(client, f"/coordination/demandes/{request.id}/accepter", {}, page=page)
        trail = [s for s in statements if "audit_entry" in s or "pg_advisory" in s]
        # the head of the chain, one multi-row INSERT (and PostgreSQL's lock); the reads of a status before its
        # conditional update, when the page had not loaded it
        assert len(trail) <= 4, trail


def test_the_schedule_and_statistics_exports_are_recorded_as_reads(app, client, clock):
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    for kind in ("csv", "xlsx", "ics"):
        response = client.get("/calendrier/export", query_string={
            "date_from": "2027-01-01", "date_to": "2027-01-31", "statuses": ["confirmed"], "format": kind})
        assert response.status_code == 200
    reads = entries(action="read", object_type="sessions_export")
    assert len(reads) == 3 and all(r.author_id == coordinator.id for r in reads)
    assert "date_from=2027-01-01" in json.loads(reads[0].changes)["portée"]
    assert client.get("/statistiques/mois.csv", query_string={"date_from": "2025-09-01",
                                                                "date_to": "2026-08-31"}).status_code == 200
    [statistics] = entries(action="read", object_type="statistics_export")
    assert "tableau=mois" in json.loads(statistics.changes)["portée"]


def test_the_journal_sends_as_many_statements_for_five_entries_as_for_two_hundred(app, client, clock):
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login(client, admin)

    def statements(url: str) -> int:
        with count_queries() as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    for _ in range(5):
        make_user(Role.REQUESTER)
    db.session.commit()
    few = [statements(url) for url in ("/admin/journal", "/admin/journal?avant=3")]
    for _ in range(200):
        make_user(Role.REQUESTER)
    db.session.commit()
    many = [statements(url) for url in ("/admin/journal", "/admin/journal?avant=150")]
    assert few == many


def test_a_log_in_is_the_person_s_own_doing_told_in_words_and_french_dates(app, client, clock):
    """The writes of a log-in (the second factor's step, the last log-in) are signed by the person who proved who
    they are, not « a visitor »; columns by their names, moments as people write them, not ISO."""
    admin = make_user(Role.ADMIN, full_name="Claire Administratrice")
    db.session.commit()
    login(client, admin)
    [logged] = [e for e in entries(object_type="user_account", object_id=str(admin.id))
                if "last_login_at" in json.loads(e.changes)]
    assert logged.author_id == admin.id and logged.author_name == "Claire Administratrice"
    html = client.get(f"/admin/journal?objet=user_account&numero={admin.id}").get_data(as_text=True)
    assert "Claire Administratrice a modifié" in html and "la dernière connexion" in html
    assert "Un visiteur non connecté" not in html
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", html)
