"""Personal access tokens (issue #22): made on the account page, shown once, stored hashed, named, scoped, expiring,
revocable, their last use shown; and what the API makes of them."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.domain import access_tokens
from app.extensions import db
from app.models import AccessToken, Role, TokenScope
from tests.api.support import bearer, token_for
from tests.factories import make_establishment, make_user
from tests.helpers import login, post_form, request_anew, switch_to

SECRET = re.compile(r'id="nouveau-jeton"[^>]*>(relais_pat_[A-Za-z0-9_-]+)</textarea>')


def test_a_token_is_made_on_the_account_page_shown_once_and_stored_hashed(app, client, clock):
    person = make_user(Role.REQUESTER, establishment_id=make_establishment().id)
    db.session.commit()
    login(client, person)
    response = post_form(client, "/compte/jetons", {"name": "Tableur du CPE", "scope": "read", "days": "365"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    secret = SECRET.search(html)[1]
    assert "il ne sera plus jamais affiché" in html
    assert response.headers["Cache-Control"] == "no-store"
    token = db.session.scalar(select(AccessToken).where(AccessToken.user_id == person.id))
    assert token.name == "Tableur du CPE" and token.scope is TokenScope.READ
    assert token.token_hash == access_tokens.token_hash(secret) and secret not in (token.prefix, token.token_hash)
    assert secret.startswith(token.prefix) and len(token.prefix) < 20
    assert token.expires_at - token.created_at == timedelta(days=365)
    # The list shows its name, prefix, rights and « jamais » for its last use; never the secret again.
    listing = client.get("/compte/jetons").get_data(as_text=True)
    assert "Tableur du CPE" in listing and token.prefix in listing and secret not in listing
    assert "Lecture seule" in listing and "jamais" in listing
    # Used once: its last use appears.
    assert client.get("/api/v1/establishment", headers=bearer(secret)).status_code == 200
    assert "jamais" not in request_anew(client, "GET", "/compte/jetons").get_data(as_text=True)


def test_the_form_refuses_no_name_and_a_lifetime_past_the_maximum(app, client, clock):
    app.config["RELAIS_API_TOKEN_MAX_DAYS"] = 90
    person = make_user(Role.TRAINER)
    db.session.commit()
    login(client, person)
    html = post_form(client, "/compte/jetons", {"name": " ", "scope": "read", "days": "365"}).get_data(as_text=True)
    assert "Donnez un nom au jeton" in html and "Entre 1 et 90 jours." in html
    assert db.session.scalar(select(AccessToken)) is None
    assert access_tokens.DEFAULT_DAYS == 365


def test_a_revoked_token_opens_nothing_and_only_its_owner_revokes_it(app, client, clock):
    person, other = make_user(Role.REQUESTER), make_user(Role.REQUESTER)
    db.session.commit()
    secret = token_for(person)
    token = db.session.scalar(select(AccessToken))
    login(client, other)
    post_form(client, f"/compte/jetons/{token.id}/revoquer", {}, page="/compte/jetons")
    db.session.expire_all()
    assert token.revoked_at is None  # someone else's: nothing happens
    assert client.get("/api/v1/sessions", headers=bearer(secret)).status_code == 200
    switch_to(client, person)
    page = client.get("/compte/jetons").get_data(as_text=True)
    token_field = re.search(r'name="t\d+-csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" type="hidden" '
                            r'value="([^"]+)"', page)
    client.post(f"/compte/jetons/{token.id}/revoquer",
                data={f"t{token.id}-csrf_token": token_field[1] or token_field[2]})
    db.session.expire_all()
    assert token.revoked_at is not None
    assert "Révoqué" in client.get("/compte/jetons").get_data(as_text=True)
    assert client.get("/api/v1/sessions", headers=bearer(secret)).status_code == 401


def test_an_expired_token_or_a_deactivated_person_opens_nothing(app, client, clock):
    person = make_user(Role.REQUESTER)
    db.session.commit()
    secret = token_for(person, days=1)
    assert client.get("/api/v1/sessions", headers=bearer(secret)).status_code == 200
    clock.advance(timedelta(days=1, seconds=1))
    assert client.get("/api/v1/sessions", headers=bearer(secret)).status_code == 401
    other = make_user(Role.REQUESTER)
    db.session.commit()
    second = token_for(other)
    other.active = False
    db.session.commit()
    assert client.get("/api/v1/sessions", headers=bearer(second)).status_code == 401


def test_the_last_use_is_written_at_most_once_a_minute(app, client, clock):
    person = make_user(Role.REQUESTER)
    db.session.commit()
    secret = token_for(person)
    token = db.session.scalar(select(AccessToken))
    start = clock.now()
    client.get("/api/v1/sessions", headers=bearer(secret))
    db.session.expire_all()
    assert token.last_used_at == start
    clock.freeze(start + timedelta(seconds=30))
    client.get("/api/v1/sessions", headers=bearer(secret))
    db.session.expire_all()
    assert token.last_used_at == start
    clock.freeze(start + timedelta(seconds=61))
    client.get("/api/v1/sessions", headers=bearer(secret))
    db.session.expire_all()
    assert token.last_used_at == start + timedelta(seconds=61)


def test_a_token_is_never_written_to_the_log(app, client, clock, caplog):
    person = make_user(Role.REQUESTER)
    db.session.commit()
    secret = token_for(person)
    caplog.set_level("DEBUG")
    app.config["RELAIS_REQUEST_LOG"] = True
    client.get("/api/v1/sessions", headers=bearer(secret))
    client.get("/api/v1/sessions/999999", headers=bearer(secret))
    assert secret not in caplog.text
