"""The period planner on small instances whose optimum is known by hand (the exact planner, and the flow
planner before it where they differ)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
from scipy.optimize import linprog

from app.domain.planning import (
    NO_CAPACITY,
    NO_OPTION,
    Option,
    SessionToPlan,
    TrainerLimits,
    _capacity_for,
    build_flow_network,
    plan_greedy,
    plan_half_days,
    plan_period,
)

MONDAY = date(2027, 1, 11)


def option(trainer_id: int, day: date = MONDAY, half: str = "am", km: float = 10.0, hour: int | None = None) -> Option:
    start_hour = hour if hour is not None else (9 if half == "am" else 14)
    return Option(trainer_id, day, half, datetime(day.year, day.month, day.day, start_hour - 1, tzinfo=UTC), km)


def limits(*trainer_ids: int, weekly: int = 5, monthly: int = 20, **extra) -> dict[int, TrainerLimits]:
    return {t: TrainerLimits(t, weekly_limit=weekly, monthly_limit=monthly, **extra) for t in trainer_ids}


def by_session(plan) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {}
    for assignment in plan.assignments:
        result.setdefault(assignment.intervention_id, []).append(assignment.trainer_id)
    return {k: sorted(v) for k, v in result.items()}


def test_serves_both_sessions_where_first_come_nearest_serves_one():
    # Session 1 can use trainer A (near) or B (far); session 2 only A. Greedy gives A to session 1.
    sessions = [SessionToPlan(1, 1, [option(1, km=5), option(2, km=40)], arrival_rank=1),
                SessionToPlan(2, 1, [option(1, km=8)], arrival_rank=2)]
    optimal = plan_period(sessions, limits(1, 2))
    greedy = plan_greedy(sessions, limits(1, 2))
    assert by_session(optimal) == {1: [2], 2: [1]}
    assert optimal.served_sessions == 2 and greedy.served_sessions == 1
    assert greedy.unserved == {2: NO_CAPACITY}


def test_minimises_total_travel_among_full_plans():
    # Both plans serve the two sessions; the crossed one drives 20 km instead of 100.
    sessions = [SessionToPlan(1, 1, [option(1, km=50), option(2, km=10)]),
                SessionToPlan(2, 1, [option(1, km=10), option(2, km=50)])]
    plan = plan_period(sessions, limits(1, 2))
    assert by_session(plan) == {1: [2], 2: [1]}
    assert plan.total_km == 20.0


def test_half_days_no_longer_limit_a_trainer_to_one_session_a_morning():
    # 8 h and 10 h UTC, an hour each, 10 km away (30 min of travel each way): they fit in one morning.
    sessions = [SessionToPlan(1, 1, [option(1, half="am")]), SessionToPlan(2, 1, [option(1, half="am", hour=11)]),
                SessionToPlan(3, 1, [option(1, half="pm")])]
    assert plan_period(sessions, limits(1)).served_sessions == 3
    assert plan_half_days(sessions, limits(1)).served_sessions == 2


def test_weekly_limit_is_respected():
    days = [MONDAY + timedelta(days=i) for i in range(4)]
    sessions = [SessionToPlan(i, 1, [option(1, day=d)]) for i, d in enumerate(days, start=1)]
    plan = plan_period(sessions, limits(1, weekly=2))
    assert plan.served_sessions == 2
    already = limits(1, weekly=2, week_used={(2027, 2): 1})
    assert plan_period(sessions, already).served_sessions == 1


def test_monthly_limit_is_respected_across_weeks():
    days = [MONDAY + timedelta(days=7 * i) for i in range(3)]  # 11, 18, 25 January
    sessions = [SessionToPlan(i, 1, [option(1, day=d)]) for i, d in enumerate(days, start=1)]
    assert plan_period(sessions, limits(1, weekly=1, monthly=2)).served_sessions == 2


def test_a_week_across_two_months_never_exceeds_the_weekly_limit():
    # Week of Monday 29 March 2027: two days in March, two in April; weekly limit 2.
    days = [date(2027, 3, 30), date(2027, 3, 31), date(2027, 4, 1), date(2027, 4, 2)]
    sessions = [SessionToPlan(i, 1, [option(1, day=d)]) for i, d in enumerate(days, start=1)]
    plan = plan_period(sessions, limits(1, weekly=2))
    assert plan.served_sessions == 2


def test_pair_sessions_get_two_distinct_trainers_at_the_same_time():
    sessions = [SessionToPlan(1, 2, [option(1, km=5), option(2, km=7), option(3, km=30),
                                     option(1, half="pm", km=5)])]
    plan = plan_period(sessions, limits(1, 2, 3))
    assert by_session(plan) == {1: [1, 2]}
    assert len({a.starts_at for a in plan.assignments}) == 1


def test_pair_session_without_two_free_trainers_is_unserved_and_frees_nobody():
    sessions = [SessionToPlan(1, 2, [option(1), option(2, half="pm")]), SessionToPlan(2, 1, [option(1)])]
    plan = plan_period(sessions, limits(1, 2))
    assert 1 in plan.unserved and by_session(plan) == {2: [1]}


def test_workload_is_balanced_when_travel_is_equal():
    sessions = [SessionToPlan(1, 1, [option(1, km=10), option(2, km=10)])]
    trainers = {1: TrainerLimits(1, 5, 20, load=6), 2: TrainerLimits(2, 5, 20, load=1)}
    assert by_session(plan_period(sessions, trainers)) == {1: [2]}


def test_sessions_without_any_option_are_reported():
    plan = plan_period([SessionToPlan(1, 1, [])], limits(1))
    assert plan.unserved == {1: NO_OPTION}


def _lp_optimum(network):
    """max flow then min cost, solved as one LP by HiGHS on the same arcs."""
    tails, heads = np.array(network.tails), np.array(network.heads)
    costs = np.array(network.costs, dtype=float)
    arc_count, node_count = len(tails), network.node_count
    big = float(costs.sum() + 1)
    objective = costs - big * (tails == network.SOURCE)  # each unit of flow is worth more than any cost
    equality = np.zeros((node_count - 2, arc_count))
    for arc in range(arc_count):
        if tails[arc] >= 2:
            equality[tails[arc] - 2, arc] -= 1
        if heads[arc] >= 2:
            equality[heads[arc] - 2, arc] += 1
    result = linprog(objective, A_eq=equality, b_eq=np.zeros(node_count - 2),
                     bounds=list(zip([0] * arc_count, network.capacities, strict=True)), method="highs")
    flow = result.x
    return round(flow[tails == network.SOURCE].sum()), round(float(costs @ flow))


def test_flow_equals_the_lp_optimum_on_a_random_instance():
    """The flow planner (the benchmark's baseline) is optimal on its own network."""
    rng = random.Random(4)
    trainer_ids = list(range(1, 9))
    sessions = []
    for session_id in range(1, 41):
        options = []
        for trainer_id in rng.sample(trainer_ids, 3):
            day = MONDAY + timedelta(days=rng.randint(0, 13))
            if day.weekday() < 5:
                options.append(option(trainer_id, day=day, half=rng.choice(["am", "pm"]), km=rng.randint(1, 80)))
        sessions.append(SessionToPlan(session_id, 1, options, arrival_rank=session_id))
    trainers = limits(*trainer_ids, weekly=2, monthly=4)
    plan = plan_half_days(sessions, trainers)
    network = build_flow_network(sessions, _capacity_for(sessions, trainers), {t: 0 for t in trainer_ids})
    network.solve()
    served, cost = _lp_optimum(network)
    assert served == plan.served_sessions == network.maximum_flow
    assert cost == network.optimal_cost
    assert plan.served_sessions >= plan_greedy(sessions, trainers).served_sessions
