"""With the demo data loaded, every page a role may open renders (no error, real content)."""

from __future__ import annotations

import re

import pytest

from app.domain.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import User
from tests.factories import load_demo_data
from tests.helpers import login, post_form, view_roles

DEMO_ACCOUNTS = ["admin@relais.demo", "coordination.police.69@relais.demo", "formateur.pfad@relais.demo",
                 "principal.college@relais.demo"]


@pytest.mark.parametrize("email", DEMO_ACCOUNTS)
def test_every_parameterless_page_renders_for_demo_accounts(app, client, clock, email):
    load_demo_data(seed=2026, today=clock.now().date())
    user = User.by_email(email)
    login(client, user, DEMO_PASSWORD)
    opened = 0
    for rule, allowed in view_roles(app).values():
        if rule.arguments or "GET" not in rule.methods or rule.rule.startswith("/api/v1/") and allowed is not None:
            continue  # the API takes a token, never the cookies: tests/api/test_demo_token.py reads it with one
        if allowed is not None and user.role not in allowed:
            continue
        response = client.get(rule.rule)
        assert response.status_code in (200, 302), f"{email}: {rule.rule} answered {response.status_code}"
        # The Content-Security-Policy forbids inline scripts: no page may need one.
        assert not re.search(r"<script(?![^>]*\bsrc=)", response.get_data(as_text=True)), rule.rule
        opened += 1
    assert opened >= 3


def test_the_demo_has_messages_in_every_state_and_a_join_request_for_the_coordination(app, client, clock):
    from html import unescape

    from sqlalchemy import func, select

    from app.models import MessageStatus, OutgoingMessage

    load_demo_data(seed=2026, today=clock.now().date())
    states = dict(db.session.execute(select(OutgoingMessage.status, func.count(OutgoingMessage.id))
                                     .group_by(OutgoingMessage.status)).all())
    assert states[MessageStatus.SENT] > 10 and states[MessageStatus.PENDING] == 3 and states[MessageStatus.FAILED] == 1
    subjects = set(db.session.scalars(select(OutgoingMessage.subject)))
    assert {"[Relais] Votre avis sur l'intervention", "[Relais] Relais : votre synthèse de la semaine"} <= subjects
    login(client, User.by_email("admin@relais.demo"), DEMO_PASSWORD)
    page = unescape(client.get("/admin/messages?statut=failed").get_data(as_text=True))
    assert "Recipient address rejected" in page and "/renvoyer" in page
    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    login(client, User.by_email("coordination.police.69@relais.demo"), DEMO_PASSWORD)
    home = unescape(client.get("/accueil").get_data(as_text=True))
    assert "1 demande de rattachement à un établissement sans membre actif attend votre décision." in home
    joins = unescape(client.get("/coordination/rattachements").get_data(as_text=True))
    assert "Nouvelle CPE depuis la rentrée" in joins
