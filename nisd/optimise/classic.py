"""Classic location models on a cost matrix, with the strongest formulations we know.

Each model has two doors: a core that takes a cost matrix (clients × sites),
and the OR-Library readers in :mod:`nisd.io.orlib` (or any matrix from the
fibre graph) to feed it. Every result is re-evaluated from the matrix, not
from the MILP.

p-median, radius formulation
    For client i with sorted distinct distances ``D_i^0 < D_i^1 < ...``,
    ``z_i^k = 1`` when no open site lies within ``D_i^k``. Objective
    ``Σ_i D_i^0 + Σ_k (D_i^{k+1} − D_i^k) z_i^k``; rows ``z_i^{k−1} ≤ z_i^k +
    Σ_{j: c_ij = D_i^k} y_j`` (with ``z_i^{-1} = 1``) telescope into the
    covering rows ``z_i^k + Σ_{j: c_ij ≤ D_i^k} y_j ≥ 1`` of Elloumi (2010),
    "A tighter formulation of the p-median problem", J. Comb. Optim. 19, and
    keep the model at O(n²) non-zeros as in García, Labbé & Marín (2011),
    "Solving large p-median problems with a radius formulation", INFORMS J.
    Comput. 23. Distances beyond a client's (m − p + 1)-th nearest site are
    cut: one of those sites is always open.
p-center
    Bisection over the sorted distinct distances: radius r is achievable when
    a set cover of the clients within r needs at most p sites.
set covering / maximal covering, p-dispersion, capacitated facility location
    Standard formulations (CFLP with the strong ``x_ij ≤ y_j`` rows and
    continuous allocation, as in the OR-Library ``cap`` optima).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np
import pulp

from nisd.errors import InfeasibleError, NoSolutionError
from nisd.optimise.config import SolverOptions
from nisd.optimise.solve import Status, solve


@dataclass(frozen=True)
class ClassicResult:
    """Objective recomputed from the matrix, the solver's status, and timing."""

    objective: float
    opened: tuple[int, ...]
    status: str
    bound: float | None
    seconds: float
    build_seconds: float


def _require(res_status: Status, what: str) -> None:
    if res_status is Status.INFEASIBLE:
        raise InfeasibleError(f"{what}: proved infeasible")
    if res_status is Status.UNKNOWN:
        raise NoSolutionError(f"{what}: no solution within the limits")


def _opened(y: dict[int, pulp.LpVariable]) -> tuple[int, ...]:
    return tuple(sorted(j for j, v in y.items() if (v.value() or 0) > 0.5))


def median_value(
    cost: np.ndarray, opened: tuple[int, ...], weights: np.ndarray | None = None
) -> float:
    """Σ_i w_i min_{j open} c_ij, computed from the matrix alone."""
    best = cost[:, list(opened)].min(axis=1)
    return float((best * (weights if weights is not None else 1.0)).sum())


def pmedian(
    cost: np.ndarray, p: int, opts: SolverOptions | None = None, weights: np.ndarray | None = None
) -> ClassicResult:
    """p-median by the radius formulation (module docstring).

    Parameters
    ----------
    cost : (n_clients, n_sites) array
    p : int
        Sites to open.
    weights : (n_clients,) array, optional
        Client weights (default 1).

    Examples
    --------
    >>> c = np.array([[0, 5, 9], [5, 0, 4], [9, 4, 0]], float)
    >>> pmedian(c, 1).objective
    9.0
    """
    opts = opts or SolverOptions()
    t0 = time.perf_counter()
    n, m = cost.shape
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    prob = pulp.LpProblem("pmedian", pulp.LpMinimize)
    y = {j: pulp.LpVariable(f"y_{j}", cat="Binary") for j in range(m)}
    prob += pulp.lpSum(y.values()) == p, "count"
    # With p sites open, at most m - p are closed, so one of each client's m - p + 1
    # nearest sites is open: farther distances need no variable or row.
    reach = np.sort(cost, axis=1)[:, m - p]
    obj: list[tuple[pulp.LpVariable, float]] = []
    const = 0.0
    ge = pulp.LpConstraintGE
    for i in range(n):
        order = np.argsort(cost[i], kind="stable")
        vals = cost[i][order]
        d, first = np.unique(vals, return_index=True)
        keep = d <= reach[i] + 1e-12
        d, first = d[keep], first[keep]
        bounds = [*first.tolist(), len(vals)]
        groups = [order[bounds[k] : bounds[k + 1]].tolist() for k in range(len(d))]
        const += w[i] * d[0]
        prev: pulp.LpVariable | None = None  # None stands for the constant 1
        for k in range(len(d)):
            terms = [(y[j], 1.0) for j in groups[k]]
            last = k == len(d) - 1
            zk = None if last else pulp.LpVariable(f"z_{i}_{k}", lowBound=0)
            if zk is not None:
                terms.append((zk, 1.0))
                obj.append((zk, w[i] * (d[k + 1] - d[k])))
            # z^{k-1} <= z^k + sum_{j at D^k} y_j, written as  ... - z^{k-1} >= 0 (or >= 1)
            if prev is None:
                row = pulp.LpConstraint(pulp.LpAffineExpression(terms), ge, rhs=1.0)
            else:
                row = pulp.LpConstraint(
                    pulp.LpAffineExpression([*terms, (prev, -1.0)]), ge, rhs=0.0
                )
            prob.addConstraint(row, f"r_{i}_{k}")
            prev = zk
    prob.setObjective(pulp.LpAffineExpression(obj, constant=const))
    build = time.perf_counter() - t0
    res = solve(prob, opts)
    _require(res.status, "p-median")
    opened = _opened(y)
    return ClassicResult(
        median_value(cost, opened, w), opened, res.status.value, res.bound, res.seconds, build
    )


def covers(cost: np.ndarray, radius: float) -> np.ndarray:
    return cost <= radius + 1e-9


def set_cover(cost: np.ndarray, radius: float, opts: SolverOptions | None = None) -> ClassicResult:
    """Fewest sites so that every client has one within ``radius``."""
    opts = opts or SolverOptions()
    t0 = time.perf_counter()
    cov = covers(cost, radius)
    if not cov.any(axis=1).all():
        raise InfeasibleError(f"set cover: a client has no site within {radius:g}")
    prob = pulp.LpProblem("setcover", pulp.LpMinimize)
    y = {j: pulp.LpVariable(f"y_{j}", cat="Binary") for j in range(cost.shape[1])}
    for i in range(cost.shape[0]):
        prob += pulp.lpSum(y[int(j)] for j in np.nonzero(cov[i])[0]) >= 1, f"c_{i}"
    prob.setObjective(pulp.lpSum(y.values()))
    build = time.perf_counter() - t0
    res = solve(prob, opts)
    _require(res.status, "set cover")
    opened = _opened(y)
    if not cov[:, list(opened)].any(axis=1).all():  # pragma: no cover - checker
        raise AssertionError("set cover solution does not cover")
    return ClassicResult(
        float(len(opened)), opened, res.status.value, res.bound, res.seconds, build
    )


def max_cover(
    cost: np.ndarray,
    radius: float,
    p: int,
    weights: np.ndarray | None = None,
    opts: SolverOptions | None = None,
) -> ClassicResult:
    """Maximal covering: open p sites to cover the most client weight within ``radius``."""
    opts = opts or SolverOptions()
    t0 = time.perf_counter()
    n, m = cost.shape
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    cov = covers(cost, radius)
    prob = pulp.LpProblem("maxcover", pulp.LpMaximize)
    y = {j: pulp.LpVariable(f"y_{j}", cat="Binary") for j in range(m)}
    c = {i: pulp.LpVariable(f"c_{i}", lowBound=0, upBound=1) for i in range(n)}
    prob += pulp.lpSum(y.values()) == p, "count"
    for i in range(n):
        prob += c[i] <= pulp.lpSum(y[int(j)] for j in np.nonzero(cov[i])[0]), f"c_{i}"
    prob.setObjective(pulp.lpSum(w[i] * c[i] for i in range(n)))
    build = time.perf_counter() - t0
    res = solve(prob, opts)
    _require(res.status, "maximal covering")
    opened = _opened(y)
    value = float(w[cov[:, list(opened)].any(axis=1)].sum())
    return ClassicResult(value, opened, res.status.value, res.bound, res.seconds, build)


def pcenter(cost: np.ndarray, p: int, opts: SolverOptions | None = None) -> ClassicResult:
    """Vertex p-center by bisection over distinct distances with set-cover checks."""
    opts = opts or SolverOptions()
    t0 = time.perf_counter()
    radii = np.unique(cost)
    lo = int(np.searchsorted(radii, cost.min(axis=1).max()))  # every client needs some site
    hi = len(radii) - 1
    best: ClassicResult | None = None
    solve_s = 0.0
    proved = True
    while lo < hi:
        mid = (lo + hi) // 2
        r = set_cover(cost, float(radii[mid]), opts)
        solve_s += r.seconds
        if r.status != Status.OPTIMAL.value:
            proved = False
        if r.objective <= p:
            hi, best = mid, r
        else:
            lo = mid + 1
    if best is None or radii[lo] != max(cost[:, list(best.opened)].min(axis=1)):
        best = set_cover(cost, float(radii[lo]), opts)
        solve_s += best.seconds
    opened = best.opened
    # pad to p sites (extra sites never raise the radius)
    extra = [j for j in range(cost.shape[1]) if j not in opened][: max(0, p - len(opened))]
    opened = tuple(sorted((*opened, *extra)))
    value = float(cost[:, list(opened)].min(axis=1).max())
    status = Status.OPTIMAL.value if proved else Status.FEASIBLE.value
    return ClassicResult(
        value,
        opened,
        status,
        float(radii[lo]) if proved else None,
        solve_s,
        time.perf_counter() - t0 - solve_s,
    )


def pdispersion(dist: np.ndarray, p: int, opts: SolverOptions | None = None) -> ClassicResult:
    """Open p sites maximising the smallest pairwise distance (big-M formulation)."""
    opts = opts or SolverOptions()
    t0 = time.perf_counter()
    m = dist.shape[0]
    big = float(dist.max())
    prob = pulp.LpProblem("pdispersion", pulp.LpMaximize)
    y = {j: pulp.LpVariable(f"y_{j}", cat="Binary") for j in range(m)}
    d = pulp.LpVariable("d", lowBound=0, upBound=big)
    prob += pulp.lpSum(y.values()) == p, "count"
    for a, b in itertools.combinations(range(m), 2):
        prob += d <= dist[a, b] + big * (2 - y[a] - y[b]), f"d_{a}_{b}"
    prob.setObjective(d)
    build = time.perf_counter() - t0
    res = solve(prob, opts)
    _require(res.status, "p-dispersion")
    opened = _opened(y)
    value = float(min(dist[a, b] for a, b in itertools.combinations(opened, 2)))
    return ClassicResult(value, opened, res.status.value, res.bound, res.seconds, build)


def cflp(
    fixed: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    cost: np.ndarray,
    opts: SolverOptions | None = None,
    single_source: bool = False,
) -> ClassicResult:
    """Capacitated facility location (OR-Library ``cap``: ``cost[i, j]`` serves all of i).

    Allocation is continuous unless ``single_source``.
    """
    opts = opts or SolverOptions()
    t0 = time.perf_counter()
    n, m = cost.shape
    prob = pulp.LpProblem("cflp", pulp.LpMinimize)
    y = {j: pulp.LpVariable(f"y_{j}", cat="Binary") for j in range(m)}
    cat = "Binary" if single_source else "Continuous"
    x = {
        (i, j): pulp.LpVariable(f"x_{i}_{j}", lowBound=0, upBound=1, cat=cat)
        for i in range(n)
        for j in range(m)
    }
    for i in range(n):
        prob += pulp.lpSum(x[i, j] for j in range(m)) == 1, f"a_{i}"
    for j in range(m):
        prob += pulp.lpSum(demand[i] * x[i, j] for i in range(n)) <= capacity[j] * y[j], f"k_{j}"
        for i in range(n):
            prob += x[i, j] <= y[j], f"s_{i}_{j}"
    prob += pulp.lpSum(capacity[j] * y[j] for j in range(m)) >= float(demand.sum()), "total"
    prob.setObjective(
        pulp.lpSum(fixed[j] * y[j] for j in range(m))
        + pulp.lpSum(cost[i, j] * x[i, j] for (i, j) in x)
    )
    build = time.perf_counter() - t0
    res = solve(prob, opts)
    _require(res.status, "capacitated facility location")
    opened = _opened(y)
    value = float(
        sum(fixed[j] for j in opened) + sum(cost[i, j] * (x[i, j].value() or 0.0) for (i, j) in x)
    )
    return ClassicResult(value, opened, res.status.value, res.bound, res.seconds, build)
