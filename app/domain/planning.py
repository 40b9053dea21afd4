"""Planning a period: assign trainers and start times to as many sessions as possible.

`plan_period` is exact: single and two-trainer sessions in one CP-SAT model at their real start and
end times, travel between places included, weekly and monthly limits, most sessions served, then
least travel, then balanced workload (`app/domain/exact_planning.py` says how). Its `Plan` says
whether it is proven optimal or, stopped by the time limit, how far from the optimum it may be.

`plan_half_days`, the planner before it, stays as the baseline the benchmark compares with. It is a
min-cost maximum flow (OR-Tools `SimpleMinCostFlow`):

    source → session (capacity: trainers needed)
           → (session, trainer) (capacity 1: a trainer counts once per session)
           → (trainer, half-day) (capacity 1: one session per trainer and half-day)
           → (trainer, week ∩ month) (capacity: what the weekly limit still allows)
           → (trainer, month) (capacity: what the monthly limit still allows)
           → trainer → sink, through parallel arcs of rising cost (workload balance).

Sessions that need two trainers are placed before the flow, fewest options first, each on the slot
where a pair costs the least travel; the flow then plans the single-trainer sessions on what is left.
Half-days forbid two sessions in one afternoon at one school, and ignore travel between a morning
and an afternoon session: the exact model has neither limitation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from ortools.graph.python import min_cost_flow

from app.domain.vocabulary import N_

# Travel is counted in hectometres; its weight is set per instance (see `travel_weight`).
TRAVEL_UNIT_PER_KM = 10


@dataclass(frozen=True)
class Option:
    """One way to staff a session: this trainer, starting then (in that half-day), so far away."""

    trainer_id: int
    day: date
    half_day: str  # "am" or "pm", in the place's local time
    starts_at: datetime
    km: float

    @property
    def slot(self) -> tuple[int, date, str]:
        return (self.trainer_id, self.day, self.half_day)


@dataclass
class SessionToPlan:
    intervention_id: int
    trainers_needed: int
    options: list[Option]
    # First come, first served: the order used by the greedy baseline.
    arrival_rank: int = 0
    # How long it lasts and where (the establishment): the exact planner's collisions, as the offers'.
    duration: timedelta = timedelta(hours=1)
    place_key: int | None = None


@dataclass
class TrainerLimits:
    trainer_id: int
    # Sessions still allowed in each ISO week (year, week) and month (year, month), after those
    # already accepted; missing keys mean the full limit.
    weekly_limit: int
    monthly_limit: int
    week_used: dict[tuple[int, int], int] = field(default_factory=dict)
    month_used: dict[tuple[int, int], int] = field(default_factory=dict)
    load: int = 0  # sessions already accepted in the period, for balance

    def week_remaining(self, week: tuple[int, int]) -> int:
        return max(self.weekly_limit - self.week_used.get(week, 0), 0)

    def month_remaining(self, month: tuple[int, int]) -> int:
        return max(self.monthly_limit - self.month_used.get(month, 0), 0)


@dataclass(frozen=True)
class PlannedAssignment:
    intervention_id: int
    trainer_id: int
    starts_at: datetime
    km: float


@dataclass
class SolveReport:
    """What the exact planner proved. Stage 1 maximises the sessions served (`served`, with the solver's
    best bound `served_bound`); stage 2, with that many served, minimises the cost (travel, then balance)."""

    status: str  # "optimal": both stages proven optimal; else "feasible"
    served: int
    served_bound: int
    served_optimal: bool = True
    cost: int = 0
    cost_bound: int = 0
    cost_optimal: bool = True
    seconds: float = 0.0
    time_limit: float = 0.0
    variables: int = 0
    constraints: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def served_gap(self) -> float:
        """At most this share of the optimum's sessions is missing (0 when proven)."""
        return (self.served_bound - self.served) / self.served_bound if self.served_bound else 0.0

    @property
    def cost_gap(self) -> float:
        """At most this share of the plan's cost (travel, then balance) is above the least possible."""
        return (self.cost - self.cost_bound) / self.cost if self.cost and not self.cost_optimal else 0.0


@dataclass
class Plan:
    assignments: list[PlannedAssignment]
    unserved: dict[int, str]
    total_km: float
    load: dict[int, int]
    flow_arcs: int = 0
    report: SolveReport | None = None  # the exact planner's proof; None for the flow and the greedy baseline

    @property
    def served_sessions(self) -> int:
        return len({a.intervention_id for a in self.assignments})

    @property
    def status(self) -> str | None:
        """"optimal" (proven) or "feasible" (stopped by the time limit), for the exact planner."""
        return self.report.status if self.report else None

    @property
    def objective(self) -> int:
        return self.served_sessions

    @property
    def bound(self) -> int | None:
        return self.report.served_bound if self.report else None

    @property
    def gap(self) -> float | None:
        """The largest share of the optimal number of sessions this plan may miss."""
        return self.report.served_gap if self.report else None

    @property
    def seconds(self) -> float | None:
        return self.report.seconds if self.report else None


def week_of(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return (iso.year, iso.week)


def month_of(day: date) -> tuple[int, int]:
    return (day.year, day.month)


# Why a session is left out of a plan: French, shown translated through vocabulary.stored_text.
NO_OPTION = N_("Aucun formateur ne remplit toutes les règles pour cette intervention.")
NO_CAPACITY = N_("Les formateurs possibles sont déjà pris sur ces créneaux ou ont atteint leurs limites.")
NO_PAIR = N_("Pas deux formateurs disponibles au même créneau pour une intervention en binôme.")


class _Capacity:
    """What each trainer can still take: per half-day, per week-in-month fragment, per month."""

    def __init__(self, limits: dict[int, TrainerLimits], days_by_trainer: dict[int, set[date]]):
        self.limits = limits
        self.half_day_used: set[tuple[int, date, str]] = set()
        self.fragment_cap: dict[tuple[int, tuple[int, int], tuple[int, int]], int] = {}
        self.month_cap: dict[tuple[int, tuple[int, int]], int] = {}
        for trainer_id, days in days_by_trainer.items():
            trainer = limits[trainer_id]
            by_week: dict[tuple[int, int], set[tuple[int, int]]] = defaultdict(set)
            for day in days:
                by_week[week_of(day)].add(month_of(day))
                self.month_cap[(trainer_id, month_of(day))] = trainer.month_remaining(month_of(day))
            for week, months in by_week.items():
                remaining = trainer.week_remaining(week)
                # A week across two months is split between them so the two never exceed the limit.
                ordered = sorted(months)
                share = remaining // len(ordered)
                for index, month in enumerate(ordered):
                    extra = 1 if index < remaining - share * len(ordered) else 0
                    self.fragment_cap[(trainer_id, week, month)] = share + extra

    def fragment(self, option: Option) -> tuple[int, tuple[int, int], tuple[int, int]]:
        return (option.trainer_id, week_of(option.day), month_of(option.day))

    def can_take(self, option: Option) -> bool:
        return (option.slot not in self.half_day_used
                and self.fragment_cap[self.fragment(option)] > 0
                and self.month_cap[(option.trainer_id, month_of(option.day))] > 0)

    def take(self, option: Option) -> None:
        self.half_day_used.add(option.slot)
        self.fragment_cap[self.fragment(option)] -= 1
        self.month_cap[(option.trainer_id, month_of(option.day))] -= 1


def _capacity_for(sessions: Iterable[SessionToPlan], limits: dict[int, TrainerLimits]) -> _Capacity:
    days: dict[int, set[date]] = defaultdict(set)
    for session in sessions:
        for option in session.options:
            days[option.trainer_id].add(option.day)
    return _Capacity(limits, days)


def _place_pairs(pairs: list[SessionToPlan], capacity: _Capacity) -> tuple[list[PlannedAssignment], dict[int, str]]:
    assignments: list[PlannedAssignment] = []
    unserved: dict[int, str] = {}
    for session in sorted(pairs, key=lambda s: (len(s.options), s.arrival_rank)):
        by_slot: dict[tuple[date, str, datetime], list[Option]] = defaultdict(list)
        for option in session.options:
            if capacity.can_take(option):
                by_slot[(option.day, option.half_day, option.starts_at)].append(option)
        best: list[Option] | None = None
        for options in by_slot.values():
            distinct = {}
            for option in sorted(options, key=lambda o: o.km):
                distinct.setdefault(option.trainer_id, option)
            chosen = list(distinct.values())[: session.trainers_needed]
            if len(chosen) == session.trainers_needed and (
                best is None or sum(o.km for o in chosen) < sum(o.km for o in best)
            ):
                best = chosen
        if best is None:
            unserved[session.intervention_id] = NO_OPTION if not session.options else NO_PAIR
            continue
        for option in best:
            capacity.take(option)
            assignments.append(PlannedAssignment(session.intervention_id, option.trainer_id, option.starts_at,
                                                 option.km))
    return assignments, unserved


def single_trainer_network(sessions: list[SessionToPlan], limits: dict[int, TrainerLimits]
                           ) -> tuple[FlowNetwork, list[PlannedAssignment], dict[int, str], dict[int, int]]:
    """Pairs placed first, then the flow network of the single-trainer sessions on what is left.

    Also used by the benchmark, to prove the network's optimum with an independent solver."""
    capacity = _capacity_for(sessions, limits)
    pairs = [s for s in sessions if s.trainers_needed > 1]
    singles = [s for s in sessions if s.trainers_needed == 1]
    assignments, unserved = _place_pairs(pairs, capacity)
    load = {trainer_id: trainer.load for trainer_id, trainer in limits.items()}
    for assignment in assignments:
        load[assignment.trainer_id] += 1
    return build_flow_network(singles, capacity, load), assignments, unserved, load


def plan_period(sessions: list[SessionToPlan], limits: dict[int, TrainerLimits], *,
                time_limit: float | None = None, workers: int | None = None) -> Plan:
    """The optimal plan: most sessions served, then least travel, then balanced workload (exact, CP-SAT);
    `time_limit` in seconds of the solver's deterministic time, shared by its two stages."""
    from app.domain.exact_planning import DEFAULT_TIME_LIMIT, DEFAULT_WORKERS, solve_exact

    return solve_exact(sessions, limits, time_limit=DEFAULT_TIME_LIMIT if time_limit is None else time_limit,
                       workers=DEFAULT_WORKERS if workers is None else workers, hint=plan_greedy(sessions, limits))


def plan_half_days(sessions: list[SessionToPlan], limits: dict[int, TrainerLimits]) -> Plan:
    """The flow planner: pairs placed first, one session per trainer and half-day, optimal on what is left."""
    singles = [s for s in sessions if s.trainers_needed == 1]
    network, assignments, unserved, load = single_trainer_network(sessions, limits)
    flows = network.solve()
    for session in singles:
        if not session.options:
            unserved[session.intervention_id] = NO_OPTION
    chosen_ids = set()
    for arc_index, option, session_id in network.option_arcs:
        if flows[arc_index] > 0:
            assignments.append(PlannedAssignment(session_id, option.trainer_id, option.starts_at, option.km))
            load[option.trainer_id] += 1
            chosen_ids.add(session_id)
    for session in singles:
        if session.options and session.intervention_id not in chosen_ids:
            unserved[session.intervention_id] = NO_CAPACITY
    total_km = round(sum(a.km for a in assignments), 1)
    return Plan(assignments, unserved, total_km, load, flow_arcs=network.arc_count)


class FlowNetwork:
    """The arcs of the flow problem, kept so an independent LP can be solved on the very same edges."""

    def __init__(self) -> None:
        self.tails: list[int] = []
        self.heads: list[int] = []
        self.capacities: list[int] = []
        self.costs: list[int] = []
        self.node_count = 2  # 0 = source, 1 = sink
        self.option_arcs: list[tuple[int, Option, int]] = []
        self.travel_weight = 1
        self._nodes: dict[tuple, int] = {}

    SOURCE, SINK = 0, 1

    def node(self, key: tuple) -> int:
        index = self._nodes.get(key)
        if index is None:
            index = self._nodes[key] = self.node_count
            self.node_count += 1
        return index

    def arc(self, tail: int, head: int, capacity: int, cost: int = 0) -> int:
        self.tails.append(tail)
        self.heads.append(head)
        self.capacities.append(capacity)
        self.costs.append(cost)
        return len(self.tails) - 1

    @property
    def arc_count(self) -> int:
        return len(self.tails)

    def solve(self) -> np.ndarray:
        if not self.tails:
            return np.zeros(0, dtype=np.int64)
        solver = min_cost_flow.SimpleMinCostFlow()
        solver.add_arcs_with_capacity_and_unit_cost(
            np.array(self.tails, dtype=np.int32), np.array(self.heads, dtype=np.int32),
            np.array(self.capacities, dtype=np.int64), np.array(self.costs, dtype=np.int64))
        demand = sum(c for t, c in zip(self.tails, self.capacities, strict=True) if t == self.SOURCE)
        solver.set_node_supply(self.SOURCE, demand)
        solver.set_node_supply(self.SINK, -demand)
        status = solver.solve_max_flow_with_min_cost()
        if status != solver.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")
        self.maximum_flow = solver.maximum_flow()
        self.optimal_cost = solver.optimal_cost()
        return solver.flows(np.arange(self.arc_count, dtype=np.int32))


def travel_weight(sessions: list[SessionToPlan], load: dict[int, int]) -> int:
    """Just above the largest total workload cost a plan can have, so that one hectometre of travel
    outweighs any workload difference (lexicographic), with costs as small as possible: the
    solver's time grows with the size of the costs."""
    demand: dict[int, int] = defaultdict(int)
    for session in sessions:
        for trainer_id in {o.trainer_id for o in session.options}:
            demand[trainer_id] += 1
    costliest_arc = max((load.get(t, 0) + d for t, d in demand.items()), default=0)
    return len(sessions) * costliest_arc + 1


def build_flow_network(sessions: list[SessionToPlan], capacity: _Capacity, load: dict[int, int]) -> FlowNetwork:
    network = FlowNetwork()
    network.travel_weight = weight = travel_weight(sessions, load)
    trainer_demand: dict[int, int] = defaultdict(int)
    for session in sessions:
        usable = [o for o in session.options if capacity.can_take(o)]
        if not usable:
            continue
        session_node = network.node(("session", session.intervention_id))
        network.arc(network.SOURCE, session_node, session.trainers_needed)
        pair_nodes: dict[int, int] = {}
        for option in usable:
            pair_node = pair_nodes.get(option.trainer_id)
            if pair_node is None:
                pair_node = pair_nodes[option.trainer_id] = network.node(
                    ("session-trainer", session.intervention_id, option.trainer_id))
                network.arc(session_node, pair_node, 1)
            slot_node = network.node(("slot", *option.slot))
            cost = round(option.km * TRAVEL_UNIT_PER_KM) * weight
            arc_index = network.arc(pair_node, slot_node, 1, cost)
            network.option_arcs.append((arc_index, option, session.intervention_id))
        for trainer_id in pair_nodes:
            trainer_demand[trainer_id] += 1
    # Capacity arcs, once per node.
    slot_done: set[tuple] = set()
    fragment_done: set[tuple] = set()
    month_done: set[tuple] = set()
    for _, option, _ in network.option_arcs:
        fragment_key = capacity.fragment(option)
        month_key = (option.trainer_id, month_of(option.day))
        if option.slot not in slot_done:
            slot_done.add(option.slot)
            network.arc(network.node(("slot", *option.slot)), network.node(("fragment", *fragment_key)), 1)
        if fragment_key not in fragment_done:
            fragment_done.add(fragment_key)
            network.arc(network.node(("fragment", *fragment_key)), network.node(("month", *month_key)),
                        capacity.fragment_cap[fragment_key])
        if month_key not in month_done:
            month_done.add(month_key)
            network.arc(network.node(("month", *month_key)), network.node(("trainer", option.trainer_id)),
                        capacity.month_cap[month_key])
    # Workload balance: the k-th extra session of a trainer costs their load so far plus k.
    for trainer_id, demand in trainer_demand.items():
        trainer_node = network.node(("trainer", trainer_id))
        for k in range(1, demand + 1):
            network.arc(trainer_node, network.SINK, 1, load.get(trainer_id, 0) + k)
    return network


def plan_greedy(sessions: list[SessionToPlan], limits: dict[int, TrainerLimits]) -> Plan:
    """First come, first served, nearest free trainer: the baseline the planner must beat."""
    capacity = _capacity_for(sessions, limits)
    assignments: list[PlannedAssignment] = []
    unserved: dict[int, str] = {}
    load = {trainer_id: trainer.load for trainer_id, trainer in limits.items()}
    for session in sorted(sessions, key=lambda s: s.arrival_rank):
        # The earliest start at which enough distinct trainers are free, nearest ones first.
        by_start: dict[datetime, list[Option]] = defaultdict(list)
        for option in session.options:
            if capacity.can_take(option):
                by_start[option.starts_at].append(option)
        taken: list[Option] = []
        for starts_at in sorted(by_start):
            nearest: dict[int, Option] = {}
            for option in sorted(by_start[starts_at], key=lambda o: o.km):
                nearest.setdefault(option.trainer_id, option)
            if len(nearest) >= session.trainers_needed:
                taken = list(nearest.values())[: session.trainers_needed]
                break
        if not taken:
            unserved[session.intervention_id] = NO_CAPACITY if session.options else NO_OPTION
            continue
        for option in taken:
            capacity.take(option)
            load[option.trainer_id] += 1
            assignments.append(PlannedAssignment(session.intervention_id, option.trainer_id, option.starts_at,
                                                 option.km))
    return Plan(assignments, unserved, round(sum(a.km for a in assignments), 1), load)
