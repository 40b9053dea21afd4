"""The simulated school year (bench/simulate.py, issue #20): its figures, its feasibility, and a small month played
through the app's domain functions and the real tick under both policies, reproducibly."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from app.domain import lifecycle
from app.domain.request_rules import RequestInput, WindowInput
from app.domain.requests import RequestDetails, save_request
from app.domain.roster import add_exception
from app.extensions import db
from app.models import (
    Assignment,
    AssignmentStatus,
    Establishment,
    EstablishmentKind,
    ExceptionKind,
    Force,
    Intervention,
    InterventionStatus,
    RequestEvent,
    Role,
    Trainer,
    User,
)
from app.models.trainers import trainer_departement
from bench.simulate import (
    Parameters,
    Player,
    draw_scenario,
    feasible_sessions,
    figures,
    gini,
    markdown,
    over_limits,
    percentile,
    session_facts,
    summarise,
)
from tests.factories import load_demo_data
from tests.helpers import empty_tables

DEMO_TODAY = date(2027, 8, 23)
# Two weeks of September in the Gironde: a few dozen requests for the demo's eight trainers there.
MONTH = Parameters(seed=7, first_day=date(2027, 9, 6), last_day=date(2027, 9, 24), departements=("33",),
                   sessions_per_trainer=100.0, lead_days=(0, 2), window_school_days=(3, 5),
                   illnesses_per_trainer=1.0, leaves_per_trainer=1.0, tick_hours=(9, 16),
                   planning_time_limit=1.0)


def test_gini_and_percentiles_on_known_inputs():
    assert gini([3, 3, 3, 3]) == 0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)
    assert gini([]) == 0 and gini([0, 0]) == 0
    values = [5, 1, 9, 3, 7, 2, 8]
    for share in (0.5, 0.9, 0.0, 1.0):
        assert percentile(values, share) == pytest.approx(np.percentile(values, share * 100))
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([], 0.5) is None


def test_figures_count_feasible_sessions_confirmed_delays_offers_and_spread():
    from bench.simulate import SessionFacts

    day = datetime(2027, 9, 6, 8, tzinfo=UTC)

    def fact(number, feasible, confirmed_after, offers=1, handed_back=False, trainers=(), cancelled=False,
             refused_by_all=False):
        return SessionFacts(number, day, day, feasible, cancelled,
                            day + timedelta(days=confirmed_after) if confirmed_after is not None else None,
                            "confirmed" if confirmed_after is not None else "to_schedule", offers, handed_back,
                            list(trainers), refused_by_all=refused_by_all)

    facts = [fact(1, True, 1, trainers=[(10, 20.0)]), fact(2, True, 3, offers=2, trainers=[(10, 10.0)]),
             fact(3, True, None, offers=3, handed_back=True), fact(4, False, None, offers=0),
             fact(5, True, 2, trainers=[(11, 30.0), (12, 0.0)]),
             fact(6, True, 1, trainers=[(13, 500.0)], cancelled=True)]
    result = figures(facts, [10, 11, 12, 14])
    assert result["sessions"] == 5 and result["feasible"] == 4 and result["confirmed"] == 3
    assert result["feasible_confirmed_share"] == 0.75
    assert result["median_days_to_confirmation"] == 2
    assert result["offers_per_confirmed"] == pytest.approx(7 / 3)
    assert result["handed_back"] == 1 and result["handed_back_share"] == 0.2
    assert result["km_per_session"] == pytest.approx(60 / 3)
    # Given: trainer 10 two sessions, 11 and 12 one each, 14 none.
    assert result["workload_max_over_median"] == 2
    assert result["workload_gini"] == pytest.approx(gini([2, 1, 1, 0]))
    # Nobody left to ask for session 3 (every trainer who could give it turned it down): what the planning lost is
    # then nothing; the figure is unchanged.
    assert result["feasible_refused_by_all"] == 0 and result["askable_confirmed_share"] == 0.75
    facts[2] = replace(facts[2], refused_by_all=True)
    result = figures(facts, [10, 11, 12, 14])
    assert result["feasible_confirmed_share"] == 0.75
    assert result["feasible_refused_by_all"] == 1 and result["askable_confirmed_share"] == 1.0


def _request(establishment: Establishment, author: User, now: datetime, first: date, last: date, *,
             pair: bool = False):
    data = RequestInput(audience_codes=["4e"], topic_codes=["cannabis"], group_count=1, people_per_group=25,
                        duration_minutes=60, windows=[WindowInput(first, last, time(8, 0), time(12, 0))])
    saved = save_request(db.session, establishment, author, data,
                         RequestDetails(contact_name="Contact", contact_phone="01 23 45 67 89",
                                        wants_two_trainers=pair),
                         None, send=True, now=now, min_notice_days=15)
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).limit(1))
    lifecycle.accept(db.session, saved.request, admin, now)
    db.session.commit()
    return saved.request


def test_a_session_is_feasible_while_an_eligible_trainer_is_free_at_one_of_its_starts(app):
    load_demo_data(7, DEMO_TODAY)
    now = datetime(2027, 9, 6, 8, tzinfo=UTC)
    establishment = db.session.scalar(
        select(Establishment).where(Establishment.departement_code == "33", Establishment.force == Force.POLICE,
                                    Establishment.kind == EstablishmentKind.COLLEGE,
                                    Establishment.confirmed_at.is_not(None))
        .order_by(Establishment.id).limit(1))
    author = db.session.scalar(select(User).where(User.establishment_id == establishment.id).limit(1)) or \
        db.session.scalar(select(User).where(User.role == Role.ADMIN).limit(1))
    first, last = date(2027, 9, 27), date(2027, 9, 28)
    single = _request(establishment, author, now, first, last)
    pair = _request(establishment, author, now, first, last, pair=True)
    assert set(feasible_sessions(db.session, single, now)[0].values()) == {True}
    assert set(feasible_sessions(db.session, pair, now)[0].values()) == {True}

    # Every trainer of the scope but one away those days: the pair has no start left, the single one still has.
    trainers = db.session.scalars(
        select(Trainer).join(trainer_departement, trainer_departement.c.trainer_id == Trainer.id)
        .where(trainer_departement.c.departement_code == "33", Trainer.force == Force.POLICE,
               Trainer.active.is_(True)).order_by(Trainer.id)).all()
    candidates = [t for t in trainers if feasible_with_only(t, trainers, single, now)]
    assert candidates, "a trainer of the scope can give the session alone"
    keep = candidates[0]
    for trainer in trainers:
        if trainer is not keep:
            add_exception(trainer, ExceptionKind.UNAVAILABLE, first, None, last, None, "Congés", "Europe/Paris", now)
    db.session.commit()
    assert set(feasible_sessions(db.session, single, now)[0].values()) == {True}
    assert set(feasible_sessions(db.session, pair, now)[0].values()) == {False}
    add_exception(db.session.get(Trainer, keep.id), ExceptionKind.UNAVAILABLE, first, None, last, None, "Congés",
                  "Europe/Paris", now)
    db.session.commit()
    assert set(feasible_sessions(db.session, single, now)[0].values()) == {False}


def feasible_with_only(trainer, trainers, request, now) -> bool:
    """Whether the planner's loading gives the request's session an option with this trainer."""
    from app.domain.plan_builder import load_planning_problem

    problem = load_planning_problem(db.session, date_from=date(2027, 9, 27), date_to=date(2027, 9, 28),
                                    departement_codes=["33"], force=Force.POLICE, now=now)
    db.session.rollback()
    session_id = request.interventions[0].id if request.interventions else None
    return any(option.trainer_id == trainer.id for item in problem.sessions if item.intervention_id == session_id
               for option in item.options)


def _play(policy: str, scenario=None):
    load_demo_data(7, DEMO_TODAY)
    scenario = scenario or draw_scenario(db.session, MONTH)
    db.session.rollback()
    run = Player(scenario, policy).play()
    result = summarise(run, scenario)
    submitted = {key for key, tracked in run.tracked.items() if tracked.request_id}
    facts = session_facts(run, scenario)
    by_relais = db.session.scalar(select(Assignment.id).where(Assignment.offered_by_id.is_(None)).limit(1))
    reports = db.session.scalar(select(RequestEvent.id).where(RequestEvent.kind == "report_filed").limit(1))
    confirmed = db.session.scalar(select(Intervention.id).where(Intervention.status.in_(
        (InterventionStatus.CONFIRMED, InterventionStatus.DONE))).limit(1))
    return scenario, run, result, submitted, facts, (by_relais, reports, confirmed)


def test_a_month_is_played_through_the_real_tick_under_both_policies_the_same_way_twice(app):
    scenario, autopilot, first, submitted, facts, (by_relais, reports, confirmed) = _play("autopilot")
    arrivals = scenario.arrivals
    assert len(arrivals) >= 10 and any(a.pair for a in arrivals) and scenario.absences
    assert any(a.cancel_at for a in arrivals)
    assert first["figures"]["sessions"] > 0 and first["figures"]["feasible"] > 0
    assert first["figures"]["confirmed"] > 0 and first["ticks"] == 19 * len(MONTH.tick_hours)
    assert autopilot.answers["accepted"] > 0
    assert by_relais is not None and reports is not None and confirmed is not None  # the autopilot sent offers
    assert first["over_limits"] == over_limits(scenario.trainer_ids, MONTH.first_day, MONTH.last_day) == 0
    # The trainers who could give each session were noted when it was accepted; it is « turned down by all » when
    # fewer of them than it needs are left after declines, expiries and withdrawals, and then never confirmed.
    could_give = {i: c for tracked in autopilot.tracked.values() for i, c in tracked.could_give.items()}
    assert any(trainers for _needed, trainers in could_give.values())
    ended = (AssignmentStatus.DECLINED, AssignmentStatus.EXPIRED, AssignmentStatus.WITHDRAWN)
    for fact in facts:
        needed, trainers = could_give.get(fact.intervention_id, (1, frozenset()))
        gone = set(db.session.scalars(select(Assignment.trainer_id).where(
            Assignment.intervention_id == fact.intervention_id, Assignment.status.in_(ended))))
        assert fact.refused_by_all == (bool(trainers) and len(trainers - gone) < needed)

    empty_tables()
    coordinator_scenario, coordinator, today, coordinator_submitted, _, _ = _play("coordinator")
    # Both policies see the same arrivals: the same requests submitted, each accepted with its feasibility.
    assert coordinator_scenario.arrivals == arrivals and coordinator_scenario.absences == scenario.absences
    assert coordinator_submitted == submitted
    assert today["figures"]["sessions"] == first["figures"]["sessions"]
    assert coordinator.weekly_plans == 3 and today["figures"]["confirmed"] > 0

    empty_tables()
    _, _, again, _, _, _ = _play("coordinator")
    assert again == today  # same seed, same report


def test_the_report_states_each_figure_for_each_policy_its_targets_and_parameters():
    result = {"figures": {"sessions": 10, "feasible": 9, "confirmed": 8, "feasible_confirmed_share": 8 / 9,
                          "feasible_refused_by_all": 1, "askable_confirmed_share": 1.0,
                          "confirmed_share": 0.8, "median_days_to_confirmation": 1.5,
                          "p90_days_to_confirmation": 3.25, "offers_per_confirmed": 1.25, "handed_back": 1,
                          "handed_back_share": 0.1, "trainers_with_sessions": 4, "workload_max_over_median": 2.0,
                          "workload_gini": 0.3, "km_per_session": 12.5,
                          "feasible_unconfirmed_states": {"to_schedule": 1},
                          "feasible_unconfirmed_reasons": {"trainers taken or at their limits": 1}},
              "over_limits": 0, "ticks": 5, "tick_errors": 0, "answers": {"accepted": 8}}
    text = markdown(MONTH, {"requests submitted": 7}, {"coordinator": result, "autopilot": result},
                    ["simulation-workload-gini.svg"], {"coordinator": 1.0, "autopilot": 2.0},
                    "python -m bench.simulate --departements 33")
    assert "| Feasible sessions confirmed | ≥ 98 % | 88.9 % | 88.9 % |" in text
    assert "| … leaving out those every trainer who could give them turned down |  | 100.0 % | 100.0 % |" in text
    assert "| Submission → confirmation, median (days) | ≤ 2 | 1.50 | 1.50 |" in text
    assert "| Sessions handed back to the coordination | ≤ 5 % | 10.0 % | 10.0 % |" in text
    assert "feasible ≥ 98 % confirmed: MISSED; median ≤ 2 days: met; handed back ≤ 5 %: MISSED" in text
    assert "| seed | 7 |" in text and "| departements | ('33',) |" in text and "- requests submitted: 7" in text
    assert "`python -m bench.simulate --departements 33`" in text and "![simulation-workload-gini.svg]" in text
