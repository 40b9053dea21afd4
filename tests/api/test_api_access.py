"""The route × role walk of the API (issue #22), as tests/web/test_access_audit.py walks the pages: each role's
token is refused (403) every action its role may not perform, everyone is refused without a token (401), a
read-only token is refused every write, and a logged-in browser's cookies open nothing."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from app.extensions import db
from app.models import Role, TokenScope
from tests.api.support import bearer, token_for
from tests.factories import make_coordinator, make_establishment, make_trainer, make_user
from tests.helpers import login


def api_rules(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.rule.startswith("/api/v1/") and getattr(view, "permission", None):
            yield rule, view


def url_of(rule) -> str:
    values = {name: 999999 if isinstance(rule._converters[name], IntegerConverter) else "inexistant"
              for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def method_of(rule) -> str:
    return next(m for m in ("POST", "PUT", "GET") if m in rule.methods)


@pytest.fixture
def people(app):
    establishment = make_establishment()
    users = {Role.REQUESTER: make_user(Role.REQUESTER, establishment_id=establishment.id),
             Role.TRAINER: make_trainer().user, Role.COORDINATOR: make_coordinator("69"),
             Role.ADMIN: make_user(Role.ADMIN)}
    db.session.commit()
    return users


def test_the_api_has_its_endpoints_and_each_declares_its_action(app):
    declared = {rule.rule: view.permission for rule, view in api_rules(app)}
    for resource in ("establishment", "requests", "sessions", "offers", "trainers", "reports", "statistics"):
        assert any(path.startswith(f"/api/v1/{resource}") for path in declared), resource
    assert len(declared) >= 15


@pytest.mark.parametrize("role", list(Role))
def test_each_role_s_token_is_refused_outside_its_actions(app, client, people, role):
    secret = token_for(people[role])
    refused = allowed = 0
    for rule, view in api_rules(app):
        response = client.open(url_of(rule), method=method_of(rule), headers=bearer(secret), json={})
        if role in view.allowed_roles:
            # Allowed: the object does not exist (404), or the body is not valid (422), never a refusal by role.
            assert response.status_code in (200, 404, 409, 422), f"{role} {rule.rule}: {response.status_code}"
            allowed += 1
        else:
            assert response.status_code == 403, f"{role} got {response.status_code} on {rule.rule}"
            assert response.content_type == "application/problem+json"
            refused += 1
    assert allowed > 0
    if role is not Role.ADMIN:
        assert refused > 0


@pytest.mark.parametrize("role", list(Role))
def test_a_read_only_token_is_refused_every_write(app, client, people, role):
    secret = token_for(people[role], TokenScope.READ)
    for rule, view in api_rules(app):
        if role in view.allowed_roles and view.api_write:
            response = client.open(url_of(rule), method=method_of(rule), headers=bearer(secret), json={})
            assert response.status_code == 403, f"{role} wrote through {rule.rule} with a read-only token"
            assert "lecture seule" in response.get_json()["detail"]


def test_without_a_valid_token_everything_is_401_and_cookies_open_nothing(app, client, people):
    login(client, people[Role.ADMIN])  # a browser logged in: its cookies go with every call
    for rule, _view in api_rules(app):
        for headers in ({}, bearer("relais_pat_invente"), {"Authorization": "Basic YWRtaW46YWRtaW4="}):
            response = client.open(url_of(rule), method=method_of(rule), headers=headers, json={})
            assert response.status_code == 401, f"{rule.rule} with {headers}: {response.status_code}"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert response.get_json()["status"] == 401


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30])
def test_ids_beyond_any_table_are_not_found(app, client, people, huge):
    secret = token_for(people[Role.ADMIN])
    for rule, _view in api_rules(app):
        if not any(isinstance(rule._converters[name], IntegerConverter) for name in rule.arguments):
            continue
        values = {name: huge for name in rule.arguments}
        response = client.open(rule.build(values, append_unknown=False)[1], method=method_of(rule),
                               headers=bearer(secret), json={})
        # 405: Werkzeug's router finds the path under another method before the converter refuses the id.
        assert response.status_code in (403, 404, 405), f"{rule.rule} with {huge}: {response.status_code}"
        assert response.status_code == 404 or method_of(rule) != "GET"
