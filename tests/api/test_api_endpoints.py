"""The API's endpoints (issue #22) with the roles that use them: the same rules as the pages (policies, domain
functions, refusals), keyset pages, ETags, problem details in French or English, a rate limit per token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AccessToken,
    Assignment,
    AssignmentStatus,
    Force,
    InterventionRequest,
    RequestStatus,
    Role,
    SessionReport,
    TokenScope,
)
from tests.api.support import bearer, token_for
from tests.factories import (
    MONDAY_9,
    make_assigned_session,
    make_coordinator,
    make_establishment,
    make_offer,
    make_qualified_trainer,
    make_request,
    make_trainer,
    make_user,
)
from tests.helpers import request_anew

NEW_REQUEST = {"audiences": ["4e"], "topics": ["cannabis"], "group_count": 2, "people_per_group": 25,
               "duration_minutes": 60, "contact_name": "Mme Martin", "contact_phone": "04 72 00 00 00",
               "windows": [{"start_date": "2027-01-11", "end_date": "2027-01-15", "start_time": "08:00",
                            "end_time": "12:00"}], "send": True}


@pytest.fixture
def school(app, clock):
    """Ours: a collège of the Rhône (police) with its requester, and theirs in the Bouches-du-Rhône."""
    ours = make_establishment("69", force=Force.POLICE)
    theirs = make_establishment("13", force=Force.GENDARMERIE)
    people = {"requester": make_user(Role.REQUESTER, establishment_id=ours.id),
              "their_requester": make_user(Role.REQUESTER, establishment_id=theirs.id),
              "coordinator": make_coordinator("69", Force.POLICE)}
    db.session.commit()
    return ours, theirs, people


def test_a_requester_creates_sends_lists_edits_and_cancels_a_request(app, client, school):
    ours, _theirs, people = school
    secret = token_for(people["requester"])
    created = client.post("/api/v1/requests", json=NEW_REQUEST, headers=bearer(secret))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "submitted" and body["establishment_id"] == ours.id and body["audiences"] == ["4e"]
    listed = client.get("/api/v1/requests?status=submitted", headers=bearer(secret)).get_json()
    assert [item["id"] for item in listed["items"]] == [body["id"]] and listed["next"] is None
    edited = client.put(f"/api/v1/requests/{body['id']}", json={**NEW_REQUEST, "people_per_group": 30},
                        headers=bearer(secret))
    assert edited.status_code == 200 and edited.get_json()["people_per_group"] == 30
    cancelled = client.post(f"/api/v1/requests/{body['id']}/cancel", json={"reason": "Sortie scolaire"},
                            headers=bearer(secret))
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    # The same rule as the page: a cancelled request is no longer edited, in the form's words.
    refused = client.put(f"/api/v1/requests/{body['id']}", json=NEW_REQUEST, headers=bearer(secret))
    assert refused.status_code == 409 and refused.content_type == "application/problem+json"
    problem = refused.get_json()
    assert problem["detail"] == "Cette demande est déjà planifiée : elle ne peut plus être modifiée."
    assert problem["type"].endswith("#probleme-request_not_editable")
    assert problem["instance"] == f"/api/v1/requests/{body['id']}"


def test_a_request_in_planning_cannot_be_edited(app, client, school):
    ours, _theirs, people = school
    planned = make_request(ours, people["requester"], status="in_planning")
    db.session.commit()
    response = client.put(f"/api/v1/requests/{planned.id}", json=NEW_REQUEST,
                          headers=bearer(token_for(people["requester"])))
    assert response.status_code == 409


def test_validation_errors_name_the_field_in_french_or_english(app, client, school):
    _ours, _theirs, people = school
    secret = token_for(people["requester"])
    bad = {**NEW_REQUEST, "group_count": "deux",
           "windows": [{"start_date": "2026-12-01", "end_date": "2026-12-02", "start_time": "08:00",
                        "end_time": "12:00"}]}
    response = client.post("/api/v1/requests", json=bad, headers=bearer(secret))
    assert response.status_code == 422
    assert {"field": "group_count", "message": "Saisissez un nombre entier."} in response.get_json()["errors"]
    # The domain's rules (here: the notice), each next to its field as on the form.
    late = client.post("/api/v1/requests", json={**bad, "group_count": 2}, headers=bearer(secret)).get_json()
    assert late["status"] == 422 and any(e["field"].startswith("windows.0") for e in late["errors"])
    english = request_anew(client, "POST", "/api/v1/requests/999999/cancel", json={"reason": "x"},
                           headers=bearer(secret, **{"Accept-Language": "en"}))
    assert english.status_code == 404 and english.headers["Content-Language"] == "en"
    assert db.session.scalar(select(InterventionRequest)) is None


def test_out_of_scope_objects_are_404_like_the_pages(app, client, school):
    _ours, theirs, people = school
    their_request = make_request(theirs, people["their_requester"], status="submitted")
    db.session.commit()
    for who in ("requester", "coordinator"):
        secret = token_for(people[who])
        assert client.get(f"/api/v1/requests/{their_request.id}", headers=bearer(secret)).status_code == 404
        assert client.get("/api/v1/requests", headers=bearer(secret)).get_json()["items"] == []
    assert client.post(f"/api/v1/requests/{their_request.id}/cancel", json={"reason": "x"},
                       headers=bearer(token_for(people["coordinator"]))).status_code == 404


def test_the_coordination_lists_its_territory_a_page_at_a_time(app, client, school):
    ours, theirs, people = school
    mine = [make_request(ours, people["requester"], status="submitted") for _ in range(5)]
    make_request(ours, people["requester"], status="draft")  # a draft is the establishment's own
    make_request(theirs, people["their_requester"], status="submitted")
    db.session.commit()
    secret = token_for(people["coordinator"], TokenScope.READ)
    first = client.get("/api/v1/requests?limit=2", headers=bearer(secret))
    body = first.get_json()
    assert [item["id"] for item in body["items"]] == [mine[0].id, mine[1].id]
    assert body["next"] == f"/api/v1/requests?after={mine[1].id}&limit=2"
    assert first.headers["Link"] == f'<{body["next"]}>; rel="next"'
    seen = [item["id"] for item in body["items"]]
    url = body["next"]
    while url:
        body = client.get(url, headers=bearer(secret)).get_json()
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
    assert seen == [item.id for item in mine]


def test_reads_carry_an_etag_and_answer_304_when_nothing_changed(app, client, school):
    ours, _theirs, people = school
    item = make_request(ours, people["requester"], status="submitted")
    db.session.commit()
    secret = token_for(people["requester"])
    first = client.get(f"/api/v1/requests/{item.id}", headers=bearer(secret))
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get(f"/api/v1/requests/{item.id}", headers=bearer(secret, **{"If-None-Match": etag}))
    assert again.status_code == 304 and again.get_data() == b""
    client.put(f"/api/v1/requests/{item.id}", json={**NEW_REQUEST, "group_count": 3}, headers=bearer(secret))
    changed = client.get(f"/api/v1/requests/{item.id}", headers=bearer(secret, **{"If-None-Match": etag}))
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_trainer_reads_their_offers_and_answers_them(app, client, clock):
    first = make_request(make_establishment("69", force=Force.POLICE), status="in_planning", group_count=2)
    make_coordinator("69", Force.POLICE)
    trainer = make_qualified_trainer()
    make_offer(first.interventions[0], trainer, clock.now())
    make_offer(first.interventions[1], trainer, clock.now(), start=MONDAY_9 + timedelta(days=1))
    db.session.commit()
    secret = token_for(trainer.user)
    offers = client.get("/api/v1/offers", headers=bearer(secret)).get_json()["items"]
    assert [offer["session_id"] for offer in offers] == [first.interventions[0].id, first.interventions[1].id]
    accepted = client.post(f"/api/v1/offers/{offers[0]['id']}/accept", headers=bearer(secret))
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    declined = client.post(f"/api/v1/offers/{offers[1]['id']}/decline", json={"reason": "En congé"},
                           headers=bearer(secret))
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    again = client.post(f"/api/v1/offers/{offers[1]['id']}/accept", headers=bearer(secret))
    assert again.status_code == 409 and "n'est plus ouverte" in again.get_json()["detail"]
    assert db.session.get(Assignment, offers[0]["id"]).status is AssignmentStatus.ACCEPTED
    # Another trainer's offer is not theirs to answer.
    other = token_for(make_trainer().user)
    assert client.post(f"/api/v1/offers/{offers[0]['id']}/accept", headers=bearer(other)).status_code == 404


def test_sessions_their_invitation_and_the_trainer_s_report(app, client, clock):
    trainer = make_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    past = make_assigned_session(trainer, clock.now() - timedelta(days=2))
    db.session.commit()
    secret = token_for(trainer.user)
    listed = client.get("/api/v1/sessions", headers=bearer(secret)).get_json()["items"]
    assert [s["id"] for s in listed] == [past.id] and listed[0]["trainers"][0]["status"] == "accepted"
    ics = client.get(f"/api/v1/sessions/{past.id}/invitation.ics", headers=bearer(secret))
    assert ics.status_code == 200 and ics.content_type.startswith("text/calendar")
    assert b"BEGIN:VEVENT" in ics.get_data()
    incomplete = client.post(f"/api/v1/sessions/{past.id}/report", json={"held": True}, headers=bearer(secret))
    assert incomplete.status_code == 409 and "Compte rendu incomplet" in incomplete.get_json()["detail"]
    filed = client.post(f"/api/v1/sessions/{past.id}/report", json={"held": True, "people_present": 24},
                        headers=bearer(secret))
    assert filed.status_code == 201 and filed.get_json()["people_present"] == 24
    report_id = filed.get_json()["id"]
    assert db.session.get(SessionReport, report_id).people_present == 24
    # The coordination reads it; the roster of its territory too.
    staff = token_for(coordinator, TokenScope.READ)
    assert client.get(f"/api/v1/reports/{report_id}", headers=bearer(staff)).get_json()["people_present"] == 24
    assert [r["id"] for r in client.get("/api/v1/reports", headers=bearer(staff)).get_json()["items"]] == [report_id]
    roster = client.get("/api/v1/trainers", headers=bearer(staff)).get_json()["items"]
    assert [t["id"] for t in roster] == [trainer.id]
    assert client.get(f"/api/v1/trainers/{trainer.id}", headers=bearer(staff)).status_code == 200


def test_statistics_are_the_dashboard_s_tables(app, client, school):
    _ours, _theirs, people = school
    secret = token_for(people["coordinator"], TokenScope.READ)
    board = client.get("/api/v1/statistics", headers=bearer(secret)).get_json()
    assert board["period"] == {"start": "2026-09-01", "end": "2027-08-31"}
    assert {table["key"] for table in board["tables"]} >= {"mois"}
    reversed_period = client.get("/api/v1/statistics?date_from=2027-01-01&date_to=2026-01-01",
                                 headers=bearer(secret))
    assert reversed_period.status_code == 422 and reversed_period.get_json()["errors"][0]["field"] == "date_to"


def test_a_requester_reads_their_establishment(app, client, school):
    ours, _theirs, people = school
    body = client.get("/api/v1/establishment", headers=bearer(token_for(people["requester"]))).get_json()
    assert body["id"] == ours.id and body["confirmed"] is True
    alone = make_user(Role.REQUESTER)
    db.session.commit()
    assert client.get("/api/v1/establishment", headers=bearer(token_for(alone))).status_code == 404
    refused = client.post("/api/v1/requests", json=NEW_REQUEST, headers=bearer(token_for(alone)))
    assert refused.status_code == 409 and "Inscrivez d'abord votre établissement" in refused.get_json()["detail"]


def test_each_token_has_its_own_rate_limit(database_url, clock):
    from app import create_app
    from app.extensions import limiter
    from tests.helpers import empty_tables

    limited = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                                     "RELAIS_API_RATE_LIMIT": "3/minute"})
    with limited.app_context():
        limiter.reset()
        try:
            first, second = make_user(Role.REQUESTER), make_user(Role.REQUESTER)
            db.session.commit()
            one, two = token_for(first), token_for(second)
            client = limited.test_client()
            assert [client.get("/api/v1/sessions", headers=bearer(one)).status_code for _ in range(3)] == [200] * 3
            over = client.get("/api/v1/sessions", headers=bearer(one))
            assert over.status_code == 429 and over.content_type == "application/problem+json"
            assert int(over.headers["Retry-After"]) > 0
            assert client.get("/api/v1/sessions", headers=bearer(two)).status_code == 200
        finally:
            limiter.reset()
            db.session.rollback()
            empty_tables()
            db.session.remove()


def test_requests_saved_by_the_api_are_the_form_s(app, client, school):
    """One rule, two doors: a request the API saves is read back by the requester's page."""
    _ours, _theirs, people = school
    secret = token_for(people["requester"])
    made = client.post("/api/v1/requests", json={**NEW_REQUEST, "send": False}, headers=bearer(secret)).get_json()
    saved = db.session.get(InterventionRequest, made["id"])
    assert saved.status is RequestStatus.DRAFT and saved.created_by_id == people["requester"].id


def test_every_change_made_through_the_api_is_in_the_audit_trail_with_its_token(app, client, school):
    from app.models.audit import AuditEntry

    _ours, _theirs, people = school
    secret = token_for(people["requester"])
    token_id = db.session.scalar(select(AccessToken.id).where(AccessToken.user_id == people["requester"].id))
    before = db.session.scalar(select(func.max(AuditEntry.id))) or 0
    made = client.post("/api/v1/requests", json=NEW_REQUEST, headers=bearer(secret)).get_json()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.id > before,
                                                          AuditEntry.object_type == "intervention_request",
                                                          AuditEntry.object_id == str(made["id"]))).all()
    assert entries and {(e.token_id, e.author_id) for e in entries} == {(token_id, people["requester"].id)}


def test_every_read_through_the_api_is_in_the_audit_trail_with_its_token(app, client, school):
    from app.models.audit import AuditEntry

    ours, _theirs, people = school
    for _ in range(3):
        make_request(ours, people["requester"], status="submitted")
    db.session.commit()
    secret = token_for(people["coordinator"], TokenScope.READ)
    token_id = db.session.scalar(select(AccessToken.id).where(AccessToken.user_id == people["coordinator"].id))
    before = db.session.scalar(select(func.max(AuditEntry.id))) or 0
    client.get("/api/v1/requests?status=submitted", headers=bearer(secret))
    read = db.session.scalars(select(AuditEntry).where(AuditEntry.id > before, AuditEntry.action == "read")).all()
    assert [(e.object_type, e.token_id, e.author_id) for e in read] == [
        ("api:list_requests", token_id, people["coordinator"].id)]
    assert '"nombre":3' in read[0].changes and "status=submitted" in read[0].changes


def test_a_refusal_is_worded_in_english_with_accept_language(app, client, school):
    ours, _theirs, people = school
    planned = make_request(ours, people["requester"], status="in_planning")
    db.session.commit()
    secret = token_for(people["requester"])
    answer = request_anew(client, "PUT", f"/api/v1/requests/{planned.id}", json=NEW_REQUEST,
                          headers=bearer(secret, **{"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"}))
    assert answer.status_code == 409 and answer.headers["Content-Language"] == "en"
    assert answer.get_json()["detail"] == "This request has already been scheduled: it can no longer be changed."
    french = request_anew(client, "PUT", f"/api/v1/requests/{planned.id}", json=NEW_REQUEST, headers=bearer(secret))
    assert french.get_json()["detail"] == "Cette demande est déjà planifiée : elle ne peut plus être modifiée."
