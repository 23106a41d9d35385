"""Capacity-true resilience of a placement under failure scenarios.

For each scenario: which opened sites and links survive; how much of each
demand point's load is still served, re-routing over what survives, within
its latency bound and within the capacity of the surviving sites, critical
load first (:mod:`nisd.topology.served`, the one definition of "served");
which points lose service wholly or in part, which are cut off from every
candidate site, which sites run full; whether the surviving sites are still
connected to each other by one route and by two link-disjoint routes.

A demand point with known assignments (primary, backups) can only be served
by its assigned sites (its data lives there); without assignments any opened
site serves. The bound is the demand's crisis latency by default
(``bound="crisis"``; also ``"primary"`` or ``"backup"``).

Speed: shortest-route trees from the opened sites are computed once; a
scenario that fails no site, node or link of those trees cannot change any
route latency, and flow sub-problems that repeat are solved once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from nisd.dataset import Dataset
from nisd.errors import InputError, Problem
from nisd.records.base import Record
from nisd.records.plan import ScenarioRow
from nisd.topology.depends import Dependencies
from nisd.topology.latency import (
    RoutingGraph,
    csr,
    in_time,
    latency_matrix,
    latency_rows,
    routing_graph,
)
from nisd.topology.scenarios import Scenario, scenario_sets
from nisd.topology.served import TOL, Flow, FlowCache, class_shares, islanded

Bound = Literal["crisis", "primary", "backup"]


class ScenarioExtra(Record):
    """The evaluator's further figures of a scenario (``nisd resilience``): what failed,
    how many sites and links are up, whether the surviving sites stay connected."""

    failed: tuple[str, ...] = ()
    sites_up: int = 0
    links_down: int = 0
    sites_connected: bool = True
    sites_two_routes: bool | None = None


@dataclass(frozen=True)
class ResilienceResult:
    """Per scenario: the record every file and page shows (``rows``) and the evaluator's
    further figures (``extra``); and summaries."""

    rows: tuple[ScenarioRow, ...]
    extra: tuple[ScenarioExtra, ...]
    baseline_share: float
    opened: tuple[str, ...]
    flows: tuple[int, int] = (0, 0)  # served-flow sub-problems reused, solved

    def extras(self) -> tuple[ScenarioExtra, ...]:
        return self.extra

    @property
    def table(self) -> pd.DataFrame:
        """Every scenario, one row each, every figure a column."""
        return pd.DataFrame(
            [{**r.to_json(), **x.to_json()} for r, x in zip(self.rows, self.extra, strict=True)],
            columns=COLUMNS,
        )

    def worst_rows(self, n: int = 5) -> list[ScenarioRow]:
        """The ``n`` scenarios with the smallest served share (ties by name)."""
        return sorted(self.rows, key=lambda r: (r.demand_served_share, r.scenario))[:n]

    def most_damaging(self, kind: str, n: int = 10) -> list[ScenarioRow]:
        """Elements of one single-failure kind ranked by the load lost when they fail."""
        mine = [r for r in self.rows if r.kind == kind]
        return sorted(mine, key=lambda r: (-r.load_lost, r.scenario))[:n]

    def to_json(self) -> dict[str, Any]:
        worst = self.worst_rows(1)
        both = {
            r.scenario: {**r.to_json(), **x.to_json()}
            for r, x in zip(self.rows, self.extra, strict=True)
        }
        return {
            "opened": list(self.opened),
            "baseline_share": self.baseline_share,
            "scenarios": list(both.values()),
            "worst": both[worst[0].scenario] if worst else None,
            "rankings": {
                k: [
                    {
                        "scenario": r.scenario,
                        "load_lost": r.load_lost,
                        "demand_served_share": r.demand_served_share,
                    }
                    for r in self.most_damaging(k, 10)
                ]
                for k in ("single-site", "single-link", "srlg")
                if any(r.kind == k for r in self.rows)
            },
        }


def edge_alive(rg: RoutingGraph, sc: Scenario) -> np.ndarray:
    """Per edge of ``rg``: does it survive scenario ``sc``?"""
    return rg.alive_mask(sc.sites | sc.nodes, sc.links, sc.srlgs)


def _tree_edges(rg: RoutingGraph, sources: Sequence[str], targets: Sequence[str]) -> np.ndarray:
    """Edges on the shortest routes from ``sources`` to ``targets`` (all parallel arcs kept).

    A failure that hits none of these edges and no source changes no
    source→target latency.
    """
    if not sources or not targets:
        return np.zeros(0, dtype=np.int64)
    m = csr(rg)
    rows = [rg.out_index[s] for s in sources]
    _d, pred = dijkstra(m, directed=True, indices=rows, return_predecessors=True)
    tgt = np.array([rg.in_index[t] for t in targets], dtype=np.int64)
    pairs: set[tuple[int, int]] = set()
    for r in range(pred.shape[0]):
        p = pred[r]
        seen: set[int] = set()
        for v in tgt.tolist():
            while p[v] >= 0 and v not in seen:
                seen.add(v)
                pairs.add((int(p[v]), v))
                v = int(p[v])
    if not pairs:
        return np.zeros(0, dtype=np.int64)
    code = rg.arc_src * rg.n + rg.arc_dst
    wanted = np.array([a * rg.n + b for a, b in pairs], dtype=np.int64)
    return np.unique(rg.arc_edge[np.isin(code, wanted)])


def _two_connected(
    g: nx.MultiGraph, sites: Sequence[str], alive_keys: set[str]
) -> tuple[bool, bool]:
    """Are the ``sites`` connected by one route, and pairwise by two link-disjoint routes?"""
    if len(sites) <= 1:
        return True, True
    keep = [v for v, d in g.nodes(data=True) if d.get("transit", True) or v in sites]
    h = nx.MultiGraph()
    h.add_nodes_from(keep)
    ks = set(keep)
    h.add_edges_from(
        (u, v, k) for u, v, k in g.edges(keys=True) if k in alive_keys and u in ks and v in ks
    )
    comp = nx.node_connected_component(h, sites[0])
    one = all(s in comp for s in sites)
    if not one:
        return False, False
    h2 = nx.MultiGraph(h)
    h2.remove_edges_from([(u, v) for u, v in nx.bridges(h)])
    comp2 = nx.node_connected_component(h2, sites[0])
    return True, all(s in comp2 for s in sites)


def check_opened(ds: Dataset, opened: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    """Opened site id → type id, sorted; unknown sites or types are an InputError.

    A plain list of ids gives each site its largest allowed type (what
    ``nisd resilience --sites`` assumes when no type is written).
    """
    if not isinstance(opened, Mapping):
        opened = {s: "" for s in opened}
    unknown = sorted(set(opened) - set(ds.site_ids))
    if unknown:
        raise InputError([Problem("sites", f"unknown site id(s) {', '.join(unknown)}")])
    if not opened:
        raise InputError([Problem("sites", "no opened sites given")])
    types = ds.type_by_id
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for s in sorted(opened):
        allowed = ds.allowed_types(ds.site_by_id[s])
        t = opened[s]
        if not t:
            t = max(allowed, key=lambda x: (types[x].capacity, x)) if allowed else ""
        if t not in allowed:
            problems.append(Problem("sites", f"site {s}: type {t!r} is not allowed there"))
        out[s] = t
    if problems:
        raise InputError(problems)
    return out


def site_capacity(ds: Dataset, site_id: str, type_id: str) -> float:
    """Racks a site of this type holds (the site's own capacity overrides the type's)."""
    own = ds.site_by_id[site_id].capacity
    return float(own) if own is not None else float(ds.type_by_id[type_id].capacity)


def evaluate(
    ds: Dataset,
    g: nx.MultiGraph,
    opened: Sequence[str] | Mapping[str, str],
    scenarios: Sequence[Scenario] | str,
    *,
    assignments: Mapping[str, Sequence[str]] | None = None,
    levels: Mapping[str, Sequence[float]] | Sequence[float] | None = None,
    bound: Bound = "crisis",
    check_two_routes: bool = True,
    split: bool = True,
    islands: bool = False,
) -> ResilienceResult:
    """Capacity-true evaluation of a placement under every scenario.

    The served load of each scenario comes from :func:`nisd.topology.served.serve`:
    a flow from each demand point to the surviving opened sites that hold its
    data (its assigned sites; every opened site when no assignments are given)
    and that it still reaches within its latency bound over the surviving
    fibre, no site beyond its capacity, critical load first.

    Parameters
    ----------
    ds, g : Dataset and its planning graph.
    opened : mapping or sequence of str
        Opened site id → type id (a plain list takes each site's largest type).
    scenarios : sequence of Scenario, or a comma-separated string of set names
    assignments : mapping, optional
        Demand id to its ordered assigned site ids (primary first).
    levels : sequence of float, or mapping of scenario name to one, optional
        Share of each criticality class's load (most critical first) that must
        be served; ``levels_met`` says whether some flow meets them.
    bound : {"crisis", "primary", "backup"}
        Which latency bound of each demand point counts.
    check_two_routes : bool
        Also test two link-disjoint routes between surviving sites (costs a
        bridge search per scenario).
    split : bool
        A user's load may be split over several surviving sites (else it moves whole).
    islands : bool
        Users a scenario leaves on an island apart from the national network
        (:func:`nisd.topology.served.islanded`) count as cut off: their load is
        lost and not asked of the service levels (the crisis option ``islands = "skip"``).

    Returns
    -------
    ResilienceResult
        ``table`` columns: ``scenario``, ``kind``, ``failed``, ``meaning``,
        ``sites_up``, ``sites_down``, ``links_down``, ``demand_served_share``
        (served load / all load, cut-off load counted as lost),
        ``served_by_class``, ``reachable_share`` and ``reachable_by_class`` (the same
        over the load not cut off: what the plan's sites serve of the users that any
        site could still serve), ``load_lost``, ``unserved`` (demand points that
        lose all service), ``partly_served`` (id → racks lost), ``cut_off``
        (demand points no surviving candidate site could reach; with ``islands``,
        also the islanded ones), ``islanded`` (demand points on an island apart from
        the national network, whether skipped or not), ``site_load``
        (id → racks carried), ``full_sites``, ``levels_met``,
        ``sites_connected``, ``sites_two_routes``.
    """
    types = check_opened(ds, opened)
    names = sorted(types)
    if isinstance(scenarios, str):
        scenarios = scenario_sets(ds, g, scenarios.split(","), names)
    rg = routing_graph(g)
    demand = list(ds.demand)
    ids = [d.demand_id for d in demand]
    load = np.array([d.load for d in demand], dtype=float)
    rank = np.array([ds.criticality_rank(d.criticality) for d in demand], dtype=np.int64)
    classes = list(ds.config.criticality.levels)
    total = float(load.sum()) or 1.0
    lim = np.array([getattr(d, f"{bound}_ms") for d in demand])
    cap = np.array([site_capacity(ds, s, types[s]) for s in names])
    holds = np.ones((len(ids), len(names)), dtype=bool)
    primary = np.full(len(ids), -1, dtype=np.int64)
    if assignments is not None:
        col = {s: j for j, s in enumerate(names)}
        for i, d in enumerate(ids):
            seq = [s for s in assignments.get(d, []) if s in col]
            holds[i] = False
            holds[i, [col[s] for s in seq]] = True
            if seq:
                primary[i] = col[seq[0]]
    all_keys = {k for _u, _v, k in rg.edge_keys}
    targets = list(ids) + list(names)
    n_d = len(ids)
    # Baseline latency rows, one per opened site, and each site's shortest-route tree:
    # a scenario recomputes only the rows of sites whose tree it touches.
    base_lat = latency_matrix(rg, names, targets)
    trees = [_tree_edges(rg, [s], targets) for s in names]
    cand = list(ds.site_ids)
    reach_memo: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def reachable(alive: np.ndarray, lost: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """(I, J_all) demand point reaches candidate site within its bound; at all (the
        columns of ``lost`` sites are not meaningful: read them with ``cand_up``)."""
        routes = rg.routes_alive(alive, lost)
        key = np.packbits(routes).tobytes()
        if key not in reach_memo:
            # kept per distinct (latency row, bound): co-located users share them
            m = latency_rows(rg, ids, cand, alive=routes)
            first, label, timely = m.within(lim)
            reach_memo[key] = (timely, np.isfinite(m.rows[m.index[first]]), label)
        timely, linked, label = reach_memo[key]
        return timely[label], linked[label]

    cache = FlowCache(load, rank, primary, split)
    deps = Dependencies.of(demand)

    def flow(lat: np.ndarray, up: np.ndarray, lv: np.ndarray | None, base: np.ndarray) -> Flow:
        usable = in_time(lat[:, :n_d].T, lim[:, None]) & holds & up[None, :]
        fl = cache.serve(np.where(up, cap, 0.0), usable, lv, base)
        return deps.flow(fl, load, rank, lv, base)

    def levels_of(name: str) -> np.ndarray | None:
        if levels is None:
            return None
        if isinstance(levels, Mapping):
            v = levels.get(name)
            return None if v is None else np.asarray(v, float)
        return np.asarray(levels, float)

    everyone = np.ones(len(names), dtype=bool)
    base_flow = flow(base_lat, everyone, None, load)
    if check_two_routes:
        base_conn = _two_connected(g, names, all_keys)
    else:
        base_conn = (bool(np.isfinite(base_lat[:, n_d:]).all()), False)
    cand_idx = {s: j for j, s in enumerate(cand)}
    records: list[ScenarioRow] = []
    extra: list[ScenarioExtra] = []
    for sc in scenarios:
        alive = edge_alive(rg, sc)
        up = np.array([s not in sc.sites for s in names])
        stale = [j for j in range(len(names)) if up[j] and len(trees[j])]
        stale = [j for j in stale if bool((~alive[trees[j]]).any())]
        lat = base_lat
        if stale:
            lat = base_lat.copy()
            lat[stale] = latency_matrix(rg, [names[j] for j in stale], targets, alive=alive)
        cand_up = np.ones(len(cand), dtype=bool)
        cand_up[[cand_idx[s] for s in sc.sites if s in cand_idx]] = False
        timely, linked = reachable(alive, sc.sites)
        cut = np.asarray(~(timely & cand_up[None, :]).any(axis=1))
        island = islanded(linked & cand_up[None, :]) & ~cut
        if islands:
            cut = cut | island
        if deps:
            cut = deps.cut(cut)
        base = np.where(cut, 0.0, load)
        fl = flow(lat, up, levels_of(sc.name), base)
        if check_two_routes:
            keys = {rg.edge_keys[i][2] for i in np.nonzero(alive)[0]}
            conn1, conn2 = _two_connected(g, [names[j] for j in np.nonzero(up)[0]], keys)
        elif stale or not up.all():
            upi = np.nonzero(up)[0]
            cols = [n_d + j for j in upi]
            conn1, conn2 = bool(np.isfinite(lat[np.ix_(upi, cols)]).all()), False
        else:
            conn1, conn2 = base_conn
        lv = levels_of(sc.name)
        row = _row(sc, names, ids, load, rank, classes, total, cap, up, cut, fl).model_copy(
            update={
                "islanded": tuple(ids[int(i)] for i in np.nonzero(island)[0]),
                "levels": None
                if lv is None
                else {c: float(v) for c, v in zip(classes, lv, strict=True) if v > 0},
            }
        )
        records.append(row)
        extra.append(
            ScenarioExtra(
                failed=tuple(sc.failed),
                sites_up=int(up.sum()),
                links_down=int((~alive).sum()),
                sites_connected=conn1,
                sites_two_routes=conn2 if check_two_routes else None,
            )
        )
    return ResilienceResult(
        tuple(records),
        tuple(extra),
        float(base_flow.served.sum()) / total,
        tuple(names),
        flows=(cache.hits, cache.misses),
    )


COLUMNS = [
    "scenario",
    "kind",
    "failed",
    "meaning",
    "sites_up",
    "sites_down",
    "links_down",
    "demand_served_share",
    "served_by_class",
    "reachable_share",
    "reachable_by_class",
    "load_lost",
    "unserved",
    "partly_served",
    "cut_off",
    "islanded",
    "site_load",
    "full_sites",
    "levels_met",
    "sites_connected",
    "sites_two_routes",
]


def _row(
    sc: Scenario,
    names: Sequence[str],
    ids: Sequence[str],
    load: np.ndarray,
    rank: np.ndarray,
    classes: Sequence[str],
    total: float,
    cap: np.ndarray,
    up: np.ndarray,
    cut: np.ndarray,
    fl: Flow,
) -> ScenarioRow:
    served = np.minimum(fl.served, load)
    lost = load - served
    reachable = np.where(cut, 0.0, load)
    gone = served <= TOL * np.maximum(1.0, load)
    part = (~gone) & (lost > TOL * np.maximum(1.0, load))
    full = up & (cap > TOL) & (fl.site_load >= cap * (1 - 1e-6) - TOL)
    return ScenarioRow(
        scenario=sc.name,
        kind=sc.kind,
        meaning=sc.meaning,
        sites_down=tuple(s for s, u in zip(names, up, strict=True) if not u),
        demand_served_share=round(float(served.sum()) / total, 9),
        served_by_class=class_shares(served, load, rank, classes),
        reachable_share=round(float(served[~cut].sum()) / float(reachable.sum()), 9)
        if reachable.sum() > TOL
        else None,
        reachable_by_class=class_shares(np.where(cut, 0.0, served), reachable, rank, classes),
        load_lost=round(float(lost.sum()), 6),
        unserved=tuple(ids[int(i)] for i in np.nonzero(gone & (load > TOL))[0]),
        partly_served={ids[int(i)]: round(float(lost[i]), 6) for i in np.nonzero(part)[0]},
        cut_off=tuple(ids[int(i)] for i in np.nonzero(cut)[0]),
        site_load={
            s: round(float(v), 6) for s, v, u in zip(names, fl.site_load, up, strict=True) if u
        },
        full_sites=tuple(s for s, f in zip(names, full, strict=True) if f),
        levels_met=fl.met,
    )
