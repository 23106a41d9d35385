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
from scipy.sparse import coo_matrix

from classic.matrix import MatrixMILP, solve_matrix
from nisd.config import SolverOptions
from nisd.errors import InfeasibleError, NoSolutionError
from nisd.optimise.solve import Status, solve

# the reduced start is dropped for every radius when it would keep this share of the levels
FULL_FROM = 0.6


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


@dataclass(frozen=True)
class _Levels:
    """One client's sorted distinct distances (up to its reach) and the sites at each."""

    d: np.ndarray  # (L,)
    order: np.ndarray  # sites sorted by distance
    bounds: np.ndarray  # (L + 1,): sites at level k are order[bounds[k]:bounds[k + 1]]


def _levels(cost: np.ndarray, p: int) -> list[_Levels]:
    n, m = cost.shape
    # With p sites open, at most m - p are closed, so one of each client's m - p + 1
    # nearest sites is open: farther distances need no variable or row.
    reach = np.sort(cost, axis=1)[:, m - p]
    out = []
    for i in range(n):
        order = np.argsort(cost[i], kind="stable")
        vals = cost[i][order]
        d, first = np.unique(vals, return_index=True)
        keep = d <= reach[i] + 1e-12
        d, first = d[keep], first[keep]
        end = int(np.searchsorted(vals, d[-1], side="right"))
        out.append(_Levels(d, order, np.append(first, end)))
    return out


def _radius_model(
    levels: list[_Levels],
    kept: np.ndarray,
    m: int,
    p: int | None,
    w: np.ndarray,
    fixed: np.ndarray | None = None,
) -> tuple[MatrixMILP, list[tuple[int, int]]]:
    """The radius formulation with client i's first ``kept[i]`` levels (a lower bound when
    ``kept[i]`` is below its level count: the last kept z stands for all farther distance).

    ``p`` sites exactly (p-median), or with ``p=None`` at least one site and the
    ``fixed`` cost of each opened site (uncapacitated facility location)."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lo: list[float] = []
    c: list[float] = [0.0] * m if fixed is None else [float(v) for v in fixed]
    zmeta: list[tuple[int, int]] = []  # (client, level) of each z column
    const = 0.0
    r = 1  # row 0 is the count
    nz = m
    for i, lv in enumerate(levels):
        k_i = int(kept[i])
        full = k_i >= len(lv.d)
        const += w[i] * lv.d[0]
        prev = -1
        for k in range(k_i):
            sites = lv.order[lv.bounds[k] : lv.bounds[k + 1]]
            rc = [sites]
            rv = [np.ones(len(sites))]
            has_z = not (full and k == k_i - 1)
            if has_z:
                zcol = nz
                nz += 1
                zmeta.append((i, k))
                c.append(float(w[i] * (lv.d[k + 1] - lv.d[k])))
                rc.append(np.array([zcol]))
                rv.append(np.ones(1))
            if prev >= 0:
                rc.append(np.array([prev]))
                rv.append(-np.ones(1))
            cc = np.concatenate(rc)
            rows.append(np.full(len(cc), r))
            cols.append(cc)
            vals.append(np.concatenate(rv))
            lo.append(1.0 if k == 0 else 0.0)
            r += 1
            prev = zcol if has_z else -1
    rows.insert(0, np.zeros(m, dtype=np.int64))
    cols.insert(0, np.arange(m))
    vals.insert(0, np.ones(m))
    a = coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, nz)
    ).tocsr()
    row_lo = np.array([float(p) if p is not None else 1.0, *lo])
    row_hi = np.array([float(p) if p is not None else np.inf, *([np.inf] * (r - 1))])
    lb = np.zeros(nz)
    # z is left without an upper bound: the rows and the minimisation keep it at most 1,
    # and the bound z <= 1 made HiGHS two to three times slower on p = 5 (pmed shape,
    # n = 300: 43 s against 14 s; n = 600: 278 s against 120 s), the regression of the
    # reduced-radius change, which had added it
    ub = np.full(nz, np.inf)
    ub[:m] = 1.0
    integer = np.zeros(nz, dtype=bool)
    integer[:m] = True
    return MatrixMILP(np.array(c), a, row_lo, row_hi, lb, ub, integer, const), zmeta


def _start(
    cost: np.ndarray,
    opened: tuple[int, ...],
    levels: list[_Levels],
    zmeta: list[tuple[int, int]],
    m: int,
) -> np.ndarray:
    """Column values of a known set of open sites in a radius model (a MIP start)."""
    x = np.zeros(m + len(zmeta))
    x[list(opened)] = 1.0
    near = cost[:, list(opened)].min(axis=1)
    for n, (i, k) in enumerate(zmeta):
        x[m + n] = 1.0 if near[i] > levels[i].d[k] + 1e-12 else 0.0
    return x


def pmedian(
    cost: np.ndarray,
    p: int,
    opts: SolverOptions | None = None,
    weights: np.ndarray | None = None,
    *,
    reduced: bool = True,
) -> ClassicResult:
    """p-median by the radius formulation (module docstring), with reduced radii.

    With ``reduced`` (the default), each client first keeps only its nearest
    distance levels (García, Labbé & Marín 2011): the truncated model is a
    relaxation, since its last kept ``z`` stands for all farther distance. When
    in its optimum no client lies beyond its kept levels, the truncated
    objective is the plan's true cost, which proves it optimal; otherwise the
    clients beyond their levels get twice as many and the model is solved
    again from the last plan. Rows are built with numpy and handed to HiGHS
    directly (:mod:`nisd.optimise.matrix`).

    Parameters
    ----------
    cost : (n_clients, n_sites) array
    p : int
        Sites to open.
    weights : (n_clients,) array, optional
        Client weights (default 1).
    reduced : bool
        Start from reduced radii (else every level up to each client's reach).

    Examples
    --------
    >>> c = np.array([[0, 5, 9], [5, 0, 4], [9, 4, 0]], float)
    >>> pmedian(c, 1).objective
    9.0
    """
    return _radius_solve(cost, p, opts, weights, None, reduced, "p-median")


def ufl(
    fixed: np.ndarray,
    cost: np.ndarray,
    opts: SolverOptions | None = None,
    *,
    reduced: bool = True,
) -> ClassicResult:
    """Uncapacitated facility location: open sites (``fixed`` cost each) to minimise the fixed
    costs plus each client's cost to its cheapest open site (``cost[i, j]`` serves all of i).

    The radius formulation of :func:`pmedian` without the count row and with the
    fixed costs on the sites (the sorted-cost formulation of Cornuéjols, Nemhauser
    & Wolsey), with the same reduced radii. Reads OR-Library's uncapacitated
    ``cap`` instances (:func:`nisd.io.orlib.read_cap`).

    Examples
    --------
    >>> ufl(np.array([10.0, 10.0]), np.array([[0.0, 30.0], [30.0, 0.0]])).objective
    20.0
    """
    return _radius_solve(
        cost, None, opts, None, np.asarray(fixed, float), reduced, "facility location"
    )


def _radius_solve(
    cost: np.ndarray,
    p: int | None,
    opts: SolverOptions | None,
    weights: np.ndarray | None,
    fixed: np.ndarray | None,
    reduced: bool,
    what: str,
) -> ClassicResult:
    opts = opts or SolverOptions()
    t0 = time.perf_counter()
    n, m = cost.shape
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    levels = _levels(cost, p if p is not None else 1)
    count = np.array([len(lv.d) for lv in levels])
    opened: tuple[int, ...] = ()
    # about half the sites a client would share with the others if spread evenly
    # (measured on OR-Library pmed: smaller starts need more rounds, larger ones a harder
    # first MILP)
    share = p if p is not None else max(1, int(np.sqrt(m)))
    kept = np.minimum(count, max(3, int(np.ceil(0.5 * m / share))))
    # the instance's shape decides: where that start keeps most of the levels anyway (few
    # distinct distances, as on pmed-shaped graphs with small p), a round of extension
    # would only repeat the solve, so every radius is taken from the start
    if not reduced or kept.sum() >= FULL_FROM * count.sum():
        kept = count.copy()
    build = time.perf_counter() - t0
    seconds = 0.0
    start: np.ndarray | None = None
    while True:
        tb = time.perf_counter()
        model, zmeta = _radius_model(levels, kept, m, p, w, fixed)
        if opened:
            start = _start(cost, opened, levels, zmeta, m)
        build += time.perf_counter() - tb
        run = opts
        if opts.time_limit is not None:
            left = opts.time_limit - (time.perf_counter() - t0)
            if left <= 0:
                raise NoSolutionError(f"{what}: time limit reached while extending the radii")
            run = opts.model_copy(update={"time_limit": left})
        res, x = solve_matrix(model, run, start)
        seconds += res.seconds
        _require(res.status, what)
        assert x is not None
        opened = tuple(sorted(int(j) for j in np.nonzero(x[:m] > 0.5)[0]))
        near = cost[:, list(opened)].min(axis=1)
        last = np.array([lv.d[int(k) - 1] for lv, k in zip(levels, kept, strict=True)])
        beyond = (kept < count) & (near > last + 1e-12)
        if not beyond.any():
            break
        kept = np.where(beyond, np.minimum(count, 2 * kept), kept)
    value = median_value(cost, opened, w) + (
        0.0 if fixed is None else float(fixed[list(opened)].sum())
    )
    return ClassicResult(value, opened, res.status.value, res.bound, seconds, build)


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
