"""The demo shows the coordination a request with one session cancelled alone, the others going on."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import InterventionRequest, InterventionStatus, RequestEvent, RequestStatus, Role
from tests.factories import build_demo


@pytest.mark.parametrize("seed", [7, 2026])
def test_a_request_has_one_session_cancelled_by_the_coordination_and_the_others_confirmed(app, seed):
    build_demo(seed, date(2026, 11, 30))
    [event] = db.session.scalars(select(RequestEvent).where(RequestEvent.kind == "session_cancelled",
                                                            RequestEvent.note.contains("voyage scolaire"))).all()
    request = db.session.get(InterventionRequest, event.request_id)
    assert event.actor.role is Role.COORDINATOR and request.departement_code == "69"
    statuses = sorted(session.status.value for session in request.interventions)
    assert statuses.count("cancelled") == 1 and len(statuses) >= 2
    assert set(statuses) == {InterventionStatus.CANCELLED.value, InterventionStatus.CONFIRMED.value}
    assert request.status is RequestStatus.CONFIRMED
