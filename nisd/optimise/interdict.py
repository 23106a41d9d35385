"""The worst attack on a plan: exact r-interdiction as a mixed-integer programme.

Why this module is long: the attacker's programme, its flow data and its search for
the next-worst attacks are one formulation; its docstring states it whole.

An attacker with a budget (``r`` targets when every target costs 1) takes out
opened sites, backbone nodes and shared-risk groups of fibre so that the plan
serves as little load as possible, capacity included, critical load first.
Served load is the one definition of :mod:`nisd.topology.served`: a flow from
each demand point to the surviving sites that hold its data and that it still
reaches within its crisis latency bound, no site beyond its capacity.

The attacker's problem is a min-max (a bilevel programme). It becomes one
mixed-integer programme, without listing attacks, in three steps (the
r-interdiction median problem of Church, Scaparra & Middleton 2004,
*Identifying critical infrastructure: the median and covering facility
interdiction problems*, Annals of the AAG 94(3), with the inner problem a
flow and the reach a latency-bounded path):

1. **Inner flow by its dual.** For a set of demand points with weights
   ``w`` the most load the plan can serve (the rank of that set) equals, by
   max-flow/min-cut duality, ``min Σ_i L_i u_i + Σ_j C_j v_j`` over
   ``u, v ≥ 0`` with ``u_i + v_j ≥ w_i`` for every usable arc ``(i, j)``. An
   arc the attack makes unusable drops its row: ``u_i + v_j + w_i x_ij ≥ w_i``
   with ``x_ij = 1`` when the arc is gone (the big-M is exactly ``w_i``).
2. **Reach by potentials.** Arc ``(i, j)`` is gone when no route from site
   ``j`` to point ``i`` within ``i``'s bound survives. Route lengths after an
   attack are bounded through shortest-path potentials (the dual of the
   shortest-path LP): ``π_v ≤ π_u + ℓ_uv + M·(attack on the edge)`` with
   ``π_j = 0`` at the site; then ``π_i`` never exceeds the surviving route
   length, and the true length is a feasible choice, so ``x_ij`` may be 1
   exactly when ``π_i`` can be pushed beyond the bound. A lost site loses
   its access links, so its users lose it the same way.
3. **Critical first.** By the polymatroid property used in
   :mod:`nisd.topology.served`, the load of class ``c`` a plan serves after
   an attack is ``rank(S_1 ∪ … ∪ S_c) - rank(S_1 ∪ … ∪ S_{c-1})``. The
   attacker first minimises the rank of the critical points; holding it,
   the rank of critical and high; and so on (exactly lexicographic); then
   uses as few targets as possible.

Ties are broken deterministically: every attack of the same damage and size
is found (no-good cuts) and the first in sorted order of its targets is
reported. The next-worst attacks come the same way. Every attack found is
evaluated again by the served-load evaluator, which the figures shown come from.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pulp
from scipy.sparse.csgraph import dijkstra

from nisd.config import SolverOptions
from nisd.errors import ConfigError, Problem, SolverError
from nisd.optimise.solve import SolveResult, Status, solve
from nisd.topology.depends import Dependencies
from nisd.topology.latency import RoutingGraph, csr, in_time
from nisd.topology.scenarios import Scenario

TargetKind = Literal["site", "node", "srlg"]
TARGET_KINDS: tuple[TargetKind, ...] = ("site", "node", "srlg")
DELTA_MS = 1e-6  # a route counts as too slow when longer than its bound by this much
MAX_TIES = 64  # attacks of equal damage looked at for the deterministic tie break

AttackObjective = Literal["critical-first", "total"]


@dataclass(frozen=True, order=True)
class Target:
    """One thing an attacker can take out, and what it costs the attacker."""

    kind: str
    id: str
    cost: float = 1.0

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.id}"


def attack_scenario(targets: Sequence[Target], meaning: str = "") -> Scenario:
    """The failure scenario of an attack (kind ``attack``)."""
    names = [t.name for t in sorted(targets)]
    return Scenario(
        "attack " + (" + ".join(names) if names else "(none)"),
        "attack",
        sites=frozenset(t.id for t in targets if t.kind == "site"),
        nodes=frozenset(t.id for t in targets if t.kind == "node"),
        srlgs=frozenset(t.id for t in targets if t.kind == "srlg"),
        meaning=meaning or f"an attacker takes out {', '.join(names) or 'nothing'}",
    )


@dataclass(frozen=True)
class FlowData:
    """A plan's served-flow data over its routing graph: what the attacker works on.

    Indexed by demand point ``i`` (``demand_ids``) and opened site ``j``
    (``site_ids``). ``holds[i, j]``: site ``j`` holds point ``i``'s data;
    ``bound[i]``: ``i``'s crisis latency bound (ms).
    """

    rg: RoutingGraph
    site_ids: tuple[str, ...]
    demand_ids: tuple[str, ...]
    load: np.ndarray
    rank: np.ndarray
    classes: tuple[str, ...]
    capacity: np.ndarray
    holds: np.ndarray
    bound: np.ndarray
    # users that need other workloads as well (the scan honours them; the programme
    # does not, see docs/model.md)
    deps: Dependencies | None = None


def targets_of(
    rg: RoutingGraph,
    opened: Iterable[str],
    nodes: Iterable[str],
    srlgs: Iterable[str],
    kinds: Iterable[str] = ("site",),
    costs: Mapping[str, float] | None = None,
) -> tuple[Target, ...]:
    """The targets of the chosen kinds (opened sites, backbone nodes, shared-risk groups).

    Raises
    ------
    ConfigError
        An unknown target kind or a cost that is not positive.
    """
    kinds = list(kinds)
    costs = dict(costs or {})
    problems = [
        Problem("targets", f"unknown target kind {k!r} (choose from {', '.join(TARGET_KINDS)})")
        for k in list(kinds) + list(costs)
        if k not in TARGET_KINDS
    ]
    problems += [
        Problem("cost", f"attack cost of {k} must be positive, not {v:g}")
        for k, v in costs.items()
        if not v > 0
    ]
    if problems:
        raise ConfigError(problems)
    pool = {"site": sorted(set(opened)), "node": sorted(set(nodes)), "srlg": sorted(set(srlgs))}
    out = []
    for k in TARGET_KINDS:
        if k not in kinds:
            continue
        for x in pool[k]:
            edges = rg.srlg_edges.get(x) if k == "srlg" else rg.vertex_edges.get(x)
            if edges is not None and len(edges):
                out.append(Target(k, x, float(costs.get(k, 1.0))))
    return tuple(out)


def _edges_of(rg: RoutingGraph, t: Target) -> np.ndarray:
    return rg.srlg_edges[t.id] if t.kind == "srlg" else rg.vertex_edges[t.id]


@dataclass(frozen=True)
class Found:
    """An attack the programme found, with the served load of each class prefix it leaves."""

    targets: tuple[Target, ...]
    served_prefix: tuple[float, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.targets)

    def key(self) -> tuple[tuple[float, ...], int, tuple[str, ...]]:
        """Sort key: least served first (class prefixes in order), then fewest targets, names."""
        return (tuple(round(v, 3) for v in self.served_prefix), len(self.targets), self.names)


@dataclass
class Search:
    """The record of one interdiction search: every solve, with its time."""

    solves: list[dict[str, Any]] = field(default_factory=list)


class AttackModel:
    """The attacker's mixed-integer programme over one plan's flow data.

    Built once; objectives, held values and no-good cuts change between solves.
    """

    def __init__(
        self,
        fd: FlowData,
        targets: Sequence[Target],
        budget: float,
        *,
        protected: Iterable[str] = (),
    ) -> None:
        self.fd = fd
        self.targets = tuple(targets)
        self.budget = float(budget)
        self.prob = pulp.LpProblem("attack", pulp.LpMinimize)
        protected = set(protected)
        self.a = {n: pulp.LpVariable(f"a_{n}", cat="Binary") for n in range(len(self.targets))}
        for n, t in enumerate(self.targets):
            if t.kind == "site" and t.id in protected:
                self.a[n].upBound = 0  # a hardened site cannot be taken out
        self.prob += (
            pulp.lpSum(t.cost * self.a[n] for n, t in enumerate(self.targets)) <= self.budget,
            "budget",
        )
        rg = fd.rg
        # which targets take out each edge
        by_edge: dict[int, list[int]] = {}
        for n, t in enumerate(self.targets):
            for e in _edges_of(rg, t).tolist():
                by_edge.setdefault(int(e), []).append(n)
        site_rows = [rg.out_index[s] for s in fd.site_ids]
        dem_rows = np.array([rg.in_index[d] for d in fd.demand_ids], dtype=np.int64)
        d0 = np.atleast_2d(dijkstra(csr(rg), directed=True, indices=site_rows))
        vertex, self.members, self.members_key = _merged_users(fd, dem_rows, by_edge)
        n_j = len(fd.site_ids)
        # the vertices a route may pass or end at: backbone (transit) vertices and the
        # users' (merged) vertices; a leaf's sending vertex starts routes only
        ends = np.zeros(rg.n, dtype=bool)
        ends[~rg.leaf] = True
        ends[np.nonzero(rg.leaf)[0] + 1] = False
        ends[np.unique(vertex)] = True
        self.x: dict[tuple[int, int], pulp.LpVariable] = {}
        for j in range(n_j):
            if fd.capacity[j] <= 0:
                continue
            users = [
                m
                for m, (row, bound, holds, _rank, load) in enumerate(self.members_key)
                if holds[j] and load > 0 and in_time(d0[j, row], bound)
            ]
            if not users:
                continue
            cap = float(max(self.members_key[m][1] for m in users)) + 2 * DELTA_MS
            near = (d0[j] < cap) & ends
            near[site_rows[j]] = True
            pi: dict[int, pulp.LpAffineExpression | float] = {}
            for v in np.nonzero(near)[0].tolist():
                if v == site_rows[j]:
                    pi[v] = 0.0
                else:
                    pi[v] = pulp.LpVariable(f"pi_{j}_{v}", 0, cap)
            for a_ in range(len(rg.arc_src)):
                u, v = int(rg.arc_src[a_]), int(rg.arc_dst[a_])
                if not (near[u] and near[v]) or v == site_rows[j]:
                    continue
                killers = by_edge.get(int(rg.arc_edge[a_]), [])
                lhs = pi[v] - pi[u] - cap * pulp.lpSum(self.a[n] for n in killers)
                self.prob += (lhs <= float(rg.arc_w[a_]), f"route_{j}_{a_}")
            gone: dict[tuple[int, float], pulp.LpVariable] = {}
            for m in users:
                row, bound = self.members_key[m][0], self.members_key[m][1]
                if (row, bound) not in gone:  # users at one vertex with one bound share it
                    x = pulp.LpVariable(f"x_{j}_{row}_{len(gone)}", cat="Binary")
                    gone[row, bound] = x
                    self.prob += (
                        (bound + DELTA_MS) * x <= pi[row],
                        f"gone_{j}_{row}_{len(gone)}",
                    )
                self.x[m, j] = gone[row, bound]
        self._blocks: dict[bytes, pulp.LpAffineExpression] = {}
        self._held: list[str] = []
        self._cuts = 0
        self.count = pulp.lpSum(self.a.values())

    def served(self, weight: np.ndarray) -> pulp.LpAffineExpression:
        """The most ``weight``-weighted load the plan serves after the attack (by the dual).

        ``weight`` is per user and must be alike within a merged group (a function of the
        users' class, as every caller's is)."""
        weight = np.asarray(weight, float)
        key = weight.tobytes()
        if key in self._blocks:
            return self._blocks[key]
        fd = self.fd
        b = len(self._blocks)
        total = float(fd.load.sum())
        wm = np.array([weight[g[0]] for g in self.members])
        if any(bool(np.any(weight[g] != wm[m])) for m, g in enumerate(self.members)):
            raise ValueError("attack weights must be alike for users of one class")
        load = np.array([k[4] for k in self.members_key])
        wmax = float(weight.max()) if len(weight) else 0.0
        u = {
            m: pulp.LpVariable(f"u{b}_{m}", 0, float(wm[m]))
            for m in range(len(self.members))
            if wm[m] > 0 and load[m] > 0
        }
        v = {
            j: pulp.LpVariable(f"v{b}_{j}", 0, wmax)
            for j in range(len(fd.site_ids))
            if fd.capacity[j] > 0
        }
        for (m, j), x in self.x.items():
            if m in u:
                w = float(wm[m])
                self.prob += (u[m] + v[j] + w * x >= w, f"dual{b}_{m}_{j}")
        # a user with no usable arc at all keeps u = 0 (nothing to serve)
        expr = pulp.lpSum(float(load[m]) * u[m] for m in u) + pulp.lpSum(
            float(min(fd.capacity[j], total)) * v[j] for j in v
        )
        self._blocks[key] = expr
        return expr

    def hold(self, expr: pulp.LpAffineExpression, value: float) -> None:
        """Keep ``expr`` at most ``value`` (plus a tolerance) in later solves."""
        name = f"hold_{len(self._held)}"
        tol = 1e-6 * max(1.0, abs(value))
        self.prob += (expr <= value + tol, name)
        self._held.append(name)

    def release(self) -> None:
        """Drop every held value."""
        for name in self._held:
            self.prob.constraints.pop(name, None)
        self._held = []

    def exclude(self, chosen: Sequence[int]) -> None:
        """No later attack contains all of ``chosen`` (a no-good cut)."""
        self._cuts += 1
        if not chosen:
            self.prob += (self.count >= 1, f"nogood_{self._cuts}")
        else:
            self.prob += (
                pulp.lpSum(self.a[n] for n in chosen) <= len(chosen) - 1,
                f"nogood_{self._cuts}",
            )

    def run(
        self, objective: pulp.LpAffineExpression, opts: SolverOptions, search: Search, stage: str
    ) -> SolveResult:
        self.prob.setObjective(objective)
        t = time.perf_counter()
        res = solve(self.prob, opts)
        search.solves.append(
            {
                "stage": stage,
                "status": res.status.value,
                "objective": res.objective,
                "seconds": round(time.perf_counter() - t, 3),
            }
        )
        return res

    def chosen(self) -> list[int]:
        return [n for n, a in self.a.items() if (a.value() or 0) > 0.5]


MemberKey = tuple[int, float, tuple[bool, ...], int, float]


def _merged_users(
    fd: FlowData, dem_rows: np.ndarray, by_edge: Mapping[int, list[int]]
) -> tuple[np.ndarray, list[np.ndarray], list[MemberKey]]:
    """Users the attacker cannot tell apart, merged (their loads summed).

    Two users whose access links reach the same vertices at the same latencies and are
    taken out by the same targets are at one vertex for every attack: the first one's
    vertex stands for both. Users at one vertex with the same latency bound, the same
    sites holding their data and the same class are one user of the served flow (the
    most load a set of such users can send depends on their total alone). Returns each
    user's vertex, the members of each merged user and its (vertex, bound, holds,
    class, load).
    """
    rg = fd.rg
    into: dict[int, list[tuple[int, float, tuple[int, ...]]]] = {}
    for a in range(len(rg.arc_src)):
        v = int(rg.arc_dst[a])
        e = int(rg.arc_edge[a])
        into.setdefault(v, []).append(
            (int(rg.arc_src[a]), float(rg.arc_w[a]), tuple(by_edge.get(e, [])))
        )
    stand: dict[tuple[tuple[int, float, tuple[int, ...]], ...], int] = {}
    vertex = np.array(dem_rows, dtype=np.int64)
    for i, row in enumerate(dem_rows.tolist()):
        if rg.out_index[fd.demand_ids[i]] == row:
            continue  # a user that routes pass through keeps its own vertex
        key = tuple(sorted(into.get(row, [])))
        vertex[i] = stand.setdefault(key, row)
    groups: dict[tuple[int, float, tuple[bool, ...], int], list[int]] = {}
    for i in range(len(dem_rows)):
        k = (
            int(vertex[i]),
            float(fd.bound[i]),
            tuple(bool(h) for h in fd.holds[i]),
            int(fd.rank[i]),
        )
        groups.setdefault(k, []).append(i)
    members = [np.array(g, dtype=np.int64) for g in groups.values()]
    keys = [(*k, float(fd.load[g].sum())) for k, g in groups.items()]
    return vertex, members, keys


def prefix_weights(fd: FlowData, objective: AttackObjective) -> list[np.ndarray]:
    """The weight vectors the attacker minimises in turn (class prefixes, or all load)."""
    if objective == "total":
        return [np.ones(len(fd.load))]
    present = sorted(set(fd.rank[fd.load > 0].tolist()))
    return [(fd.rank <= c).astype(float) for c in present]


def _exact(opts: SolverOptions) -> SolverOptions:
    return opts.model_copy(update={"gap": 0.0})


def _lexicographic(
    model: AttackModel, weights: list[np.ndarray], opts: SolverOptions, search: Search
) -> Found | None:
    """One worst attack under the no-good cuts so far (None when none is left)."""
    values: list[float] = []
    try:
        for n, w in enumerate(weights):
            expr = model.served(w)
            res = model.run(expr, opts, search, f"prefix {n + 1}")
            if res.status is Status.INFEASIBLE:
                return None
            if res.status is not Status.OPTIMAL or res.objective is None:
                raise _NotProvedError(res)
            values.append(float(res.objective))
            model.hold(expr, float(res.objective))
        res = model.run(model.count, opts, search, "fewest targets")
        if res.status is not Status.OPTIMAL:
            raise _NotProvedError(res)
        chosen = model.chosen()
    finally:
        model.release()
    return Found(tuple(sorted(model.targets[n] for n in chosen)), tuple(values))


def _ties(
    model: AttackModel,
    weights: list[np.ndarray],
    best: Found,
    opts: SolverOptions,
    search: Search,
) -> list[Found]:
    """The attacks other than ``best`` (already excluded) that tie with it: as damaging in every
    class prefix and as small; at most ``MAX_TIES``."""
    out: list[Found] = []
    try:
        for w, v in zip(weights, best.served_prefix, strict=True):
            model.hold(model.served(w), v)
        model.hold(model.count, float(len(best.targets)))
        while len(out) < MAX_TIES:
            res = model.run(model.count, opts, search, "tie")
            if res.status is Status.INFEASIBLE:
                break
            if res.status is not Status.OPTIMAL:
                raise _NotProvedError(res)
            chosen = model.chosen()
            out.append(Found(tuple(sorted(model.targets[n] for n in chosen)), best.served_prefix))
            model.exclude(chosen)
    finally:
        model.release()
    return out


class _NotProvedError(Exception):
    def __init__(self, res: SolveResult) -> None:
        super().__init__(res.status.value)
        self.res = res


def worst_attacks(
    fd: FlowData,
    targets: Sequence[Target],
    budget: float,
    *,
    objective: AttackObjective = "critical-first",
    top: int = 1,
    opts: SolverOptions | None = None,
    protected: Iterable[str] = (),
) -> tuple[list[Found], Search]:
    """The ``top`` worst attacks within ``budget``, worst first, each proved by the solver.

    The first is the worst attack (exactly, critical first, fewest targets, ties
    in sorted order of the targets); the others are the next worst, distinct
    attacks none of which contains an earlier one, in the same order (ties at
    every place are all found, up to ``MAX_TIES`` more, and sorted).

    Raises
    ------
    nisd.errors.SolverError
        The solver stopped without proving an attack optimal (a time limit).
    """
    opts = _exact(opts or SolverOptions())
    model = AttackModel(fd, targets, budget, protected=protected)
    weights = prefix_weights(fd, objective)
    search = Search()
    found: list[Found] = []
    index = {t: n for n, t in enumerate(model.targets)}
    try:
        while len(found) < top:
            f = _lexicographic(model, weights, opts, search)
            if f is None:
                break
            found.append(f)
            model.exclude([index[t] for t in f.targets])
            # every other attack as bad and as small: one feasibility solve each
            found += _ties(model, weights, f, opts, search)  # each excluded there
    except _NotProvedError as e:
        raise SolverError(
            f"the attack search stopped without a proof ({e.res.status.value}, "
            f"{e.res.solver}{', time limit reached' if e.res.hit_limit else ''})"
        ) from None
    found.sort(key=Found.key)
    return found[:top], search


def violating_attack(
    fd: FlowData,
    targets: Sequence[Target],
    budget: float,
    levels: np.ndarray,
    *,
    opts: SolverOptions | None = None,
    rejected: Iterable[Sequence[Target]] = (),
    protected: Iterable[str] = (),
) -> tuple[Found | None, float, Search]:
    """An attack after which no flow meets the service ``levels``, if one exists.

    ``levels[c]`` is the share of class ``c``'s load to serve. A flow meeting
    every level exists exactly when, for every set ``A`` of classes,
    ``rank(A) ≥ Σ_{c∈A} levels[c]·L_c`` (the polymatroid condition); the
    attacker minimises each difference. The load counted is the whole load
    of the class: an attack that cuts a user off from every site may be
    reported here and pass the evaluator (which does not count cut-off load
    towards the levels); ``rejected`` lists such attacks, excluded by
    no-good cuts. Returns the attack (or None), the smallest difference
    found (racks; ≥ 0 proves that no attack within the budget breaks the levels,
    apart from the rejected ones) and the search record.
    """
    opts = _exact(opts or SolverOptions())
    model = AttackModel(fd, targets, budget, protected=protected)
    index = {t: n for n, t in enumerate(model.targets)}
    for r in rejected:
        model.exclude([index[t] for t in r if t in index])
    search = Search()
    k = len(fd.classes)
    need = np.bincount(fd.rank, weights=fd.load, minlength=k)[:k] * np.resize(levels, k)
    active = [c for c in range(k) if levels[c] > 0 and need[c] > 0]
    worst = float("inf")
    for size in range(1, len(active) + 1):
        for subset in itertools.combinations(active, size):
            w = np.isin(fd.rank, subset).astype(float)
            expr = model.served(w)
            stage = "classes " + "+".join(fd.classes[c] for c in subset)
            res = model.run(expr, opts, search, stage)
            if res.status is Status.INFEASIBLE:
                continue
            if res.status is not Status.OPTIMAL or res.objective is None:
                raise SolverError(f"the attack search stopped without a proof ({res.status.value})")
            diff = float(res.objective) - float(need[list(subset)].sum())
            worst = min(worst, diff)
            if diff < -1e-6 * max(1.0, float(need.sum())):
                chosen = model.chosen()
                return (
                    Found(tuple(sorted(model.targets[n] for n in chosen)), (float(res.objective),)),
                    diff,
                    search,
                )
    return None, (worst if np.isfinite(worst) else 0.0), search


def flow_data(
    rg: RoutingGraph,
    demand_ids: Sequence[str],
    load: np.ndarray,
    rank: np.ndarray,
    classes: Sequence[str],
    bound: np.ndarray,
    capacity: Mapping[str, float],
    assignments: Mapping[str, Sequence[str]] | None,
    deps: Dependencies | None = None,
) -> FlowData:
    """The :class:`FlowData` of a plan: opened site → capacity, demand → its sites.

    Without assignments every opened site holds every point's data (as in
    :func:`nisd.topology.resilience.evaluate`).
    """
    names = tuple(sorted(capacity))
    col = {s: j for j, s in enumerate(names)}
    holds = np.ones((len(demand_ids), len(names)), dtype=bool)
    if assignments is not None:
        holds[:] = False
        for i, d in enumerate(demand_ids):
            for s in assignments.get(d, []):
                if s in col:
                    holds[i, col[s]] = True
    total = float(np.sum(load))
    return FlowData(
        rg=rg,
        site_ids=names,
        demand_ids=tuple(demand_ids),
        load=np.asarray(load, float),
        rank=np.asarray(rank, np.int64),
        classes=tuple(classes),
        capacity=np.array([min(float(capacity[s]), total) for s in names]),
        holds=holds,
        bound=np.asarray(bound, float),
        deps=deps if deps else None,
    )
