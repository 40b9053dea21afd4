"""Walks every route with every role: each view declares who may use it, and the others are refused."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from app.extensions import db
from app.models import Role
from tests.factories import make_coordinator, make_establishment, make_trainer, make_user
from tests.helpers import login, view_roles


def _url_for_rule(rule) -> str:
    values = {}
    for argument in rule.arguments:
        values[argument] = 999999 if isinstance(rule._converters[argument], IntegerConverter) else "inexistant"
    return rule.build(values, append_unknown=False)[1]


def test_every_view_declares_its_roles(app):
    declared = view_roles(app)
    assert "main.home" in declared and "auth.login" in declared


@pytest.fixture
def people(app):
    establishment = make_establishment()
    users = {
        Role.REQUESTER: make_user(Role.REQUESTER, establishment_id=establishment.id),
        Role.TRAINER: make_trainer().user,
        Role.COORDINATOR: make_coordinator("69"),
        Role.ADMIN: make_user(Role.ADMIN),
    }
    db.session.commit()
    return users


@pytest.mark.parametrize("role", list(Role))
def test_roles_outside_a_view_are_refused(app, client, people, role):
    app.config["WTF_CSRF_ENABLED"] = False  # reach the access check of POST views too
    login(client, people[role])
    checked = 0
    for endpoint, (rule, allowed) in view_roles(app).items():
        if allowed is None or role in allowed:
            continue
        if rule.rule.startswith("/api/"):
            continue  # the API takes a token, never the cookies: tests/api/test_api_access.py walks it by token
        url = _url_for_rule(rule)
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method)
        assert response.status_code == 403, f"{role} got {response.status_code} on {method} {url} ({endpoint})"
        checked += 1
    if role is not Role.ADMIN:
        assert checked > 0


def test_anonymous_visitors_are_sent_to_log_in(app, client):
    app.config["WTF_CSRF_ENABLED"] = False
    for rule, allowed in view_roles(app).values():
        if allowed is None or rule.rule.startswith("/api/"):
            continue  # the API answers 401 without its token: tests/api/test_api_access.py
        url = _url_for_rule(rule)
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method)
        assert response.status_code in (302, 401), f"anonymous got {response.status_code} on {url}"
        if response.status_code == 302:
            assert "/compte/connexion" in response.headers["Location"]
