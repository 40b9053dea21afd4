"""Planning a month: load the instance, plan it exactly, and side by side with the flow planner it replaces.

Loading (database → `SessionToPlan` options) and planning (`plan_period`) are timed apart: the target
(under 10 s, proven optimal or within 0.5 %) is the planner's. Its wall time is the median of a few runs,
which must also all give the same plan (the planning page commits only the plan it previewed); its CPU
time is given too, as the machine may be shared. Its memory is the growth of the process's peak
resident set during the first run (a lower bound, as memory the process freed before is reused first).

In the same run, on the same instance: the flow planner (`plan_half_days`: pairs placed first, then one
session per trainer and half-day), once on the same options and once on each half-day's earliest one
as the loader gave it before; and the first-come-first-served baseline. Every plan is checked against the
offers' own rules (`BusyPeriod.collides` between two sessions of a trainer, weekly and monthly limits):
what they would refuse is counted, not served.

The optimum is confirmed by a second solver: HiGHS (scipy's `milp`) on the very constraints the exact
planner gives CP-SAT (`ExactModel.rows`), part by part, and the bound of its LP relaxation.
"""

from __future__ import annotations

import gc
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.domain.availability import BusyPeriod, travel_minutes_for
from app.domain.plan_builder import load_planning_problem
from app.domain.planning import (
    Plan,
    SessionToPlan,
    TrainerLimits,
    month_of,
    plan_greedy,
    plan_half_days,
    plan_period,
    week_of,
)
from bench.highs import ExactOptimum, exact_optimum
from bench.ranking import StatementCounter

TIMED_RUNS = 3
MB = 1024 * 1024


@dataclass(frozen=True)
class Timed:
    plan: Plan
    seconds: float
    refused: int  # assignments the offers' rules would refuse (collisions, limits)

    @property
    def served(self) -> int:
        return self.plan.served_sessions


@dataclass(frozen=True)
class PlanningResult:
    sessions: int
    pair_sessions: int
    sessions_with_options: int
    trainers: int
    options: int
    half_day_options: int
    load_seconds: float
    load_statements: int
    plan_seconds: float  # median of TIMED_RUNS
    plan_seconds_runs: tuple[float, ...]
    plan_cpu_seconds: float  # of the first run
    plans_identical: bool
    rss_growth_mb: float | None  # None where the kernel does not let us reset the peak
    planner: Timed
    flow: Timed  # plan_half_days on the same options
    flow_half_days: Timed  # plan_half_days on each half-day's earliest option, as the loader gave before
    greedy: Timed
    highs: ExactOptimum


# -- memory -----------------------------------------------------------------------------------------


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Resets VmHWM to the current resident set (Linux ≥ 4.0), so the next peak is this run's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kb("VmHWM") is not None


def _rss_growth_mb(run: Callable[[], None]) -> float | None:
    gc.collect()
    if _reset_peak_rss():
        before = _status_kb("VmRSS") or 0
        run()
        return ((_status_kb("VmHWM") or 0) - before) / 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return grown / 1024 if grown > 0 else None


# -- checks -------------------------------------------------------------------------------------------


def refused_by_offer_rules(plan: Plan, sessions: list[SessionToPlan], limits: dict[int, TrainerLimits]) -> int:
    """Assignments of the plan that the offers would refuse: a collision with an earlier one of the same
    trainer (`BusyPeriod.collides`, travel included), or one past a weekly or monthly limit."""
    by_id = {s.intervention_id: s for s in sessions}
    kept: dict[int, list[BusyPeriod]] = defaultdict(list)
    counts: dict[tuple, int] = defaultdict(int)
    refused = 0
    for assignment in sorted(plan.assignments, key=lambda a: (a.starts_at, a.intervention_id, a.trainer_id)):
        item = by_id[assignment.intervention_id]
        end = assignment.starts_at + item.duration
        travel = travel_minutes_for(assignment.km)
        local_day = next(o.day for o in item.options if o.trainer_id == assignment.trainer_id
                         and o.starts_at == assignment.starts_at)
        week, month = (assignment.trainer_id, week_of(local_day)), (assignment.trainer_id, month_of(local_day))
        trainer = limits[assignment.trainer_id]
        mine = kept[assignment.trainer_id]
        if (any(busy.collides(assignment.starts_at, end, travel, item.place_key) for busy in mine)
                or counts[("w", *week)] >= trainer.week_remaining(week[1])
                or counts[("m", *month)] >= trainer.month_remaining(month[1])):
            refused += 1
            continue
        kept[assignment.trainer_id].append(BusyPeriod(assignment.starts_at, end, item.intervention_id, False,
                                                      item.place_key, travel))
        counts[("w", *week)] += 1
        counts[("m", *month)] += 1
    return refused


def half_day_options(sessions: list[SessionToPlan]) -> list[SessionToPlan]:
    """The instance as the loader gave it to the flow planner before: for a single session, each trainer's
    earliest start of each half-day; for a pair, every start (its trainers must share one)."""
    thinned = []
    for item in sessions:
        if item.trainers_needed > 1:
            thinned.append(item)
            continue
        seen: set = set()
        options = []
        for option in sorted(item.options, key=lambda o: o.starts_at):
            if option.slot not in seen:
                seen.add(option.slot)
                options.append(option)
        thinned.append(SessionToPlan(item.intervention_id, item.trainers_needed, options, item.arrival_rank,
                                     item.duration, item.place_key))
    return thinned


def _timed(run: Callable[[], Plan], sessions: list[SessionToPlan], limits: dict[int, TrainerLimits]) -> Timed:
    begun = time.perf_counter()
    plan = run()
    return Timed(plan, time.perf_counter() - begun, refused_by_offer_rules(plan, sessions, limits))


# -- the benchmark ----------------------------------------------------------------------------------


def bench_planning(session: Session, engine: Engine, *, date_from: date, date_to: date, now: datetime,
                   log: Callable[[str], None] = lambda message: None) -> PlanningResult:
    """Loads the month's instance, plans it (timed), runs the flow planner and the baseline on it, and has
    HiGHS confirm the optimum."""
    started = time.perf_counter()
    with StatementCounter(engine) as counter:
        problem = load_planning_problem(session, date_from=date_from, date_to=date_to, departement_codes=None,
                                        force=None, now=now)
    load_seconds = time.perf_counter() - started
    sessions, limits = problem.sessions, problem.limits

    runs: list[float] = []
    plans: list[Plan] = []
    cpu: list[float] = []

    def timed_run() -> None:
        begun, begun_cpu = time.perf_counter(), time.process_time()
        plans.append(plan_period(sessions, limits))
        runs.append(time.perf_counter() - begun)
        cpu.append(time.process_time() - begun_cpu)

    log("planning the month exactly…")
    rss_growth = _rss_growth_mb(timed_run)
    for _ in range(TIMED_RUNS - 1):
        timed_run()
    planner = Timed(plans[0], runs[0], refused_by_offer_rules(plans[0], sessions, limits))
    log("the flow planner and the baseline on the same month…")
    flow = _timed(lambda: plan_half_days(sessions, limits), sessions, limits)
    half_days = half_day_options(sessions)
    flow_half_days = _timed(lambda: plan_half_days(half_days, limits), sessions, limits)
    greedy = _timed(lambda: plan_greedy(sessions, limits), sessions, limits)
    log("HiGHS on the exact model…")
    highs = exact_optimum(sessions, limits)

    return PlanningResult(
        sessions=len(sessions), pair_sessions=sum(1 for s in sessions if s.trainers_needed > 1),
        sessions_with_options=sum(1 for s in sessions if s.options),
        trainers=len(limits), options=sum(len(s.options) for s in sessions),
        half_day_options=sum(len(s.options) for s in half_days),
        load_seconds=load_seconds, load_statements=counter.count,
        plan_seconds=statistics.median(runs), plan_seconds_runs=tuple(runs), plan_cpu_seconds=cpu[0],
        plans_identical=all(plan.assignments == planner.plan.assignments for plan in plans),
        rss_growth_mb=rss_growth, planner=planner, flow=flow, flow_half_days=flow_half_days, greedy=greedy,
        highs=highs)


__all__ = ["PlanningResult", "Timed", "bench_planning", "half_day_options", "refused_by_offer_rules"]
