"""What people type reaches other people's mailboxes inert: every HTML e-mail escapes every free field, and its
links point only at RELAIS_BASE_URL (issue #17, point 1)."""

from __future__ import annotations

from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from app.emails import absolute_url, queue_templated_email, url_context
from app.extensions import db
from app.models import Assignment, AssignmentStatus, JoinRequest, OutgoingMessage, Role, WebhookSubscription
from tests.factories import (
    MONDAY_9,
    make_coordinator,
    make_establishment,
    make_qualified_trainer,
    make_session_in_planning,
    make_user,
)
from tests.security.helpers import HOSTILE

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "app" / "templates" / "email"

KINDS = {"request_notice": ["submitted", "accepted", "refused", "request_cancelled", "session_cancelled",
                            "session_confirmed", "withdrawn", "offer_filled", "offer_expired", "needs_attention"],
         "offer": ["offer", "assigned"], "calendar_invitation": ["new", "update", "cancel"]}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))


def e_mail_kinds() -> list[tuple[str, str | None]]:
    names = sorted(p.stem for p in TEMPLATES.glob("*.html") if not p.name.startswith("_"))
    return [(name, kind) for name in names for kind in KINDS.get(name, [None])]


@pytest.fixture
def hostile_world(app, clock):
    """Every free field of every object an e-mail shows holds markup, links and quotes."""
    establishment = make_establishment("69", name=HOSTILE, address=HOSTILE, commune_name=HOSTILE)
    intervention = make_session_in_planning(place=HOSTILE, room=HOSTILE, equipment=HOSTILE, notes=HOSTILE,
                                            contact_email="cpe@college.example")
    request = intervention.request
    request.contact_name, request.contact_phone = HOSTILE, "<b>04</b><img src=x>"
    request.establishment = establishment
    request.created_by.full_name = HOSTILE
    intervention.starts_at, intervention.ends_at = MONDAY_9, MONDAY_9 + timedelta(hours=1)
    trainer = make_qualified_trainer()
    trainer.user.full_name, trainer.rank = HOSTILE, "<b>Major</b><img src=x>"
    assignment = Assignment(intervention_id=intervention.id, trainer_id=trainer.id, status=AssignmentStatus.OFFERED,
                            expires_at=MONDAY_9 - timedelta(days=1), distance_km=12)
    newcomer = make_user(Role.REQUESTER, full_name=HOSTILE)
    join_request = JoinRequest(establishment_id=establishment.id, user_id=newcomer.id, message=HOSTILE)
    db.session.add_all([assignment, join_request])
    db.session.flush()
    someone = make_user(full_name=HOSTILE)
    return {"request": request, "intervention": intervention, "assignment": assignment, "trainer": trainer,
            "join_request": join_request, "establishment": establishment, "inviter": someone, "member": someone,
            "user": someone, "requested_by": someone, "new_email": "nouvelle.adresse@exemple.fr",
            "needs_password": True, "establishment_name": HOSTILE, "confirmed": False,
            "recipient": make_coordinator("69", full_name=HOSTILE),
            # a webhook subscription paused after failures (#22): its address is the subscriber's text
            "subscription": WebhookSubscription(url="https://exemple.fr/" + HOSTILE, events=""), "failures": 10,
            # a correction request from « Mes données » and the warning of an unused account (#21, RGPD)
            "person": someone, "message": HOSTILE, "last_activity": MONDAY_9, "deactivation_on": MONDAY_9}


def render(app, world: dict, template: str, kind: str | None) -> str:
    """The HTML part of one e-mail, queued as the app queues it, every free field hostile."""
    world = dict(world)
    recipient = world.pop("recipient")
    with url_context():
        message = queue_templated_email(
            recipient, template, "Sujet", kind=kind, reason=HOSTILE, days=7, hours=24, valid_until=date(2027, 1, 31),
            for_coordinator=True, counts={"unstaffed": 2, "flagged": 1, "expiring": 1, "lapsing": 0},
            link=absolute_url("main.home"), **world)
    return message.body_html


@pytest.mark.rolled_back
@pytest.mark.parametrize(("template", "kind"), e_mail_kinds())
def test_every_e_mail_escapes_what_people_typed(app, hostile_world, template, kind):
    html = render(app, hostile_world, template, kind)
    parser = Tags()
    parser.feed(html)
    tags = {tag for tag, _ in parser.tags}
    assert not tags & {"img", "script", "iframe", "form"}, f"{template}: live markup {tags}"
    base = app.config["RELAIS_BASE_URL"].rstrip("/") + "/"
    for tag, attributes in parser.tags:
        assert all("evil.example" not in (value or "") for value in attributes.values()), (template, tag, attributes)
        assert "onmouseover" not in attributes, (template, tag)
        if tag == "a":
            assert attributes["href"].startswith(base), f"{template}: a link outside {base}: {attributes['href']}"


@pytest.mark.rolled_back
def test_the_hostile_text_does_reach_the_e_mails(app, hostile_world):
    """The test above is worth something only if the e-mails show the free fields: nearly all of them do."""
    showing = {template for template, kind in e_mail_kinds()
               if "&lt;a href=" in render(app, hostile_world, template, kind)}
    assert len(showing) >= len({name for name, _ in e_mail_kinds()}) - 4, sorted(showing)


def test_no_html_e_mail_includes_a_text_template_nor_builds_its_own_links():
    """The mechanism: a .txt part goes into HTML through text_block (escaped); links come from `link` or
    absolute_url (RELAIS_BASE_URL), never from url_for (the host of whatever request is being served)."""
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert '.txt" %}' not in text, f"{path.name} includes a text template: use text_block()"
    for path in TEMPLATES.glob("*"):
        assert "url_for(" not in path.read_text(encoding="utf-8"), f"{path.name} builds a link with url_for"


def test_links_in_e_mails_ignore_the_host_a_request_came_with(app, client):
    """A reset requested through a forged Host header still links to RELAIS_BASE_URL."""
    from tests.helpers import csrf_token_from

    user = make_user(email="agent@college.example")
    db.session.commit()
    page = client.get("/compte/mot-de-passe-oublie", headers={"Host": "evil.example"}).get_data(as_text=True)
    client.post("/compte/mot-de-passe-oublie", data={"email": user.email, "csrf_token": csrf_token_from(page)},
                headers={"Host": "evil.example"})
    message = db.session.scalar(select(OutgoingMessage).where(OutgoingMessage.recipient == user.email))
    assert message is not None and "evil.example" not in message.body_html + message.body_text
    assert app.config["RELAIS_BASE_URL"] in message.body_text
