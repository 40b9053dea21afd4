"""The exact planner: single and two-trainer sessions in one CP-SAT model, at their real times.

A session is served or not. Served, it has exactly `trainers_needed` distinct trainers, all at one start
(a pair shares its start: one boolean per start of a pair, the options at that start sum to twice it).
Each option (trainer, start) occupies the trainer from its start to its end; for one trainer, two chosen
options never collide by the very rule the offers apply (`availability.BusyPeriod.collides`): their
intervals, each widened by the trainer's travel to its place, must not overlap, except at one
establishment, where only the sessions themselves must not overlap. So several sessions fit in a day
(14 h and 16 h at one school), and 11 h 30 and 12 h never go to one trainer. Weekly and monthly limits
count what is already booked (`TrainerLimits`); a week across two months is bound by both, exactly.

The collisions are written as cliques, not pairs. For each trainer, a sweep over the widened intervals
yields the maximal sets that all overlap at one moment; options of different places in such a set
exclude each other, so the set becomes one "at most one" over its places (a place with several options
there stands for them through one boolean each of them implies: two classes of one school may still
follow each other). A sweep over the plain intervals of each trainer and place does the same inside a
school. On the national month (71,000 options) the collisions take 23,800 such constraints where the
pairwise form takes 173,500 (one per colliding pair of a trainer's options of two sessions; counted, not
timed). Interval variables with NoOverlap cannot say "no travel inside one school" without doubling every
interval.

The objective is lexicographic, as before: most sessions served, then least travel, then workload
balance. It is solved in two stages rather than as one weighted sum: first the number of sessions
served alone, whose optimum (or bound, and so the gap) is then about sessions, the figure coordinators
read, and which CP-SAT proves quickly; then, with at least that many sessions served, travel in
hectometres times a weight above any workload difference, plus the workload cost (the k-th extra
session of a trainer costs their load so far plus k). A single weighted sum needs coefficients the size
of all travel times the number of sessions, and its gap says nothing about sessions.

Sessions that share no trainer, even through others, are independent: each such component is solved
apart (a département and force, mostly; small ones gathered into one model, as each solve costs CP-SAT
a few hundredths of a second), and the plan is optimal when every part is. The time limit is CP-SAT's
deterministic time, not wall time, with one worker and a fixed seed: a preview and its sending, built
from the same data, find the same plan whatever the machine's load (`plan_builder.plan_fingerprint`);
the parts are solved two at a time (the machine's two cores), each with a time fixed in advance.
The first-come-first-served plan (`plan_greedy`, a fifth of the flow planner's time for as good a start),
stripped of what the exact rules refuse, is the starting hint, and what a part falls back on if stopped
before any plan of its own; a part whose hint already serves every session that has a way to be served
needs no stage 1 (most parts of a month).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from ortools.sat.python import cp_model

from app.domain.availability import travel_minutes_for
from app.domain.planning import (
    NO_CAPACITY,
    NO_OPTION,
    NO_PAIR,
    TRAVEL_UNIT_PER_KM,
    Option,
    Plan,
    PlannedAssignment,
    SessionToPlan,
    SolveReport,
    TrainerLimits,
    month_of,
    week_of,
)

# Seconds of CP-SAT's deterministic time (close to seconds on this machine) for both stages.
DEFAULT_TIME_LIMIT = 5.0
DEFAULT_WORKERS = 1
# Parts solved at once: the machine's two cores.
DEFAULT_THREADS = 2
# Stage 1 may use this share of a part's time; stage 2 gets the rest (at least a fifth).
STAGE_ONE_SHARE = 0.7
MINIMUM_PART_TIME = 0.2
BUNDLE_OPTIONS = 600
SEED = 2026


@dataclass(frozen=True)
class Choice:
    """One option of one session in the model: its variable and what the collision rule needs."""

    session: SessionToPlan
    option: Option
    index: int  # of its boolean in the model
    leave: int  # minutes since the epoch: start minus travel
    start: int
    end: int
    back: int  # end plus travel


def _minutes(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def maximal_cliques(intervals: Iterable[tuple[int, int, int]]) -> Iterator[list[int]]:
    """The maximal sets of half-open intervals (low, high, key) with a common point, of two or more:
    every pair that overlaps is in at least one of them (an interval graph's cliques)."""
    events: list[tuple[int, int, int]] = []
    for low, high, key in intervals:
        events.append((low, 1, key))
        events.append((high, 0, key))
    events.sort()  # at one moment, ends before starts: touching intervals do not overlap
    active: dict[int, None] = {}
    grew = False
    for _moment, kind, key in events:
        if kind:
            active[key] = None
            grew = True
        else:
            if grew and len(active) > 1:
                yield list(active)
            grew = False
            del active[key]


class ExactModel:
    """The CP-SAT model of a planning problem, kept so that a second solver can read the same constraints."""

    def __init__(self, sessions: list[SessionToPlan], limits: dict[int, TrainerLimits]):
        self.model = cp_model.CpModel()
        self.sessions = sessions
        self.limits = limits
        self.choices: list[Choice] = []
        self.variables: list[cp_model.IntVar] = []
        self.served_literals: list[cp_model.IntVar] = []  # their sum: sessions served
        self.starts_of: dict[int, dict[datetime, cp_model.IntVar]] = {}  # pair session → start → its boolean
        self.unserved: dict[int, str] = {}
        # The linear constraints over 0/1 variables, as (coefficients by variable index, low, high): what
        # HiGHS solves in the benchmark and the tests, exactly the constraints given to CP-SAT.
        self.rows: list[tuple[dict[int, int], int, int]] = []
        self.stats: dict[str, int] = defaultdict(int)
        self.served_indexes: list[int] = []  # the booleans whose sum is the number of sessions served
        self.served_by_session: dict[int, list[int]] = {}  # those of each session (at most one is true)
        self._build()

    # -- variables and constraints ---------------------------------------------------------------------

    def _bool(self) -> cp_model.IntVar:
        variable = self.model.new_bool_var("")
        self.variables.append(variable)
        return variable

    def _row(self, terms: dict[int, int], low: int, high: int) -> None:
        self.rows.append((terms, low, high))
        expression = cp_model.LinearExpr.weighted_sum([self.variables[index] for index in terms], list(terms.values()))
        self.model.add_linear_constraint(expression, low, high)

    def _implies(self, index: int, other: int) -> None:
        self.rows.append(({index: 1, other: -1}, -1, 0))
        self.model.add_implication(self.variables[index], self.variables[other])

    def _at_most_one(self, indexes: list[int]) -> None:
        self.rows.append(({index: 1 for index in indexes}, 0, 1))
        self.model.add_at_most_one([self.variables[index] for index in indexes])
        self.stats["at_most_one_literals"] += len(indexes)

    def _choice(self, session: SessionToPlan, option: Option) -> Choice:
        self._bool()
        travel = travel_minutes_for(option.km)
        start = _minutes(option.starts_at)
        end = start + int(session.duration.total_seconds()) // 60
        choice = Choice(session, option, len(self.variables) - 1, start - travel, start, end, end + travel)
        self.choices.append(choice)
        return choice

    def _build(self) -> None:
        for session in self.sessions:
            if not session.options:
                self.unserved[session.intervention_id] = NO_OPTION
                continue
            if session.trainers_needed <= 1:
                self._single(session)
            else:
                self._group(session)
        self.stats["options"] = len(self.choices)
        self._collisions()
        self._limits()

    def _single(self, session: SessionToPlan) -> None:
        best: dict[tuple[int, datetime], Option] = {}
        for option in session.options:
            key = (option.trainer_id, option.starts_at)
            if key not in best or option.km < best[key].km:
                best[key] = option
        choices = [self._choice(session, option) for option in best.values()]
        self._at_most_one([c.index for c in choices])
        self.served_indexes.extend(c.index for c in choices)
        self.served_by_session[session.intervention_id] = [c.index for c in choices]

    def _group(self, session: SessionToPlan) -> None:
        """Exactly `trainers_needed` distinct trainers at one start, or nobody."""
        needed = session.trainers_needed
        by_start: dict[datetime, dict[int, Option]] = defaultdict(dict)
        for option in session.options:
            current = by_start[option.starts_at].get(option.trainer_id)
            if current is None or option.km < current.km:
                by_start[option.starts_at][option.trainer_id] = option
        starts = {}
        for starts_at in sorted(by_start):
            options = by_start[starts_at]
            if len(options) < needed:
                continue
            chosen = self._bool()
            starts[starts_at] = chosen
            index = len(self.variables) - 1
            choices = [self._choice(session, option) for option in options.values()]
            self._row({**{c.index: 1 for c in choices}, index: -needed}, 0, 0)
            self.served_indexes.append(index)
        if not starts:
            self.unserved[session.intervention_id] = NO_PAIR
            return
        self._at_most_one([variable.Index() for variable in starts.values()])
        self.starts_of[session.intervention_id] = starts
        self.served_by_session[session.intervention_id] = [variable.Index() for variable in starts.values()]

    def _collisions(self) -> None:
        by_trainer: dict[int, list[Choice]] = defaultdict(list)
        for choice in self.choices:
            by_trainer[choice.option.trainer_id].append(choice)
        for trainer_id in sorted(by_trainer):
            choices = by_trainer[trainer_id]
            place_literal: dict[tuple, int] = {}
            # Different places: widened intervals (travel) must not overlap.
            for clique in maximal_cliques((c.leave, c.back, n) for n, c in enumerate(choices)):
                places: dict[object, list[int]] = defaultdict(list)
                for n in clique:
                    place = choices[n].session.place_key
                    # A session whose place is unknown is a place of its own.
                    places[place if place is not None else ("session", choices[n].session.intervention_id)].append(n)
                if len(places) < 2:
                    continue
                literals = []
                for members in places.values():
                    if len(members) == 1:
                        literals.append(choices[members[0]].index)
                        continue
                    key = tuple(sorted(choices[n].index for n in members))
                    if key not in place_literal:
                        self._bool()
                        place_literal[key] = len(self.variables) - 1
                        for index in key:  # each option at that place implies the place's boolean
                            self._implies(index, place_literal[key])
                        self.stats["place_literals"] += 1
                    literals.append(place_literal[key])
                self._at_most_one(literals)
                self.stats["travel_cliques"] += 1
            # One place: the sessions themselves must not overlap.
            by_place: dict[object, list[int]] = defaultdict(list)
            for n, choice in enumerate(choices):
                if choice.session.place_key is not None:
                    by_place[choice.session.place_key].append(n)
            for members in by_place.values():
                sessions = {choices[n].session.intervention_id for n in members}
                if len(sessions) < 2:
                    continue
                for clique in maximal_cliques((choices[n].start, choices[n].end, n) for n in members):
                    self._at_most_one([choices[n].index for n in clique])
                    self.stats["school_cliques"] += 1

    def _limits(self) -> None:
        groups: dict[tuple, list[Choice]] = defaultdict(list)
        for choice in self.choices:
            trainer_id, day = choice.option.trainer_id, choice.option.day
            groups[("week", trainer_id, week_of(day))].append(choice)
            groups[("month", trainer_id, month_of(day))].append(choice)
        for key in sorted(groups):
            kind, trainer_id, period = key
            limits = self.limits.get(trainer_id)
            if limits is None:
                continue
            cap = limits.week_remaining(period) if kind == "week" else limits.month_remaining(period)
            choices = groups[key]
            # A trainer takes one option per session at most: a limit above the sessions cannot bind.
            if len({c.session.intervention_id for c in choices}) <= cap:
                continue
            self._row({c.index: 1 for c in choices}, 0, cap)
            self.stats[f"{kind}_limits"] += 1

    # -- objectives --------------------------------------------------------------------------------------

    def travel_cost(self, choice: Choice) -> int:
        return round(choice.option.km * TRAVEL_UNIT_PER_KM)

    def balance_terms(self) -> tuple[list[tuple[int, int]], dict[int, int]]:
        """Booleans b(t, k) (the k-th extra session of trainer t) and their costs (load + k), with each
        trainer's sessions equal to the sum of their b: (index, cost) pairs; and for each session the weight
        of a hectometre of its travel, just above the largest workload cost of its component (its own
        lexicographic order: the components of one model are independent, so small weights suffice)."""
        if hasattr(self, "_balance"):
            return self._balance
        by_trainer: dict[int, list[Choice]] = defaultdict(list)
        for choice in self.choices:
            by_trainer[choice.option.trainer_id].append(choice)
        terms: list[tuple[int, int]] = []
        costliest: dict[int, int] = {}
        for trainer_id in sorted(by_trainer):
            choices = by_trainer[trainer_id]
            limits = self.limits.get(trainer_id)
            load = limits.load if limits else 0
            most = len({c.session.intervention_id for c in choices})
            steps = []
            for k in range(1, most + 1):
                self._bool()
                steps.append(len(self.variables) - 1)
                terms.append((steps[-1], load + k))
            costliest[trainer_id] = load + most
            self._row({**{c.index: 1 for c in choices}, **{s: -1 for s in steps}}, 0, 0)
        weights: dict[int, int] = {}
        for part in components(self.sessions):
            trainers = {o.trainer_id for item in part for o in item.options}
            # At most one assignment per trainer needed of each session, each costing at most the costliest step.
            weight = sum(item.trainers_needed for item in part) * max(
                (costliest.get(t, 0) for t in trainers), default=0) + 1
            weights.update((item.intervention_id, weight) for item in part)
        self._balance = (terms, weights)
        return self._balance
        by_trainer: dict[int, list[Choice]] = defaultdict(list)
        for choice in self.choices:
            by_trainer[choice.option.trainer_id].append(choice)
        terms: list[tuple[int, int]] = []
        costliest = 0
        for trainer_id in sorted(by_trainer):
            choices = by_trainer[trainer_id]
            limits = self.limits.get(trainer_id)
            load = limits.load if limits else 0
            most = len({c.session.intervention_id for c in choices})
            steps = []
            for k in range(1, most + 1):
                self._bool()
                steps.append(len(self.variables) - 1)
                terms.append((steps[-1], load + k))
                costliest = max(costliest, load + k)
            self._row({**{c.index: 1 for c in choices}, **{s: -1 for s in steps}}, 0, 0)
        weight = len(self.sessions) * costliest + 1  # one hectometre outweighs any balance difference
        self._balance = (terms, weight)
        return self._balance


def hint_values(planned: dict[int, list[PlannedAssignment]], model: ExactModel) -> dict[int, int]:
    """A plan (the flow's, by session) as values of the model's booleans, without the sessions the exact
    rules refuse: a feasible start."""
    by_key = {(c.session.intervention_id, c.option.trainer_id, c.option.starts_at): c for c in model.choices}
    taken: dict[int, list[Choice]] = defaultdict(list)
    counts: dict[tuple, int] = defaultdict(int)
    values: dict[int, int] = {}
    for session in model.sessions:
        assignments = planned.get(session.intervention_id)
        if not assignments:
            continue
        choices = [by_key.get((session.intervention_id, a.trainer_id, a.starts_at)) for a in assignments]
        if any(c is None for c in choices):
            continue
        if any(_collides(c, other) for c in choices for other in taken[c.option.trainer_id]):
            continue
        keys = [(("week", c.option.trainer_id, week_of(c.option.day)), ("month", c.option.trainer_id,
                                                                          month_of(c.option.day))) for c in choices]
        if any(c.option.trainer_id in model.limits
               and (counts[week] >= model.limits[c.option.trainer_id].week_remaining(week[2])
                    or counts[month] >= model.limits[c.option.trainer_id].month_remaining(month[2]))
               for c, (week, month) in zip(choices, keys, strict=True)):
            continue
        for c, (week, month) in zip(choices, keys, strict=True):
            taken[c.option.trainer_id].append(c)
            counts[week] += 1
            counts[month] += 1
            values[c.index] = 1
        if session.intervention_id in model.starts_of:
            values[model.starts_of[session.intervention_id][choices[0].option.starts_at].Index()] = 1
    return values


def _collides(one: Choice, other: Choice) -> bool:
    """`BusyPeriod.collides` on two options of one trainer."""
    if one.session.place_key is not None and one.session.place_key == other.session.place_key:
        return one.start < other.end and other.start < one.end
    return one.leave < other.back and other.leave < one.back


def _hint(cp: cp_model.CpModel, values: dict[int, int]) -> None:
    hint = cp.proto.solution_hint
    hint.vars.extend(values.keys())
    hint.values.extend(values.values())


def _solver(seconds: float, workers: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = SEED
    solver.parameters.num_workers = workers
    if workers > 1:
        solver.parameters.interleave_search = True  # deterministic with several workers
    solver.parameters.max_deterministic_time = max(seconds, 0.05)
    # A guard in wall time, far enough not to cut a run short on a loaded machine.
    solver.parameters.max_time_in_seconds = max(seconds, 0.05) * 4 + 5
    # Hundreds of small models: presolve once, without the symmetry and probing passes that cost each solve
    # more than its search (measured on the national month: 13.7 s of CPU with them, 8.2 s without).
    solver.parameters.symmetry_level = 0
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.max_presolve_iterations = 1
    return solver


def components(sessions: list[SessionToPlan]) -> list[list[SessionToPlan]]:
    """Sessions that share no trainer, even through others, are planned apart: each part's optimum makes
    the whole's (the objective is a sum over parts). In the order of their first session."""
    parent = list(range(len(sessions)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    first_of_trainer: dict[int, int] = {}
    for n, session in enumerate(sessions):
        for option in session.options:
            other = first_of_trainer.setdefault(option.trainer_id, n)
            a, b = root(n), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    parts: dict[int, list[SessionToPlan]] = defaultdict(list)
    for n, session in enumerate(sessions):
        parts[root(n)].append(session)
    return list(parts.values())


def bundles(parts: list[list[SessionToPlan]], size: int) -> list[list[SessionToPlan]]:
    """Components gathered, in order, into models of about `size` options: a solve costs CP-SAT a few
    hundredths of a second whatever its size, and hundreds of components would pay it hundreds of times."""
    gathered: list[list[SessionToPlan]] = []
    options = 0
    for part in parts:
        part_options = sum(len(s.options) for s in part)
        if not gathered or options + part_options > size:
            gathered.append([])
            options = 0
        gathered[-1].extend(part)
        options += part_options
    return gathered


@dataclass
class _Part:
    """One component's answer."""

    values: list[int]
    model: ExactModel
    served: int
    served_bound: int
    served_optimal: bool
    cost: int
    cost_bound: int
    cost_optimal: bool
    spent: float = 0.0  # deterministic time of both stages


def _solve_part(model: ExactModel, first_limit: float, second_limit: float, workers: int,
                hint: dict[int, list[PlannedAssignment]]) -> _Part:
    """Stage 1 within `first_limit`, then stage 2 on the same model within `second_limit` (deterministic
    time); a stage stopped before any plan keeps the plan it started from (serving nothing is a plan)."""
    terms, weights = model.balance_terms()
    cp = model.model
    served = cp_model.LinearExpr.sum([model.variables[i] for i in model.served_indexes])
    hinted = hint_values(hint, model)
    _hint(cp, {index: hinted.get(index, 0) for index in sorted({*model.served_indexes,
                                                                *(c.index for c in model.choices)})})

    # Stage 1: most sessions served. When the hint already serves every session that has a way to be served,
    # that is the optimum, proven without a solve (most parts of a month are so).
    first = [hinted.get(index, 0) for index in range(len(model.variables))]
    best_served = sum(first[index] for index in model.served_indexes)
    served_bound, served_optimal, first_spent = len(model.sessions) - len(model.unserved), True, 0.0
    if best_served < served_bound:
        cp.maximize(served)
        solver = _solver(first_limit, workers)
        status = solver.solve(cp)
        first_spent = solver.deterministic_time
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            first = [int(v) for v in solver.boolean_values(model.variables)]
            best_served = round(solver.objective_value)
            served_bound = max(round(solver.best_objective_bound), best_served)
        elif status != cp_model.UNKNOWN:  # unknown: no plan in time, the hint's stays (feasible by construction)
            raise RuntimeError(f"CP-SAT: {solver.status_name(status)}")
        served_optimal = status == cp_model.OPTIMAL

    # Stage 2: at least that many, least travel then balance.
    cost_variables = [model.variables[c.index] for c in model.choices] + [model.variables[i] for i, _ in terms]
    cost_weights = ([weights[c.session.intervention_id] * model.travel_cost(c) for c in model.choices]
                    + [k for _, k in terms])
    # At least as many in each component as stage 1 served there: the same plans when stage 1 is proven (each
    # component is then at its own most), and the components stay apart for the search.
    for part in components(model.sessions):
        indexes = [i for item in part for i in model.served_by_session.get(item.intervention_id, ())]
        if indexes:
            cp.add(cp_model.LinearExpr.sum([model.variables[i] for i in indexes]) >= sum(first[i] for i in indexes))
    if first_spent:
        cp.clear_hints()
        _hint(cp, dict(enumerate(first)))
    cp.minimize(cp_model.LinearExpr.weighted_sum(cost_variables, cost_weights))
    second_solver = _solver(second_limit, workers)
    second = second_solver.solve(cp)
    if second in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = [int(v) for v in second_solver.boolean_values(model.variables)]
        cost, cost_bound = round(second_solver.objective_value), round(second_solver.best_objective_bound)
        cost_optimal = second == cp_model.OPTIMAL
    else:
        values = first
        cost = sum(w for v, w in zip(cost_variables, cost_weights, strict=True) if values[v.Index()])
        cost_bound, cost_optimal = 0, False
    return _Part(values, model, best_served, served_bound, served_optimal, cost, cost_bound,
                 cost_optimal, first_spent + second_solver.deterministic_time)


def solve_exact(sessions: list[SessionToPlan], limits: dict[int, TrainerLimits], *,
                time_limit: float = DEFAULT_TIME_LIMIT, workers: int = DEFAULT_WORKERS,
                hint: Plan | None = None, threads: int = DEFAULT_THREADS) -> Plan:
    """The exact plan, component by component, on `threads` threads (CP-SAT releases the interpreter while
    it solves). Each part may use its share of the time limit (in proportion to its options) four times
    over for each stage, but never less than `MINIMUM_PART_TIME` for stage 1 and twice that for stage 2
    (a bundle of small parts stopped after a hundredth of a second left its cost 17 % above its bound; a
    part of the national month with 0.2 s ended one unit of cost short of its proof). The shares are fixed
    before solving, so the plan does not depend on which thread finishes first. Most parts are proven long
    before their limit: the limit binds only when several are hard, and the whole may then take longer."""
    started = time.perf_counter()
    parts = bundles(sorted(components(sessions), key=lambda part: (sum(len(s.options) for s in part),
                                                                   part[0].intervention_id)), BUNDLE_OPTIONS)
    total_options = max(sum(len(s.options) for s in sessions), 1)
    planned: dict[int, list[PlannedAssignment]] = defaultdict(list)
    for assignment in hint.assignments if hint is not None else ():
        planned[assignment.intervention_id].append(assignment)

    def solve_part(part: list[SessionToPlan]) -> _Part:
        model = ExactModel(part, limits)
        if not model.choices:
            return _Part([0] * len(model.variables), model, 0, 0, True, 0, 0, True)
        share = time_limit * sum(len(s.options) for s in part) / total_options
        return _solve_part(model, min(max(share * 4, MINIMUM_PART_TIME), max(time_limit, MINIMUM_PART_TIME)),
                           max(share * 4, MINIMUM_PART_TIME * 2), workers, planned)

    if threads > 1 and len(parts) > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            answers = list(pool.map(solve_part, parts[::-1]))[::-1]  # largest first: the threads end together
    else:
        answers = [solve_part(part) for part in parts]
    stats: dict[str, int] = defaultdict(int)
    for answer in answers:
        for key, value in answer.model.stats.items():
            stats[key] += value
    stats["components"] = len(components(sessions))
    stats["models"] = len(parts)
    plan = _plan_from(answers, sessions, limits)
    served_optimal = all(a.served_optimal for a in answers)
    cost_optimal = all(a.cost_optimal for a in answers)
    plan.report = SolveReport(
        status="optimal" if served_optimal and cost_optimal else "feasible",
        served=sum(a.served for a in answers), served_bound=sum(a.served_bound for a in answers),
        served_optimal=served_optimal, cost=sum(a.cost for a in answers),
        cost_bound=sum(a.cost_bound for a in answers), cost_optimal=cost_optimal,
        seconds=time.perf_counter() - started, time_limit=time_limit,
        variables=sum(len(a.model.variables) for a in answers), constraints=sum(len(a.model.rows) for a in answers),
        stats=dict(stats))
    return plan


def _plan_from(answers: list[_Part], sessions: list[SessionToPlan], limits: dict[int, TrainerLimits]) -> Plan:
    assignments = [PlannedAssignment(c.session.intervention_id, c.option.trainer_id, c.option.starts_at, c.option.km)
                   for answer in answers for c in answer.model.choices if answer.values[c.index]]
    assignments.sort(key=lambda a: (a.intervention_id, a.trainer_id))
    load = {trainer_id: trainer.load for trainer_id, trainer in limits.items()}
    for assignment in assignments:
        load[assignment.trainer_id] = load.get(assignment.trainer_id, 0) + 1
    served = {a.intervention_id for a in assignments}
    unserved: dict[int, str] = {}
    for answer in answers:
        unserved.update(answer.model.unserved)
    for session in sessions:
        if session.intervention_id not in served and session.intervention_id not in unserved:
            unserved[session.intervention_id] = NO_CAPACITY
    return Plan(assignments, unserved, round(sum(a.km for a in assignments), 1), load)
