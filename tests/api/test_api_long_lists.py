"""The API's lists stay fast as they grow (#18, #22): a page by key, the same SQL statements with five rows or two
hundred, like the pages (tests/web/test_long_lists.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Assignment, AssignmentStatus, Force, InterventionStatus, Role, SessionReport, TokenScope
from tests.api.support import bearer, token_for
from tests.factories import (
    MONDAY_9,
    make_assigned_session,
    make_coordinator,
    make_establishment,
    make_request,
    make_trainer,
    make_user,
)
from tests.helpers import count_queries


def statements(client, url: str, secret: str) -> int:
    assert client.get(url, headers=bearer(secret)).status_code == 200  # the token's last use noted
    db.session.expire_all()
    with count_queries() as sent:
        response = client.get(url, headers=bearer(secret))
    assert response.status_code == 200
    return len(sent)


def build(count: int, clock) -> dict[str, str]:
    """`count` rows in each list: requests, sessions, a trainer's offers, trainers, reports; the tokens reading them."""
    school = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=school.id)
    for _ in range(count):
        make_request(school, requester, status="submitted")
    planned = make_request(school, requester, status="in_planning", group_count=count)
    trainer = make_trainer()
    for number, intervention in enumerate(planned.interventions):
        start = MONDAY_9 + timedelta(days=number)
        intervention.starts_at, intervention.ends_at = start, start + timedelta(hours=1)
        intervention.status = InterventionStatus.OFFERED
        db.session.add(Assignment(intervention_id=intervention.id, trainer_id=trainer.id,
                                  status=AssignmentStatus.OFFERED, offered_at=clock.now(),
                                  expires_at=clock.now() + timedelta(days=3)))
    for _ in range(count - 1):
        make_trainer()
    for number in range(count):
        given = make_assigned_session(trainer, clock.now() - timedelta(days=number + 1), establishment=school)
        db.session.add(SessionReport(intervention_id=given.id, trainer_id=trainer.id, author_id=trainer.user_id,
                                     held=True, people_present=20, editable_until=clock.now()))
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    return {"requester": token_for(requester, TokenScope.READ), "trainer": token_for(trainer.user, TokenScope.READ),
            "coordinator": token_for(coordinator, TokenScope.READ)}


LISTS = [("requester", "/api/v1/requests"), ("requester", "/api/v1/sessions"), ("trainer", "/api/v1/offers"),
         ("trainer", "/api/v1/sessions"), ("coordinator", "/api/v1/requests"), ("coordinator", "/api/v1/sessions"),
         ("coordinator", "/api/v1/trainers"), ("coordinator", "/api/v1/reports")]


@pytest.fixture
def counted(app, client, clock):
    def count(rows: int) -> dict[tuple[str, str], tuple[int, int]]:
        tokens = build(rows, clock)
        found = {}
        for who, url in LISTS:
            items = client.get(url, headers=bearer(tokens[who])).get_json()["items"]
            found[(who, url)] = (statements(client, url, tokens[who]), len(items))
        return found

    return count


def test_every_api_list_sends_the_same_statements_with_5_rows_or_200(app, client, clock, counted):
    few = counted(5)
    from tests.helpers import empty_tables

    empty_tables()
    many = counted(200)
    for key in few:
        assert few[key][1] >= 5 and many[key][1] == 50, (key, few[key], many[key])
        assert few[key][0] == many[key][0], f"{key}: {few[key][0]} statements with 5 rows, {many[key][0]} with 200"
