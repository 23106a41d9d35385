"""Served load after a failure: a capacity-true flow, critical load first.

This module holds the one definition of "served" that every figure of nisd
comes from (``plan.json``, ``nisd resilience``, maps, reports, comparisons,
ladders, sweeps and the independent checker).

After a scenario, demand point ``i`` may send its load ``L_i`` to a surviving
site ``j`` when the arc ``(i, j)`` is usable: ``j`` is one of the sites that
hold ``i``'s data (its primary and backups) and ``j`` is reachable within
``i``'s crisis latency bound over the surviving fibre. Load may be split
over several usable sites. No site carries more than its capacity ``C_j``.
The served flow ``f`` solves the linear programme

.. math::

    \\max \\sum_{(i,j)} w_{c(i)} f_{ij} \\quad\\text{s.t.}\\quad
    \\sum_j f_{ij} \\le L_i,\\;\\; \\sum_i f_{ij} \\le C_j,\\;\\; f \\ge 0

with class weights strictly decreasing from the most to the least critical
class (``w = K, K-1, ..., 1``). This weighted optimum *is* the lexicographic
one (as much critical load as possible, then as much high load as possible,
then normal): the vectors of load servable from the demand points of a
single-sink flow network form a polymatroid, and over a polymatroid a linear
objective with weights sorted by class is maximised by the greedy vector,
which reaches the rank of every prefix of classes at once; since
``w·x = Σ_k (w_k - w_{k+1}) x(S_1 ∪ … ∪ S_k)`` with every coefficient
positive, *every* optimum reaches those ranks (Edmonds 1970, *Submodular
functions, matroids and certain polyhedra*; Fujishige, *Submodular Functions
and Optimization*, 2005, §3.2). A second LP keeps these class totals and
keeps as much load as possible at each demand point's primary site, so that
the load a site carries in a scenario is what the scenario needs there, not
an arbitrary optimum.

Service levels (a share of each class's load that must be served) are
checked exactly: when the lexicographic flow misses a level, a third LP asks
whether any flow meets every level at once (a more critical class may then
give up load it does not need).

Sub-problems that repeat (scenarios that touch nothing the plan uses) are
solved once (:class:`FlowCache`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix, csr_matrix, vstack

from nisd.topology.latency import unique_rows

TOL = 1e-6


@dataclass(frozen=True)
class Flow:
    """The served flow of one sub-problem.

    Attributes
    ----------
    served : ndarray (I,)
        Load served per demand point.
    site_load : ndarray (J,)
        Load carried per site.
    arcs : ndarray (E, 2)
        The usable arcs ``(i, j)``; ``flow`` (E,) their flow.
    met : bool or None
        Every service level met (None when no levels were asked for).
    """

    served: np.ndarray
    site_load: np.ndarray
    arcs: np.ndarray
    flow: np.ndarray
    met: bool | None


def _matrices(arcs: np.ndarray, n_i: int, n_j: int) -> tuple[csr_matrix, csr_matrix]:
    e = len(arcs)
    cols = np.arange(e)
    by_i = coo_matrix((np.ones(e), (arcs[:, 0], cols)), shape=(n_i, e)).tocsr()
    by_j = coo_matrix((np.ones(e), (arcs[:, 1], cols)), shape=(n_j, e)).tocsr()
    return by_i, by_j


def _lp(
    c: np.ndarray,
    a_ub: csr_matrix,
    b_ub: np.ndarray,
) -> np.ndarray | None:
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:
        return None
    return np.asarray(res.x)


def _asked(usable: np.ndarray, base: np.ndarray | None) -> np.ndarray:
    """The usable arcs of the users the scenario asks to serve (a user whose ``base`` is 0,
    cut off or on a skipped island, is served nothing)."""
    if base is None:
        return usable
    return usable & (np.asarray(base, float) > TOL)[:, None]


def _usable_arcs(
    load: np.ndarray, rank: np.ndarray, capacity: np.ndarray, usable: np.ndarray
) -> tuple[np.ndarray, int]:
    """The arcs ``(i, j)`` that can carry load, and the number of classes."""
    arcs = np.argwhere(usable & (capacity[None, :] > TOL) & (load[:, None] > TOL))
    return arcs, int(rank.max()) + 1 if len(rank) else 1


def _nothing_served(
    load: np.ndarray,
    rank: np.ndarray,
    n_j: int,
    levels: np.ndarray | None,
    base: np.ndarray | None,
    k: int,
) -> Flow:
    """The flow when no arc can carry load (levels met only when they ask for nothing)."""
    zero = np.zeros(len(load))
    met = None if levels is None else levels_met(zero, rank, levels, base, load, k)
    return Flow(zero, np.zeros(n_j), np.zeros((0, 2), dtype=np.int64), np.zeros(0), met)


def serve(
    load: np.ndarray,
    rank: np.ndarray,
    capacity: np.ndarray,
    usable: np.ndarray,
    *,
    primary: np.ndarray | None = None,
    levels: np.ndarray | None = None,
    base: np.ndarray | None = None,
    split: bool = True,
    merge: bool = True,
) -> Flow:
    """The served flow of one scenario's surviving sub-problem.

    Parameters
    ----------
    load : ndarray (I,)
        Load of each demand point (racks).
    rank : ndarray of int (I,)
        Criticality rank of each demand point, 0 the most critical.
    capacity : ndarray (J,)
        Capacity of each site (0 for a lost site).
    usable : ndarray of bool (I, J)
        Arc ``(i, j)`` usable in this scenario.
    primary : ndarray of int (I,), optional
        Index of each demand point's primary site (-1 for none); load stays
        there where the class totals allow it.
    levels : ndarray (K,), optional
        Share of each class's ``base`` load that must be served.
    base : ndarray (I,), optional
        Load that counts towards the levels: the load of each user not cut off, 0 for a
        user cut off from every site (or left on an island with ``crisis.islands =
        "skip"``). Such a user is served nothing: its load is lost, and neither counts
        towards a level nor takes room a counted user could use. Defaults to ``load``.
    split : bool
        A point's load may be split over several usable sites (the default); when
        False each point is served whole by one site or not at all (:func:`serve_whole`).
    merge : bool
        With splitting, points of one class and one primary that can use the same sites
        are served as one (their loads summed) and the flow is shared back in proportion
        to their loads: the same optimum, from a much smaller LP when thousands of
        users sit in a few hundred places (the default). False solves every point apart.

    Returns
    -------
    Flow

    Examples
    --------
    Two critical points of 10 racks and one site of 15 racks: 15 are served.

    >>> f = serve(np.array([10.0, 10.0]), np.array([0, 0]), np.array([15.0]),
    ...           np.array([[True], [True]]))
    >>> float(f.served.sum()), float(f.site_load[0])
    (15.0, 15.0)
    """
    n_i, n_j = usable.shape
    usable = _asked(usable, base)
    # an unbounded site holds at most all the load (keeps the LP finite)
    capacity = np.minimum(np.asarray(capacity, float), float(load.sum()))
    if not split:
        return serve_whole(load, rank, capacity, usable, primary=primary, levels=levels, base=base)
    if merge and n_i > 1:
        merged = _merged(load, rank, capacity, usable, primary, levels, base)
        if merged is not None:
            return merged
    arcs, k = _usable_arcs(load, rank, capacity, usable)
    if len(arcs) == 0:
        return _nothing_served(load, rank, n_j, levels, base, k)
    by_i, by_j = _matrices(arcs, n_i, n_j)
    a_ub = vstack([by_i, by_j]).tocsr()
    b_ub = np.concatenate([load, capacity])
    weight = (k - rank[arcs[:, 0]]).astype(float)
    x = _lp(-weight, a_ub, b_ub)
    if x is None:  # pragma: no cover - the LP is always feasible (f = 0) and bounded
        raise RuntimeError("served-load LP failed")
    served = np.asarray(by_i @ x)
    met: bool | None = None
    if levels is not None:
        met = levels_met(served, rank, levels, base, load, k)
        if not met:
            y = _meet_levels(arcs, by_i, a_ub, b_ub, rank, levels, base, load, k, weight)
            if y is not None:
                x, met = y, True
                served = np.asarray(by_i @ x)
    if primary is not None:
        x = _stay(arcs, by_i, a_ub, b_ub, rank, served, primary, k, x)
        served = np.asarray(by_i @ x)
    x = np.clip(x, 0.0, None)
    return Flow(served, np.asarray(by_j @ x), arcs, x, met)


def _merged(
    load: np.ndarray,
    rank: np.ndarray,
    capacity: np.ndarray,
    usable: np.ndarray,
    primary: np.ndarray | None,
    levels: np.ndarray | None,
    base: np.ndarray | None,
) -> Flow | None:
    """:func:`serve` of the points merged by (class, primary, usable sites), shared back
    in proportion to the loads; None when no two points merge."""
    n_i = len(load)
    prim = np.full(n_i, -1, dtype=np.int64) if primary is None else np.asarray(primary)
    key = np.column_stack([rank, prim, np.packbits(usable, axis=1).astype(np.int64)])
    first, label = unique_rows(key)
    if len(first) == n_i:
        return None
    n_g = len(first)
    g_load = np.bincount(label, weights=load, minlength=n_g)
    g_base = None if base is None else np.bincount(label, weights=base, minlength=n_g)
    f = serve(
        g_load,
        rank[first],
        capacity,
        usable[first],
        primary=None if primary is None else prim[first],
        levels=levels,
        base=g_base,
        merge=False,
    )
    share = np.divide(load, g_load[label], out=np.zeros(n_i), where=g_load[label] > 0)
    served = f.served[label] * share
    # every arc (group, j) becomes one arc (member, j) per member, flow shared by load
    order = np.argsort(label, kind="stable")
    count = np.bincount(label, minlength=n_g)
    start = np.cumsum(count) - count
    per_arc = count[f.arcs[:, 0]]
    offset = np.arange(int(per_arc.sum())) - np.repeat(np.cumsum(per_arc) - per_arc, per_arc)
    users = order[np.repeat(start[f.arcs[:, 0]], per_arc) + offset]
    arcs = np.column_stack([users, np.repeat(f.arcs[:, 1], per_arc)]).astype(np.int64)
    flow = np.repeat(f.flow, per_arc) * share[users]
    keep = load[users] > TOL
    arcs, flow = arcs[keep], flow[keep]
    o = np.lexsort((arcs[:, 1], arcs[:, 0]))
    return Flow(served, f.site_load, arcs[o].reshape(-1, 2), flow[o], f.met)


def serve_whole(
    load: np.ndarray,
    rank: np.ndarray,
    capacity: np.ndarray,
    usable: np.ndarray,
    *,
    primary: np.ndarray | None = None,
    levels: np.ndarray | None = None,
    base: np.ndarray | None = None,
) -> Flow:
    """Served load when every point is served whole by one usable site, or not at all.

    Binary ``z_ij`` (point i served by site j), ``Σ_j z_ij ≤ 1``, ``Σ_i L_i z_ij ≤ C_j``.
    Lexicographic by class, solved exactly as a sequence of small MILPs (the
    polymatroid argument of :func:`serve` does not hold for unsplittable load):
    maximise the critical load served, hold it, then the high load, and so on;
    service levels, when the lexicographic answer misses them, by one more MILP
    with the class totals bounded below; finally as much load as possible at
    each point's primary with every class total held.

    Examples
    --------
    Two critical points of 10 racks and one site of 15 racks: only one fits.

    >>> f = serve_whole(np.array([10.0, 10.0]), np.array([0, 0]), np.array([15.0]),
    ...                 np.array([[True], [True]]))
    >>> float(f.served.sum())
    10.0
    """
    n_i, n_j = usable.shape
    usable = _asked(usable, base)
    arcs, k = _usable_arcs(load, rank, capacity, usable)
    if len(arcs) == 0:
        return _nothing_served(load, rank, n_j, levels, base, k)
    e = len(arcs)
    w = load[arcs[:, 0]]
    by_i, by_j = _matrices(arcs, n_i, n_j)
    cls = coo_matrix((w, (rank[arcs[:, 0]], np.arange(e))), shape=(k, e)).tocsr()
    base_rows = [
        LinearConstraint(by_i, -np.inf, 1.0),
        LinearConstraint(by_j.multiply(w[None, :]).tocsr(), -np.inf, capacity),
    ]

    def best(c: np.ndarray, extra: list[LinearConstraint]) -> np.ndarray | None:
        res = milp(
            -c,
            constraints=base_rows + extra,
            integrality=np.ones(e),
            bounds=Bounds(0, 1),
            options={"mip_rel_gap": 0.0},
        )
        return None if res.x is None else np.round(np.asarray(res.x))

    def hold(totals: np.ndarray, upto: int) -> list[LinearConstraint]:
        return [LinearConstraint(cls[:upto], totals[:upto] - TOL, np.inf)] if upto else []

    z = np.zeros(e)
    totals = np.zeros(k)
    for c in range(k):
        got = best(np.asarray(cls[c].todense()).ravel(), hold(totals, c))
        if got is None:  # pragma: no cover - z = 0 is always feasible
            raise RuntimeError("served-load MILP failed")
        z, totals = got, np.asarray(cls @ got).ravel()
    met: bool | None = None
    if levels is not None:
        need = _class_totals(base if base is not None else load, rank, k) * _pad(levels, k)
        met = bool((totals >= need - TOL * np.maximum(1.0, need)).all())
        if not met:
            weight = (k - rank[arcs[:, 0]]).astype(float) * w
            cut = need - 0.5 * TOL * np.maximum(1.0, need)
            got = best(weight, [LinearConstraint(cls, cut, np.inf)])
            if got is not None:
                z, met = got, True
                totals = np.asarray(cls @ z).ravel()
    if primary is not None:
        at_primary = (primary[arcs[:, 0]] == arcs[:, 1]).astype(float) * w
        if at_primary.any():
            got = best(at_primary, hold(totals, k))
            z = z if got is None else got
    flow = z * w
    return Flow(np.asarray(by_i @ flow), np.asarray(by_j @ flow), arcs, flow, met)


def _class_totals(values: np.ndarray, rank: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(rank, weights=values, minlength=k)[:k]


def levels_met(
    served: np.ndarray,
    rank: np.ndarray,
    levels: np.ndarray,
    base: np.ndarray | None,
    load: np.ndarray,
    k: int,
) -> bool:
    need = _class_totals(base if base is not None else load, rank, k) * _pad(levels, k)
    got = _class_totals(served, rank, k)
    return bool((got >= need - TOL * np.maximum(1.0, need)).all())


def _pad(levels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros(k)
    out[: min(k, len(levels))] = levels[:k]
    return out


def _meet_levels(
    arcs: np.ndarray,
    by_i: csr_matrix,
    a_ub: csr_matrix,
    b_ub: np.ndarray,
    rank: np.ndarray,
    levels: np.ndarray,
    base: np.ndarray | None,
    load: np.ndarray,
    k: int,
    weight: np.ndarray,
) -> np.ndarray | None:
    """A flow meeting every level (then as much weighted load as possible), or None."""
    need = _class_totals(base if base is not None else load, rank, k) * _pad(levels, k)
    cls = coo_matrix(
        (np.ones(len(arcs)), (rank[arcs[:, 0]], np.arange(len(arcs)))), shape=(k, len(arcs))
    ).tocsr()
    active = need > TOL
    if not active.any():
        return None
    a = vstack([a_ub, -cls[np.nonzero(active)[0]]]).tocsr()
    # a little inside the acceptance test of levels_met, so that the LP's answer passes it
    b = np.concatenate([b_ub, -(need[active] - 0.5 * TOL * np.maximum(1.0, need[active]))])
    return _lp(-weight, a, b)


def _stay(
    arcs: np.ndarray,
    by_i: csr_matrix,
    a_ub: csr_matrix,
    b_ub: np.ndarray,
    rank: np.ndarray,
    served: np.ndarray,
    primary: np.ndarray,
    k: int,
    x: np.ndarray,
) -> np.ndarray:
    """Keep each demand point's served load, and as much of it at its primary as possible."""
    at_primary = primary[arcs[:, 0]] == arcs[:, 1]
    if not at_primary.any():
        return x
    a = vstack([a_ub, -by_i]).tocsr()
    b = np.concatenate([b_ub, -served * (1 - 1e-9) + 1e-12])
    y = _lp(-at_primary.astype(float), a, b)
    return x if y is None else y


@dataclass
class FlowCache:
    """One evaluation's sub-problems, solved once each.

    The users' load, classes and primaries and the splitting rule stay fixed
    for the cache's life; a sub-problem is keyed by what a scenario changes:
    the capacities, the usable arcs, the levels and the load that counts.
    """

    load: np.ndarray
    rank: np.ndarray
    primary: np.ndarray | None = None
    split: bool = True
    hits: int = 0
    misses: int = 0
    _memo: dict[bytes, Flow] = field(default_factory=dict)

    def serve(
        self,
        capacity: np.ndarray,
        usable: np.ndarray,
        levels: np.ndarray | None = None,
        base: np.ndarray | None = None,
    ) -> Flow:
        """:func:`serve` of this sub-problem, from the memo when seen before."""
        key = b"|".join(
            [
                np.packbits(usable).tobytes(),
                capacity.tobytes(),
                b"" if levels is None else np.asarray(levels, float).tobytes(),
                b"" if base is None else base.tobytes(),
            ]
        )
        hit = self._memo.get(key)
        if hit is not None:
            self.hits += 1
            return hit
        self.misses += 1
        out = serve(
            self.load,
            self.rank,
            capacity,
            usable,
            primary=self.primary,
            levels=levels,
            base=base,
            split=self.split,
        )
        self._memo[key] = out
        return out


def class_shares(
    served: np.ndarray, load: np.ndarray, rank: np.ndarray, names: Sequence[str]
) -> dict[str, float | None]:
    """Share of each class's whole load served (None for a class with no load)."""
    k = len(names)
    got = _class_totals(served, rank, k)
    tot = _class_totals(load, rank, k)
    return {
        n: (round(float(g / t), 6) if t > TOL else None)
        for n, g, t in zip(names, got, tot, strict=True)
    }


def islanded(connected: np.ndarray) -> np.ndarray:
    """Users that a scenario leaves on an island, apart from the national network.

    ``connected`` is ``(I, J)``: after the scenario, user ``i`` still has a fibre
    route (of any length) to surviving candidate site ``j``. Routes connect
    within one piece of the surviving network, so each user's row is the set of
    candidate sites in its piece. The national network is the piece, of those
    with users, with the most surviving candidate sites (ties: the piece of the
    lowest site index).
    A user is islanded when it still reaches some candidate site, but none in
    the national network: serving it would take a copy of its data on its
    island. Users that reach no candidate site at all are *cut off*, not
    islanded.

    Returns
    -------
    numpy.ndarray
        ``(I,)`` bool.
    """
    connected = np.asarray(connected, dtype=bool)
    if connected.size == 0:
        return np.zeros(connected.shape[0], dtype=bool)
    first, label = unique_rows(connected)
    rows = connected[first]
    pieces = [r for r in rows if r.any()]
    if len(pieces) < 2:
        return np.zeros(connected.shape[0], dtype=bool)
    main = max(pieces, key=lambda r: (int(r.sum()), -int(np.argmax(r))))
    return np.asarray((rows.any(axis=1) & ~(rows & main[None, :]).any(axis=1))[label])
