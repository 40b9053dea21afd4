"""Production concerns seen from HTTP: health check, security headers, one log line per request."""

from __future__ import annotations

import json
import logging

from app import create_app
from app.extensions import db
from tests.factories import make_user
from tests.helpers import login


def test_healthz_says_whether_the_database_answers(app, client, tmp_path):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}
    broken = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/absent/relais.sqlite3"})
    answer = broken.test_client().get("/healthz")
    assert answer.status_code == 503 and answer.json["database"] == "injoignable"


def test_a_favicon_and_no_404_for_the_one_browsers_ask_for(app, client):
    page = client.get("/compte/connexion").get_data(as_text=True)
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in page
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 200 and legacy.mimetype == "image/svg+xml" and b"<svg" in legacy.data
    icon = client.get("/static/img/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data


def test_security_headers_and_hsts_only_over_https(app, client):
    response = client.get("/compte/connexion")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get("/compte/connexion", base_url="https://relais.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_one_log_line_per_request_without_personal_data(app, client, caplog):
    user = make_user()
    db.session.commit()
    login(client, user)
    caplog.set_level(logging.INFO, logger="relais.requests")
    client.get("/accueil")
    client.get("/calendrier/flux/un-jeton-secret.ics")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "relais.requests"]
    home, feed = lines[-2], lines[-1]
    assert home["route"] == "/accueil" and home["status"] == 200 and home["user_id"] == user.id
    assert home["duration_ms"] >= 0
    assert feed["route"] == "/calendrier/flux/<token>.ics" and feed["status"] == 404
    assert "un-jeton-secret" not in caplog.text and user.email not in caplog.text
