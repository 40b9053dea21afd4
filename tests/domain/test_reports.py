"""Reports are complete or refused: the statistics never count a report that says nothing (issue #18)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from app.domain import reports
from app.domain.policies import REQUESTS, SESSIONS, TRAINERS
from app.domain.refusals import Refused
from app.domain.statistics import Period, build_dashboard
from app.extensions import db
from app.models import InterventionStatus, ReportCorrection, SessionReport
from tests.factories import make_confirmed_session

INCOMPLETE = [
    reports.ReportData(held=None),
    reports.ReportData(held=True, topic_codes=("cannabis",)),
    reports.ReportData(held=True, people_present=0),
    reports.ReportData(held=False, not_held_reason="Neige"),
    reports.ReportData(held=False, not_held_code="None"),
]


def summary(coordinator) -> dict:
    return build_dashboard(db.session, session_scope=SESSIONS.rows(coordinator),
                           request_scope=REQUESTS.rows(coordinator), trainer_scope=TRAINERS.rows(coordinator),
                           period=Period(date(2027, 1, 1), date(2027, 1, 31))).summary


@pytest.mark.parametrize("data", INCOMPLETE, ids=str)
def test_an_incomplete_report_is_refused_and_nothing_is_written(app, clock, data):
    intervention, trainer, coordinator = make_confirmed_session()
    clock.freeze(intervention.ends_at + timedelta(hours=1))
    with pytest.raises(Refused, match="report_incomplete"):
        reports.save_report(db.session, intervention, trainer, data, trainer.user, clock.now())
    assert db.session.scalar(select(func.count(SessionReport.id))) == 0
    assert intervention.status is InterventionStatus.CONFIRMED
    assert (summary(coordinator)["not_held"], summary(coordinator)["given"]) == (0, 0)


def test_a_complete_report_counts(app, clock):
    intervention, trainer, coordinator = make_confirmed_session()
    clock.freeze(intervention.ends_at + timedelta(hours=1))
    reports.save_report(db.session, intervention, trainer,
                        reports.ReportData(held=False, not_held_code="audience_absent"), trainer.user, clock.now())
    assert summary(coordinator)["not_held"] == 1


def test_the_database_refuses_an_incomplete_report(app, clock):
    intervention, trainer, _ = make_confirmed_session()
    for values in (dict(held=False), dict(held=True)):
        with pytest.raises(IntegrityError) as refused:
            db.session.execute(insert(SessionReport).values(
                intervention_id=intervention.id, trainer_id=trainer.id, author_id=trainer.user_id,
                editable_until=clock.now(), **values))
        assert "ck_session_report_complete" in str(refused.value)
        db.session.rollback()


def test_a_correction_keeps_who_changed_what_and_when(app, clock):
    intervention, trainer, coordinator = make_confirmed_session()
    clock.freeze(intervention.ends_at + timedelta(hours=1))
    report = reports.save_report(db.session, intervention, trainer,
                                 reports.ReportData(held=True, people_present=20, topic_codes=("cannabis",)),
                                 trainer.user, clock.now())
    assert report.corrections == [], "filing is not a correction"
    clock.advance(timedelta(days=40))
    reports.correct_report(db.session, report, reports.ReportData(
        held=False, not_held_code="premises_closed", not_held_reason="Neige", topic_codes=("cannabis",)),
        coordinator, clock.now())
    changes = {c.field: (c.old_value, c.new_value, c.actor_id, c.at) for c in db.session.scalars(
        select(ReportCorrection))}
    assert changes == {
        "held": ("True", "False", coordinator.id, clock.now()),
        "people_present": ("20", None, coordinator.id, clock.now()),
        "not_held_code": (None, "premises_closed", coordinator.id, clock.now()),
        "not_held_reason": (None, "Neige", coordinator.id, clock.now()),
    }
    assert (intervention.status, intervention.people_reached) == (InterventionStatus.NOT_HELD, None)
    reports.correct_report(db.session, report, reports.ReportData(
        held=False, not_held_code="premises_closed", not_held_reason="Neige", topic_codes=("cannabis",)),
        coordinator, clock.now())
    assert db.session.scalar(select(func.count(ReportCorrection.id))) == 4, "no change, no line"
