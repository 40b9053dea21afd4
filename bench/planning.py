"""Planning a month: load the instance, plan it, compare with the greedy baseline and with HiGHS.

Loading (database → `SessionToPlan` options) and planning (`plan_period`) are timed apart: the
target of 2 s and 300 MB is the planner's. Its wall time is the median of a few runs, which must
also all give the same plan (the planning page commits only the plan it previewed). Its memory is
the growth of the process's peak resident set during the first run (which sees OR-Tools' C++
allocations; a lower bound, as memory the process freed before is reused first) and tracemalloc's
peak on one more run (Python objects and NumPy arrays), apart because tracing slows the run it
measures.

The optimality check rebuilds the network the planner solves (pairs placed first on the shared
capacity, then the flow over single-trainer sessions), has HiGHS solve its LP, and compares the
optimum with what the plan itself delivers: sessions served and the cost of its assignments.
"""

from __future__ import annotations

import gc
import resource
import statistics
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.domain.plan_builder import load_planning_problem
from app.domain.planning import (
    TRAVEL_UNIT_PER_KM,
    Plan,
    SessionToPlan,
    TrainerLimits,
    plan_greedy,
    plan_period,
    single_trainer_network,
)
from bench.highs import LpOptimum, lp_optimum
from bench.ranking import StatementCounter

TIMED_RUNS = 5
MB = 1024 * 1024


@dataclass(frozen=True)
class OptimumCheck:
    lp: LpOptimum
    network_arcs: int
    network_nodes: int
    planner_arcs: int  # as reported by plan_period: proves the rebuilt network is the planner's
    planner_flow: int  # single-trainer sessions the plan serves
    planner_cost: int  # the network cost of the plan's own assignments

    @property
    def equal(self) -> bool:
        return (self.lp.integral and self.network_arcs == self.planner_arcs
                and (self.lp.flow, self.lp.cost) == (self.planner_flow, self.planner_cost))


@dataclass(frozen=True)
class PlanningResult:
    sessions: int
    pair_sessions: int
    sessions_with_options: int
    trainers: int
    options: int
    load_seconds: float
    load_statements: int
    plan_seconds: float  # median of TIMED_RUNS
    plan_seconds_runs: tuple[float, ...]
    plans_identical: bool
    rss_growth_mb: float | None  # None where the kernel does not let us reset the peak
    python_peak_mb: float
    planner: Plan
    greedy: Plan
    greedy_seconds: float
    check: OptimumCheck

    @property
    def peak_mb(self) -> float:
        return max(self.python_peak_mb, self.rss_growth_mb or 0.0)


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
    # Elsewhere only the lifetime peak is known: growth shows only if this run sets a new peak.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return grown / 1024 if grown > 0 else None


def _python_peak_mb(run: Callable[[], None]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


# -- optimality -------------------------------------------------------------------------------------


def check_optimum(sessions: list[SessionToPlan], limits: dict[int, TrainerLimits], plan: Plan) -> OptimumCheck:
    """HiGHS on the planner's single-trainer network, against the plan's own single-trainer assignments."""
    # The very network plan_period solved (pairs placed first, then the single-trainer flow).
    network, _, _, load = single_trainer_network(sessions, limits)
    singles = [s for s in sessions if s.trainers_needed == 1]

    # What the plan delivers on that network: travel on each option arc, and the k-th extra session
    # of a trainer costing their load so far plus k (planning.py's workload-balance arcs).
    single_ids = {s.intervention_id for s in singles}
    chosen = [a for a in plan.assignments if a.intervention_id in single_ids]
    travel = sum(round(a.km * TRAVEL_UNIT_PER_KM) * network.travel_weight for a in chosen)
    extra = Counter(a.trainer_id for a in chosen)
    balance = sum(load.get(trainer_id, 0) * count + count * (count + 1) // 2 for trainer_id, count in extra.items())
    return OptimumCheck(lp_optimum(network), network.arc_count, network.node_count, plan.flow_arcs,
                        len({a.intervention_id for a in chosen}), travel + balance)


# -- the benchmark ----------------------------------------------------------------------------------


def bench_planning(session: Session, engine: Engine, *, date_from: date, date_to: date, now: datetime
                   ) -> PlanningResult:
    """Loads the month's instance, plans it (timed, then traced), runs the baseline and checks the optimum."""
    started = time.perf_counter()
    with StatementCounter(engine) as counter:
        problem = load_planning_problem(session, date_from=date_from, date_to=date_to, departement_codes=None,
                                        force=None, now=now)
    load_seconds = time.perf_counter() - started
    sessions, limits = problem.sessions, problem.limits

    runs: list[float] = []
    plans: list[Plan] = []

    def timed_run() -> None:
        begun = time.perf_counter()
        plans.append(plan_period(sessions, limits))
        runs.append(time.perf_counter() - begun)

    rss_growth = _rss_growth_mb(timed_run)
    for _ in range(TIMED_RUNS - 1):
        timed_run()
    python_peak = _python_peak_mb(lambda: plan_period(sessions, limits))
    planner = plans[0]

    begun = time.perf_counter()
    greedy = plan_greedy(sessions, limits)
    greedy_seconds = time.perf_counter() - begun

    return PlanningResult(
        sessions=len(sessions), pair_sessions=sum(1 for s in sessions if s.trainers_needed > 1),
        sessions_with_options=sum(1 for s in sessions if s.options),
        trainers=len(limits), options=sum(len(s.options) for s in sessions),
        load_seconds=load_seconds, load_statements=counter.count,
        plan_seconds=statistics.median(runs), plan_seconds_runs=tuple(runs),
        plans_identical=all(plan.assignments == planner.assignments for plan in plans),
        rss_growth_mb=rss_growth, python_peak_mb=python_peak, planner=planner, greedy=greedy,
        greedy_seconds=greedy_seconds, check=check_optimum(sessions, limits, planner))
