"""One fault does not stop the periodic jobs: a territory the autopilot cannot plan leaves the others planned, a job
that fails leaves the next ones run, and `flask tick` ends with status 1 so that cron and the monitoring see it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select

import app.jobs as jobs
from app.domain.autopilot import set_mode
from app.extensions import db
from app.models import Assignment, AutopilotMode, Force
from tests.factories import make_coordinator, make_establishment, make_qualified_trainer, make_request


def _two_automatic_scopes():
    """The Rhône's police and gendarmerie on « automatique », a session and a trainer in each."""
    when = datetime(2026, 11, 30, tzinfo=UTC)
    for force in (Force.POLICE, Force.GENDARMERIE):
        make_qualified_trainer(force=force)
        make_request(make_establishment("69", force=force), status="in_planning", group_count=1)
        set_mode(db.session, "69", force, AutopilotMode.AUTOMATIC, make_coordinator("69", force), when)
    db.session.commit()


def test_a_scope_that_fails_leaves_the_others_planned_and_tick_says_so(app, clock, runner, monkeypatch, caplog):
    _two_automatic_scopes()
    real_plan_scope = jobs.plan_scope

    def plan_scope(session, scope, now, settings, changes):
        if Force(scope[1]) is Force.POLICE:
            raise RuntimeError("panne simulée")
        return real_plan_scope(session, scope, now, settings, changes)

    monkeypatch.setattr(jobs, "plan_scope", plan_scope)
    ran_after = []
    monkeypatch.setitem(jobs.JOBS, "apres", lambda session, now: ran_after.append(now) or 1)
    with caplog.at_level(logging.ERROR, logger="app.jobs"):
        result = runner.invoke(args=["tick"])
    assert result.exit_code == 1, result.output
    assert "autopilote: échec" in result.output and "apres: 1" in result.output
    assert ran_after, "the jobs after the failed one ran"
    assert any("Autopilot: planning 69" in record.getMessage() for record in caplog.records)
    db.session.expire_all()
    offered = set(db.session.scalars(select(Assignment.intervention_id)))
    assert len(offered) == 1, "the gendarmerie's session was offered all the same"


def test_tick_ends_well_when_every_job_does(app, clock, runner):
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "échec" not in result.output
