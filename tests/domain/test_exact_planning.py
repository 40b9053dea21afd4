"""The exact planner (CP-SAT): pairs and single sessions in one model, real times, travel between places.

The minimal cases where the flow planner (half-days, pairs placed first) falls short, the collision rule
of the offers, the limits, the proof it reports, and on small random instances the same optimum as a
brute force over every plan and as HiGHS on the model's own constraints.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import LinearConstraint, milp

from app.domain.availability import BusyPeriod, travel_minutes_for
from app.domain.exact_planning import ExactModel, components, maximal_cliques
from app.domain.plan_builder import plan_fingerprint
from app.domain.planning import (
    NO_CAPACITY,
    NO_PAIR,
    Option,
    Plan,
    SessionToPlan,
    SolveReport,
    TrainerLimits,
    month_of,
    plan_half_days,
    plan_period,
    week_of,
)

MONDAY = date(2027, 1, 11)
HOUR = timedelta(hours=1)


def at(trainer_id: int, hour: int, minute: int = 0, day: date = MONDAY, km: float = 10.0) -> Option:
    """An option starting at that UTC time (the half-day is only read by the flow planner)."""
    return Option(trainer_id, day, "am" if hour < 12 else "pm",
                  datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC), km)


def session(session_id: int, *options: Option, needed: int = 1, duration: timedelta = HOUR,
            place: int | None = None) -> SessionToPlan:
    return SessionToPlan(session_id, needed, list(options), arrival_rank=session_id, duration=duration,
                         place_key=place if place is not None else 1000 + session_id)


def limits(*trainer_ids: int, weekly: int = 5, monthly: int = 20) -> dict[int, TrainerLimits]:
    return {t: TrainerLimits(t, weekly_limit=weekly, monthly_limit=monthly) for t in trainer_ids}


def staffing(plan: Plan) -> dict[int, list[tuple[int, str]]]:
    result: dict[int, list[tuple[int, str]]] = {}
    for a in plan.assignments:
        result.setdefault(a.intervention_id, []).append((a.trainer_id, a.starts_at.strftime("%H:%M")))
    return {k: sorted(v) for k, v in result.items()}


def test_a_pair_that_would_block_two_single_sessions_is_left_out():
    """A pair (trainers 1 and 2) and two single sessions (trainer 1 only, trainer 2 only), all at 14 h:
    two sessions served, not one. The flow planner places the pair first and serves one."""
    sessions = [session(1, at(1, 14), at(2, 14), needed=2), session(2, at(1, 14)), session(3, at(2, 14))]
    plan = plan_period(sessions, limits(1, 2))
    assert staffing(plan) == {2: [(1, "14:00")], 3: [(2, "14:00")]}
    assert plan.unserved == {1: NO_CAPACITY}
    assert plan_half_days(sessions, limits(1, 2)).served_sessions == 1


def test_a_pairs_two_trainers_share_one_start():
    # Trainer 1 is free at 9 h, trainer 2 at 9 h and 14 h, trainer 3 only at 14 h: 14 h with 2 and 3.
    sessions = [session(1, at(1, 9), at(2, 9, km=50), at(2, 14, km=50), at(3, 14, km=5), needed=2),
                session(2, at(1, 14))]  # keeps trainer 1 busy at 14 h
    plan = plan_period(sessions, limits(1, 2, 3))
    assert plan.served_sessions == 2
    pair = staffing(plan)[1]
    assert len({start for _, start in pair}) == 1 and len({trainer for trainer, _ in pair}) == 2


def test_a_pair_without_two_trainers_at_one_start_is_unserved():
    sessions = [session(1, at(1, 9), at(2, 14), needed=2)]
    plan = plan_period(sessions, limits(1, 2))
    assert plan.unserved == {1: NO_PAIR} and plan.assignments == []


def test_two_sessions_in_one_afternoon_at_one_school():
    """14 h and 16 h, two hours each, at one school 40 km away: no travel between two classes of one school."""
    sessions = [session(1, at(1, 14, km=40), at(1, 16, km=40), duration=2 * HOUR, place=7),
                session(2, at(1, 14, km=40), at(1, 16, km=40), duration=2 * HOUR, place=7)]
    plan = plan_period(sessions, limits(1))
    assert sorted(start for a in staffing(plan).values() for _, start in a) == ["14:00", "16:00"]
    assert plan_half_days(sessions, limits(1)).served_sessions == 1


def test_the_same_hours_at_two_schools_need_the_travel_between_them():
    sessions = [session(1, at(1, 14, km=40), duration=2 * HOUR, place=7),
                session(2, at(1, 16, km=40), duration=2 * HOUR, place=8)]
    assert plan_period(sessions, limits(1)).served_sessions == 1


def test_half_past_eleven_and_noon_never_go_to_one_trainer():
    for place_of_second in (7, 8):  # at one school or at two
        sessions = [session(1, at(1, 11, 30), place=7), session(2, at(1, 12), place=place_of_second)]
        assert plan_period(sessions, limits(1)).served_sessions == 1
        sessions = [session(1, at(1, 11, 30), at(2, 11, 30), place=7), session(2, at(1, 12), place=place_of_second)]
        assert staffing(plan_period(sessions, limits(1, 2))) == {1: [(2, "11:30")], 2: [(1, "12:00")]}


def test_travel_longer_than_the_gap_forbids_back_to_back_sessions():
    """9 h–10 h and 11 h–12 h at two schools: with 30 min of travel to each (10 km) the trainer leaves the
    first at 10 h and is due at the second at 10 h 30: both. At 40 km (40 min each way) they collide,
    as `BusyPeriod.collides`, the offers' rule, says."""
    near = [session(1, at(1, 9, km=10)), session(2, at(1, 11, km=10))]
    far = [session(1, at(1, 9, km=40)), session(2, at(1, 11, km=40))]
    assert plan_period(near, limits(1)).served_sessions == 2
    assert plan_period(far, limits(1)).served_sessions == 1
    first = BusyPeriod(datetime(2027, 1, 11, 9, tzinfo=UTC), datetime(2027, 1, 11, 10, tzinfo=UTC), 1, True, 1001,
                       travel_minutes_for(40))
    assert first.collides(datetime(2027, 1, 11, 11, tzinfo=UTC), datetime(2027, 1, 11, 12, tzinfo=UTC),
                          travel_minutes_for(40), 1002)


def test_weekly_and_monthly_limits_count_pairs_and_what_is_booked():
    days = [MONDAY + timedelta(days=n) for n in range(4)]
    sessions = [session(n, at(1, 9, day=day)) for n, day in enumerate(days, start=1)]
    assert plan_period(sessions, limits(1, weekly=3)).served_sessions == 3
    booked = {1: TrainerLimits(1, 3, 20, week_used={week_of(MONDAY): 2})}
    assert plan_period(sessions, booked).served_sessions == 1
    this_month = {1: TrainerLimits(1, 5, 3, month_used={month_of(MONDAY): 1})}
    assert plan_period(sessions, this_month).served_sessions == 2
    pairs = [session(n, at(1, 9, day=day), at(2, 9, day=day), needed=2) for n, day in enumerate(days, start=1)]
    assert plan_period(pairs, limits(1, 2, weekly=2)).served_sessions == 2


def test_least_travel_then_balance_among_plans_serving_as_many():
    crossed = [session(1, at(1, 9, km=50), at(2, 9, km=10)), session(2, at(1, 9, km=10), at(2, 9, km=50))]
    assert staffing(plan_period(crossed, limits(1, 2))) == {1: [(2, "09:00")], 2: [(1, "09:00")]}
    even = [session(1, at(1, 9), at(2, 9))]
    loaded = {1: TrainerLimits(1, 5, 20, load=6), 2: TrainerLimits(2, 5, 20, load=1)}
    assert staffing(plan_period(even, loaded)) == {1: [(2, "09:00")]}


def test_the_plan_says_it_is_proven_optimal():
    sessions = [session(1, at(1, 14), at(2, 14), needed=2), session(2, at(1, 14)), session(3, at(2, 14))]
    plan = plan_period(sessions, limits(1, 2))
    assert plan.status == "optimal"
    assert plan.objective == plan.bound == 2 and plan.gap == 0.0
    assert plan.report.cost_optimal and plan.seconds is not None and plan.seconds >= 0


def test_a_gap_is_what_the_bound_leaves_room_for():
    report = SolveReport("feasible", served=997, served_bound=1000, served_optimal=False, cost=1000, cost_bound=990,
                         cost_optimal=False)
    assert round(report.served_gap, 4) == 0.003 and round(report.cost_gap, 4) == 0.01


def test_the_same_problem_gives_the_same_plan():
    """The preview and its sending solve the same data: the plan, and so its fingerprint, must not move."""
    sessions = [session(n, *(at(t, h, day=MONDAY + timedelta(days=d), km=5 * t + n % 7)
                             for t in range(1, 5) for h in (9, 10, 14, 15) for d in range(3)),
                        needed=2 if n % 5 == 0 else 1, place=n % 4)
                for n in range(1, 31)]
    first, second = plan_period(sessions, limits(1, 2, 3, 4)), plan_period(sessions, limits(1, 2, 3, 4))
    assert plan_fingerprint(first) == plan_fingerprint(second) and first.assignments == second.assignments


def test_sessions_sharing_no_trainer_are_planned_apart():
    sessions = [session(1, at(1, 9)), session(2, at(2, 9)), session(3, at(1, 10), at(3, 10)), session(4)]
    parts = [sorted(s.intervention_id for s in part) for part in components(sessions)]
    assert sorted(parts) == [[1, 3], [2], [4]]


def test_maximal_cliques_cover_every_overlap():
    intervals = [(0, 10, 1), (5, 15, 2), (10, 20, 3), (12, 13, 4)]  # 1 and 3 only touch
    cliques = [sorted(c) for c in maximal_cliques(intervals)]
    assert sorted(cliques) == [[1, 2], [2, 3, 4]]


# -- small random instances against a brute force and a second solver ----------------------------------

DAYS = (MONDAY, MONDAY + timedelta(days=1), date(2027, 2, 1))  # two days of one week, and another month


@st.composite
def instances(draw):
    trainer_ids = list(range(1, draw(st.integers(1, 3)) + 1))
    sessions = []
    for session_id in range(1, draw(st.integers(1, 5)) + 1):
        needed = draw(st.sampled_from((1, 1, 1, 2)))
        options = draw(st.lists(st.tuples(st.sampled_from(trainer_ids), st.integers(0, 2),
                                           st.integers(16, 32), st.sampled_from((0.0, 10.0, 40.0, 75.0))),
                                min_size=0, max_size=5))
        unique = {(t, day, slot): km for t, day, slot, km in options}
        sessions.append(SessionToPlan(
            session_id, needed,
            [Option(t, DAYS[day], "am", datetime.combine(DAYS[day], datetime.min.time(), UTC) + slot * HOUR / 2, km)
             for (t, day, slot), km in unique.items()],
            duration=draw(st.sampled_from((HOUR, HOUR * 3 / 2, 2 * HOUR))), place_key=draw(st.integers(1, 3))))
    trainer_limits = {t: TrainerLimits(t, draw(st.integers(1, 3)), draw(st.integers(1, 4)),
                                       week_used={week_of(MONDAY): draw(st.integers(0, 1))}) for t in trainer_ids}
    return sessions, trainer_limits


def _staffings(item: SessionToPlan) -> list[tuple[Option, ...]]:
    """Every way to staff a session: nobody, or `trainers_needed` distinct trainers at one start."""
    ways: list[tuple[Option, ...]] = [()]
    by_start: dict[datetime, list[Option]] = {}
    for option in item.options:
        by_start.setdefault(option.starts_at, []).append(option)
    for options in by_start.values():
        ways += [combo for combo in itertools.combinations(options, item.trainers_needed)
                 if len({o.trainer_id for o in combo}) == item.trainers_needed]
    return ways


def _brute_force(sessions: list[SessionToPlan], trainer_limits: dict[int, TrainerLimits]) -> int:
    """The most sessions any plan serves, checking every pair of a trainer's sessions with the offers' rule."""
    best = 0

    def fits(option: Option, item: SessionToPlan, taken: list[tuple[Option, SessionToPlan]]) -> bool:
        mine = [(o, s) for o, s in taken if o.trainer_id == option.trainer_id]
        limit = trainer_limits[option.trainer_id]
        if sum(week_of(o.day) == week_of(option.day) for o, _ in mine) >= limit.week_remaining(week_of(option.day)):
            return False
        if (sum(month_of(o.day) == month_of(option.day) for o, _ in mine)
                >= limit.month_remaining(month_of(option.day))):
            return False
        for other, other_session in mine:
            busy = BusyPeriod(other.starts_at, other.starts_at + other_session.duration, other_session.intervention_id,
                              False, other_session.place_key, travel_minutes_for(other.km))
            if busy.collides(option.starts_at, option.starts_at + item.duration, travel_minutes_for(option.km),
                             item.place_key):
                return False
        return True

    def walk(index: int, taken: list[tuple[Option, SessionToPlan]], served: int) -> None:
        nonlocal best
        best = max(best, served)
        if index == len(sessions) or served + len(sessions) - index <= best:
            return
        item = sessions[index]
        for way in _staffings(item):
            added: list[tuple[Option, SessionToPlan]] = []
            for option in way:
                if not fits(option, item, taken + added):
                    break
                added.append((option, item))
            else:
                walk(index + 1, taken + added, served + (1 if way else 0))

    walk(0, [], 0)
    return best


def _highs_optimum(model: ExactModel) -> int:
    """The most sessions served under the model's constraints, solved by HiGHS (scipy's milp)."""
    size = len(model.variables)
    if not size:
        return 0
    matrix = np.zeros((len(model.rows), size))
    low, high = np.zeros(len(model.rows)), np.zeros(len(model.rows))
    for row, (terms, row_low, row_high) in enumerate(model.rows):
        for index, coefficient in terms.items():
            matrix[row, index] = coefficient
        low[row], high[row] = row_low, row_high
    objective = np.zeros(size)
    objective[model.served_indexes] = -1
    result = milp(objective, constraints=LinearConstraint(matrix, low, high), integrality=np.ones(size),
                  bounds=(0, 1))
    assert result.status == 0, result.message
    return round(-result.fun)


@settings(max_examples=60, deadline=None)
@given(instances())
def test_the_optimum_matches_a_brute_force_and_highs(instance):
    sessions, trainer_limits = instance
    plan = plan_period(sessions, trainer_limits)
    assert plan.status == "optimal"
    assert plan.served_sessions == _brute_force(sessions, trainer_limits)
    assert plan.served_sessions == _highs_optimum(ExactModel(sessions, trainer_limits))


def test_parts_solved_on_two_threads_give_the_plan_of_one():
    """Each part's time is fixed before solving: which thread ends first changes nothing."""
    from app.domain.exact_planning import solve_exact

    sessions = [session(n, *(at(t + 10 * (n % 6), h, day=MONDAY + timedelta(days=d), km=3 * t + n % 5)
                             for t in range(1, 4) for h in (9, 10, 14) for d in range(2)),
                        needed=2 if n % 4 == 0 else 1, place=n % 3)
                for n in range(1, 41)]
    trainers = limits(*{o.trainer_id for s in sessions for o in s.options})
    one, two = solve_exact(sessions, trainers, threads=1), solve_exact(sessions, trainers, threads=2)
    assert len(components(sessions)) == 6
    assert one.assignments == two.assignments and one.status == two.status == "optimal"
