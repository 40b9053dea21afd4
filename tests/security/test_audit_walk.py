"""The audit trail records every write path (#21): every POST route, with every role and the ids of its own side,
with a valid token; whenever an audited table changed, entries appeared with the person as author and the
client's address. Routes that write only unaudited tables are listed with the reason."""

from __future__ import annotations

from sqlalchemy import func, select

from app.domain.audit import UNAUDITED_TABLES
from app.extensions import db
from app.models import AuditEntry, Role
from tests.helpers import csrf_token_from, login
from tests.security.helpers import World, snapshot
from tests.security.test_post_walk import form_for, post_rules, url_for_rule

ADDRESS = "198.51.100.23"
# Routes whose success writes only tables the trail leaves out (app.domain.audit.UNAUDITED_TABLES), and why.
UNAUDITED_ROUTES = {
    "auth.forgot_password": "writes only the e-mail with the reset link (outgoing_message, a queue); the reset itself "
                            "changes the account and is audited",
    "admin.retry": "puts a failed e-mail back in the queue (outgoing_message, a queue)",
}


def audited_rows(rows: dict[str, list]) -> dict[str, list]:
    return {name: value for name, value in rows.items() if name not in UNAUDITED_TABLES}


def last_entry_id() -> int:
    return db.session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))


def log_out(client) -> None:
    page = client.get("/accueil")
    if page.status_code == 200:
        client.post("/compte/deconnexion", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})


def test_every_post_that_changes_an_audited_table_leaves_entries_with_its_author_and_address(app, client,
                                                                                            world: World):
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    recorded, unaudited = set(), {}
    for role in (Role.REQUESTER, Role.TRAINER, Role.COORDINATOR, Role.ADMIN):
        person = world.people[role]
        log_out(client)
        login(client, person)
        token = csrf_token_from(client.get("/accueil").get_data(as_text=True))
        for rule in post_rules(app):
            url = url_for_rule(rule, world.ours)
            before, since = snapshot(), last_entry_id()
            response = client.post(url, data=form_for(world.ours, token))
            after = snapshot()
            # The statistics' revision is raised by any flush, even of a form saved unchanged: not a change.
            changed = [name for name in before if before[name] != after[name] and name != "statistics_revision"]
            audited = [name for name in changed if name not in UNAUDITED_TABLES]
            new = db.session.scalars(select(AuditEntry).where(AuditEntry.id > since)).all()
            if audited:
                assert response.status_code < 400, f"{role} POST {url} changed {audited} yet answered an error"
                assert new, f"{role} POST {url} changed {audited} without an audit entry"
                assert {(e.author_id, e.address) for e in new} == {(person.id, ADDRESS)}, \
                    f"{role} POST {url}: {[(e.author_id, e.author_name, e.address) for e in new]}"
                types = {e.object_type for e in new}
                assert set(audited) <= types | {"request_topic", "request_audience", "report_topic"}, \
                    f"{role} POST {url}: changed {audited}, recorded {types}"
                recorded.add(rule.endpoint)
            elif changed:
                unaudited[rule.endpoint] = changed
            if client.get("/accueil").status_code != 200:
                login(client, person)  # logged out by the action (log-out, a log-in session ended)
                token = csrf_token_from(client.get("/accueil").get_data(as_text=True))
    assert len(recorded) >= 10, sorted(recorded)  # what the generic form of the walk manages to change
    unexplained = set(unaudited) - set(UNAUDITED_ROUTES)
    assert not unexplained, {name: unaudited[name] for name in unexplained}
