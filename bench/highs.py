"""An independent optimum for the planner: the LP relaxation of its flow network, solved by HiGHS.

The network matrix of a flow problem is totally unimodular, so the LP over the very same arcs has an
integral optimum equal to the min-cost maximum flow that OR-Tools finds. Solving it with another
solver (scipy's HiGHS) and another method (simplex on the LP, not a network algorithm) checks the
planner's answer on a full-size instance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array, csr_array, vstack

from app.domain.planning import FlowNetwork

# A solution value this close to an integer is that integer (HiGHS' feasibility tolerance is 1e-7).
INTEGRAL_TOLERANCE = 1e-6


@dataclass(frozen=True)
class LpOptimum:
    flow: int  # units leaving the source: trainer places filled
    cost: int  # the network's cost of that flow, computed exactly from the rounded solution
    integral: bool  # every arc's flow was an integer, as total unimodularity promises
    seconds: float


def _conservation(network: FlowNetwork) -> csr_array:
    """One row per node but the source and the sink: inflow minus outflow."""
    tails = np.asarray(network.tails, dtype=np.int64)
    heads = np.asarray(network.heads, dtype=np.int64)
    arcs = np.arange(len(tails))
    inner_heads, inner_tails = heads >= 2, tails >= 2
    rows = np.concatenate([heads[inner_heads] - 2, tails[inner_tails] - 2])
    columns = np.concatenate([arcs[inner_heads], arcs[inner_tails]])
    values = np.concatenate([np.ones(inner_heads.sum()), -np.ones(inner_tails.sum())])
    return coo_array((values, (rows, columns)), shape=(network.node_count - 2, len(tails))).tocsr()


def _solve(costs: np.ndarray, equality: csr_array, right_side: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    result = linprog(costs, A_eq=equality, b_eq=right_side, bounds=bounds, method="highs")
    if result.status != 0:
        raise RuntimeError(f"HiGHS did not solve the LP: {result.message}")
    return result.x


def lp_optimum(network: FlowNetwork) -> LpOptimum:
    """Maximum flow, then the least cost among maximum flows, on the arcs of `network`."""
    started = time.perf_counter()
    if not network.tails:
        return LpOptimum(0, 0, True, 0.0)
    costs = np.asarray(network.costs, dtype=np.int64)
    from_source = (np.asarray(network.tails) == network.SOURCE).astype(float)
    equality = _conservation(network)
    zeros = np.zeros(equality.shape[0])
    bounds = np.column_stack([np.zeros(len(costs)), np.asarray(network.capacities, dtype=float)])
    # Two lexicographic LPs rather than the unit test's single one with a "big M" weight on the flow:
    # with travel costs near 1e9 per arc, that weight would exceed 1e13 and swamp HiGHS' tolerances.
    flow = round(float(from_source @ _solve(-from_source, equality, zeros, bounds)))
    with_flow = vstack([equality, csr_array(from_source.reshape(1, -1))]).tocsr()
    solution = _solve(costs.astype(float), with_flow, np.append(zeros, flow), bounds)
    rounded = np.rint(solution)
    integral = bool(np.abs(solution - rounded).max(initial=0.0) <= INTEGRAL_TOLERANCE)
    exact_cost = int(costs @ rounded.astype(np.int64))
    return LpOptimum(flow, exact_cost, integral, time.perf_counter() - started)


@dataclass(frozen=True)
class ExactOptimum:
    """Sessions served at the optimum of the exact planner's model, by HiGHS (branch and bound), and the
    bound of its LP relaxation; summed over the model's independent parts."""

    served: int
    lp_bound: float
    parts: int
    proven: bool  # every part solved to optimality within its limit
    seconds: float


def _model_matrix(model) -> tuple[csr_array, np.ndarray, np.ndarray]:
    rows, columns, values = [], [], []
    low, high = np.empty(len(model.rows)), np.empty(len(model.rows))
    for row, (terms, row_low, row_high) in enumerate(model.rows):
        rows += [row] * len(terms)
        columns += list(terms)
        values += list(terms.values())
        low[row], high[row] = row_low, row_high
    matrix = coo_array((values, (rows, columns)), shape=(len(model.rows), len(model.variables))).tocsr()
    return matrix, low, high


def exact_optimum(sessions, limits, time_limit_per_part: float = 60.0) -> ExactOptimum:
    """HiGHS on the very constraints the exact planner gives CP-SAT (`ExactModel.rows`), part by part:
    the most sessions served, and the LP relaxation's bound."""
    from scipy.optimize import LinearConstraint, milp

    from app.domain.exact_planning import ExactModel, components

    started = time.perf_counter()
    served, bound, proven, parts = 0, 0.0, True, 0
    for part in components(sessions):
        model = ExactModel(part, limits)
        if not model.variables:
            continue
        parts += 1
        matrix, low, high = _model_matrix(model)
        objective = np.zeros(len(model.variables))
        objective[model.served_indexes] = -1.0
        constraint = LinearConstraint(matrix, low, high)
        relaxed = milp(objective, constraints=constraint, bounds=(0, 1))
        bound += -relaxed.fun
        result = milp(objective, constraints=constraint, integrality=np.ones(len(model.variables)), bounds=(0, 1),
                      options={"time_limit": time_limit_per_part})
        proven = proven and result.status == 0
        served += round(-result.fun)
    return ExactOptimum(served, bound, parts, proven, time.perf_counter() - started)
