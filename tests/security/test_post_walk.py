"""Every POST action with every role, the way an attacker would try it (issue #17, "a security suite"):
- with the attacker's own valid CSRF token and the ids of another territory's objects, nothing changes;
- without a CSRF token, every POST is refused and nothing changes, whoever asks and whatever the ids."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from app.models import Role
from tests.helpers import SKIPPED_ENDPOINTS, csrf_token_from, login
from tests.security.helpers import World, snapshot

START = "2027-01-11T08:00:00+00:00"


def post_rules(app):
    for rule in app.url_map.iter_rules():
        # The API (/api/v1) takes a bearer token, never the cookies, so no CSRF token either: tests/api walks it.
        if rule.endpoint not in SKIPPED_ENDPOINTS and "POST" in rule.methods and not rule.rule.startswith("/api/"):
            yield rule


def int_arguments(rule) -> list[str]:
    return [name for name in rule.arguments if isinstance(rule._converters[name], IntegerConverter)]


def url_for_rule(rule, ids: dict[str, int]) -> str:
    unknown = set(int_arguments(rule)) - set(ids)
    assert not unknown, f"{rule.rule}: the security world has no object for {unknown} (tests/security/conftest.py)"
    values = {name: ids[name] if name in ids else "fr" for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def form_for(ids: dict[str, int], token: str | None) -> dict[str, str]:
    """What a filled-in form of any action holds, for any of these ids (offers and decisions are prefixed)."""
    data = {"reason": "Pour voir", "day": "2027-03-01", "start": "10:00", "force": "gendarmerie",
            "satisfaction": "5", "comment": "Très bien", "held": "oui", "people_present": "25", "topics": "cannabis",
            "email": "tiers@exemple.fr", "full_name": "Tiers", "submit": "1"}
    for value in ids.values():
        data |= {f"a{value}-submit": "1", f"d{value}-reason": "Pour voir", f"c{value}-starts_at": START,
                 f"c{value}-offer": "1", f"e{value}-reason": "Pour voir"}
    if token:
        data["csrf_token"] = token
    return data


@pytest.mark.parametrize("role", [Role.REQUESTER, Role.TRAINER, Role.COORDINATOR])
def test_another_territory_s_objects_cannot_be_changed_with_a_valid_token(app, client, world: World, role):
    login(client, world.people[role])
    token = csrf_token_from(client.get("/accueil").get_data(as_text=True))
    before = snapshot()
    tried = 0
    for rule in post_rules(app):
        if not int_arguments(rule):
            continue  # actions on one's own things (a feed address, the language): not another's
        url = url_for_rule(rule, world.theirs)
        response = client.post(url, data=form_for(world.theirs, token))
        assert response.status_code < 500, f"{role} POST {url}: {response.status_code}"
        assert "/compte/connexion" not in response.headers.get("Location", ""), f"{role} logged out at {url}"
        tried += 1
    assert tried > 20
    after = snapshot()
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"{role} changed {changed} through another territory's ids"


@pytest.mark.parametrize("role", [None, Role.REQUESTER, Role.TRAINER, Role.COORDINATOR, Role.ADMIN])
def test_every_post_without_a_csrf_token_is_refused(app, client, world: World, role):
    if role is not None:
        login(client, world.people[role])
    before = snapshot()
    for rule in post_rules(app):
        url = url_for_rule(rule, world.ours)
        response = client.post(url, data=form_for(world.ours, token=None))
        assert response.status_code == 400, f"{role} POST {url} without a token: {response.status_code}"
        assert "Le formulaire a expiré" in response.get_data(as_text=True)
        forged = client.post(url, data=form_for(world.ours, token="jeton-invente"))
        assert forged.status_code == 400, f"{role} POST {url} with a forged token: {forged.status_code}"
    assert snapshot() == before
