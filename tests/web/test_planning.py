"""Planning a period in the browser (preview, then send) and from the command line."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Assignment, AssignmentStatus, Force, Intervention, InterventionStatus
from tests.factories import make_coordinator, make_qualified_trainer, make_session_in_planning
from tests.helpers import login

PERIOD = {"date_from": "2027-01-11", "date_to": "2027-01-15", "departement": "69", "force": ""}


def _setup(sessions: int = 2, trainers: int = 1):
    made = [make_session_in_planning() for _ in range(sessions)]
    people = [make_qualified_trainer(unit_km=5 * (i + 1)) for i in range(trainers)]
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    return made, people, coordinator


def _hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)


def test_preview_shows_the_figures_and_sending_makes_the_offers(app, client, clock):
    sessions, [trainer], coordinator = _setup()
    login(client, coordinator)
    page = client.get("/planification/", query_string=PERIOD)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Aperçu du plan" in html
    assert re.search(r"Interventions servies</th><td>2</td>", html), "one trainer, two mornings: both served"
    assert trainer.full_name in html and "Charge par formateur" in html
    assert "Plan optimal (prouvé)" in html
    assert db.session.scalar(select(func.count(Assignment.id))) == 0, "a preview sends nothing"
    form = {name: _hidden(html, name) for name in ("csrf_token", "date_from", "date_to", "departement", "force",
                                                   "fingerprint")}
    sent = client.post("/planification/envoyer", data=form)
    assert sent.status_code == 302
    statuses = db.session.scalars(select(Assignment.status)).all()
    assert statuses == [AssignmentStatus.OFFERED, AssignmentStatus.OFFERED]
    db.session.expire_all()
    assert {s.status for s in db.session.scalars(select(Intervention))} == {InterventionStatus.OFFERED}


def test_a_plan_that_changed_since_the_preview_is_shown_again_not_sent(app, client, clock):
    sessions, [trainer], coordinator = _setup(sessions=1)
    login(client, coordinator)
    html = client.get("/planification/", query_string=PERIOD).get_data(as_text=True)
    form = {name: _hidden(html, name) for name in ("csrf_token", "date_from", "date_to", "departement", "force",
                                                   "fingerprint")}
    make_session_in_planning()  # a new accepted request arrives meanwhile
    make_qualified_trainer(unit_km=1)
    db.session.commit()
    again = client.post("/planification/envoyer", data=form)
    assert again.status_code == 409 and "Le plan a changé depuis l" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Assignment.id))) == 0


def test_bad_period_and_foreign_departement_are_refused(app, client, clock):
    _setup(sessions=0)
    coordinator = make_coordinator("13", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    backwards = client.get("/planification/", query_string={**PERIOD, "departement": "13",
                                                            "date_to": "2027-01-01"})
    assert backwards.status_code == 400 and "La fin doit suivre le début." in backwards.get_data(as_text=True)
    foreign = client.get("/planification/", query_string=PERIOD)
    assert foreign.status_code == 400 and "est pas un choix valide" in foreign.get_data(as_text=True)
    assert client.get("/planification/", query_string={**PERIOD, "departement": "13",
                                                       "force": "gendarmerie"}).status_code == 404


def test_plan_command_dry_run_then_for_real(app, runner, clock):
    sessions, [trainer], _ = _setup()
    dry = runner.invoke(args=["plan", "--from", "2027-01-11", "--to", "2027-01-15", "--departement", "69",
                              "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Interventions à programmer : 2" in dry.output and "Servies : 2" in dry.output
    assert "Simulation : aucune proposition envoyée." in dry.output and "Plan optimal (prouvé)" in dry.output
    assert db.session.scalar(select(func.count(Assignment.id))) == 0
    real = runner.invoke(args=["plan", "--from", "2027-01-11", "--to", "2027-01-15", "--force", "police"])
    assert real.exit_code == 0, real.output
    assert "2 proposition(s) envoyée(s) pour 2 intervention(s)." in real.output
    assert db.session.scalar(select(func.count(Assignment.id))) == 2
    backwards = runner.invoke(args=["plan", "--from", "2027-01-15", "--to", "2027-01-11"])
    assert backwards.exit_code != 0 and "la fin doit suivre le début" in backwards.output


def test_a_plan_stopped_by_the_time_limit_says_how_far_from_the_optimum_it_may_be(app, client, runner, clock,
                                                                                  monkeypatch):
    from app.domain import plan_builder
    from app.domain.planning import SolveReport

    def stopped(problem, time_limit=None):
        plan = plan_builder.plan_period(problem.sessions, problem.limits, time_limit=time_limit)
        plan.report = SolveReport("feasible", served=997, served_bound=1000, served_optimal=False, cost_optimal=False,
                                  time_limit=10)
        return plan

    sessions, [trainer], coordinator = _setup(sessions=1)
    monkeypatch.setattr(plan_builder, "solve", stopped)
    login(client, coordinator)
    html = client.get("/planification/", query_string=PERIOD).get_data(as_text=True)
    assert "Plan à 0,3\u202f% de l'optimum au plus, arrêté après 10 s" in html
    assert "aucun plan ne peut servir plus de 1000 interventions" in html
    dry = runner.invoke(args=["plan", "--from", "2027-01-11", "--to", "2027-01-15", "--dry-run"])
    assert "Plan à 0,3 % de l'optimum au plus, arrêté après 10 s (au plus 1000 interventions servies)" in dry.output


def test_the_time_limit_comes_from_the_configuration(app, client, clock, monkeypatch):
    from app.domain import plan_builder

    seen = []
    real = plan_builder.solve
    monkeypatch.setattr(plan_builder, "solve", lambda problem, time_limit=None: seen.append(time_limit)
                        or real(problem, time_limit))
    app.config["RELAIS_PLANNING_TIME_LIMIT"] = 2.5
    sessions, [trainer], coordinator = _setup(sessions=1)
    login(client, coordinator)
    assert client.get("/planification/", query_string=PERIOD).status_code == 200
    assert seen == [2.5]


def test_the_form_opens_on_the_coming_four_weeks_local_to_the_departement(app, client, clock):
    """Tomorrow to four weeks on, nothing computed until asked."""
    from datetime import UTC, datetime

    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    clock.freeze(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    html = client.get("/planification/").get_data(as_text=True)
    assert 'name="date_from" required type="date" value="2026-12-01"' in html
    assert 'name="date_to" required type="date" value="2026-12-28"' in html
    assert "Aperçu du plan" not in html


def test_the_form_opens_on_tomorrow_in_the_departement_s_time_zone(app, client, clock):
    from datetime import UTC, datetime

    overseas = make_coordinator("971", Force.GENDARMERIE)
    db.session.commit()
    login(client, overseas)
    clock.freeze(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # 30 November, 22:00 in Guadeloupe (Paris: 1 December)
    html = client.get("/planification/").get_data(as_text=True)
    assert 'value="2026-12-01"' in html and 'value="2026-12-28"' in html
