"""The OpenAPI 3.1 document of the API (issue #22): generated from the code by flask-smorest, valid against the
OpenAPI 3.1 meta-schema, readable at /api/v1/docs, and a bounded property-based run over it (Schemathesis) as a
coordinator and as a requester finds no 5xx and no answer that breaks the document."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.extensions import db
from app.models import Force, Role, SessionReport, TokenScope
from tests.api.support import bearer, token_for
from tests.factories import (
    make_assigned_session,
    make_coordinator,
    make_establishment,
    make_request,
    make_trainer,
    make_user,
)

EXAMPLES = int(os.environ.get("RELAIS_API_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_document_is_openapi_3_1_and_valid(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI 3.1 meta-schema
    operations = [(path, method) for path, item in document["paths"].items() for method in item
                  if method in ("get", "post", "put")]
    assert len(operations) >= 16
    for path, method in operations:
        operation = document["paths"][path][method]
        assert operation.get("summary"), f"{method} {path} has no summary"
        assert "401" in operation["responses"] and "429" in operation["responses"]
    # French examples.
    request_body = document["components"]["schemas"]["RequestIn"]["properties"]
    assert request_body["contact_name"]["example"] == "Mme Martin"


def test_the_documentation_page_shows_every_operation_without_any_script_from_elsewhere(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Documentation de l'API" in html
    for path in document["paths"]:
        assert path in html
    assert 'id="probleme-request_not_editable"' in html and 'id="probleme-401"' in html
    # Nothing loaded from elsewhere: every script and style sheet is the app's own.
    assert not re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="(?:https?:)?//', html)


@pytest.fixture
def small_world(app, clock):
    """A requester with requests and a past session, a coordinator of their territory, a trainer: their tokens."""
    school = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=school.id)
    make_request(school, requester, status="submitted")
    make_request(school, requester, status="draft")
    trainer = make_trainer()
    past = make_assigned_session(trainer, clock.now() - timedelta(days=3), establishment=school)
    db.session.add(SessionReport(intervention_id=past.id, trainer_id=trainer.id, author_id=trainer.user_id,
                                 held=True, people_present=20, editable_until=clock.now() + timedelta(days=20)))
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    return {"requester": token_for(requester), "coordinator": token_for(coordinator, TokenScope.READ_WRITE),
            "trainer": token_for(trainer.user, TokenScope.READ)}


def test_a_bounded_property_based_run_finds_no_5xx_and_nothing_outside_the_document(app, client, small_world):
    document = client.get("/api/v1/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app  # calls go straight to the WSGI app
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16
    for secret in small_world.values():
        for operation in operations:
            _fuzz(app, operation, secret)


def _fuzz(app, operation, secret: str) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(headers=bearer(secret), checks=CHECKS, app=app)

    run()
