"""Resilience of a given placement under failure scenarios.

For each scenario: which opened sites and links survive; which demand is
still served by a surviving opened site within its latency bound, re-routing
over what survives; the demand-weighted share served; whether the surviving
sites are still connected to each other by one route and by two
link-disjoint routes.

A demand point with known assignments (primary, backups) counts as served
only by one of its assigned sites; without assignments any opened site
serves. The bound is the demand's crisis latency by default
(``bound="crisis"``; also ``"primary"`` or ``"backup"``).

Speed: shortest-route trees from the opened sites are computed once; a
scenario that fails no site, node or link of those trees cannot change any
route latency, so its result is the baseline's without a new Dijkstra run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from nisd.dataset import Dataset
from nisd.errors import InputError, Problem
from nisd.topology.latency import RoutingGraph, csr, latency_matrix, routing_graph
from nisd.topology.scenarios import Scenario, scenario_sets

Bound = Literal["crisis", "primary", "backup"]


@dataclass(frozen=True)
class ResilienceResult:
    """Per-scenario table and summaries."""

    table: pd.DataFrame
    baseline_share: float
    opened: tuple[str, ...]

    def worst(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` scenarios with the smallest served share (ties by name)."""
        return self.table.sort_values(["demand_served_share", "scenario"]).head(n)

    def ranking(self, kind: str) -> pd.DataFrame:
        """Elements of one single-failure kind ranked by the load lost when they fail."""
        t = self.table[self.table.kind == kind]
        return t.sort_values(["load_lost", "scenario"], ascending=[False, True])[
            ["scenario", "load_lost", "demand_served_share"]
        ]

    def to_json(self) -> dict[str, Any]:
        rows = self.table.to_dict("records")
        worst = self.worst(1).to_dict("records")
        return {
            "opened": list(self.opened),
            "baseline_share": self.baseline_share,
            "scenarios": [_clean(r) for r in rows],
            "worst": _clean(worst[0]) if worst else None,
            "rankings": {
                k: [_clean(r) for r in self.ranking(k).head(10).to_dict("records")]
                for k in ("single-site", "single-link", "srlg")
                if (self.table.kind == k).any()
            },
        }


def _clean(r: Mapping[Any, Any]) -> dict[str, Any]:
    out = {}
    for k, v in r.items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            v = None
        out[str(k)] = v
    return out


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


def check_opened(ds: Dataset, opened: Sequence[str]) -> list[str]:
    """The opened site ids, sorted and unique; unknown or no ids are an InputError."""
    unknown = sorted(set(opened) - set(ds.site_ids))
    if unknown:
        raise InputError([Problem("--sites", f"unknown site id(s) {', '.join(unknown)}")])
    if not opened:
        raise InputError([Problem("--sites", "no opened sites given")])
    return sorted(set(opened))


def evaluate(
    ds: Dataset,
    g: nx.MultiGraph,
    opened: Sequence[str],
    scenarios: Sequence[Scenario] | str,
    *,
    assignments: Mapping[str, Sequence[str]] | None = None,
    bound: Bound = "crisis",
    check_two_routes: bool = True,
) -> ResilienceResult:
    """Evaluate a placement under every scenario.

    Parameters
    ----------
    ds, g : Dataset and its planning graph.
    opened : sequence of str
        Opened site ids.
    scenarios : sequence of Scenario, or a comma-separated string of set names
    assignments : mapping, optional
        Demand id to its ordered assigned site ids.
    bound : {"crisis", "primary", "backup"}
        Which latency bound of each demand point counts.
    check_two_routes : bool
        Also test two link-disjoint routes between surviving sites (costs a
        bridge search per scenario).

    Returns
    -------
    ResilienceResult
        ``table`` columns: ``scenario``, ``kind``, ``failed``, ``meaning``,
        ``sites_up``, ``sites_down``, ``links_down``, ``demand_served_share``,
        ``load_lost``, ``unserved``, ``sites_connected``,
        ``sites_two_routes``.
    """
    opened = check_opened(ds, opened)
    if isinstance(scenarios, str):
        scenarios = scenario_sets(ds, g, scenarios.split(","), opened)
    rg = routing_graph(g)
    demand = list(ds.demand)
    ids = [d.demand_id for d in demand]
    load = np.array([d.load for d in demand])
    total = float(load.sum()) or 1.0
    lim = np.array([getattr(d, f"{bound}_ms") for d in demand])
    allowed = np.ones((len(opened), len(demand)), dtype=bool)
    if assignments is not None:
        for j, d in enumerate(ids):
            if d in assignments:
                allowed[:, j] = [s in assignments[d] for s in opened]
    all_keys = {k for _u, _v, k in rg.edge_keys}
    targets = list(ids) + list(opened)
    n_d = len(ids)
    # Baseline latency rows, one per opened site, and each site's shortest-route tree:
    # a scenario recomputes only the rows of sites whose tree it touches.
    base_lat = latency_matrix(rg, opened, targets)
    trees = [_tree_edges(rg, [s], targets) for s in opened]

    def served_from(lat: np.ndarray, up: list[int]) -> np.ndarray:
        if not up:
            return np.zeros(n_d, dtype=bool)
        ok = (lat[up, :n_d] <= lim[None, :] + 1e-9) & allowed[up]
        return np.asarray(ok.any(axis=0))

    def connected(lat: np.ndarray, up: list[int]) -> bool:
        cols = [n_d + i for i in up]
        return bool(np.isfinite(lat[np.ix_(up, cols)]).all()) if up else True

    everyone = list(range(len(opened)))
    base = served_from(base_lat, everyone)
    if check_two_routes:
        base_conn = _two_connected(g, opened, all_keys)
    else:
        base_conn = (connected(base_lat, everyone), False)
    rows = []
    for sc in scenarios:
        alive = edge_alive(rg, sc)
        down_sites = [s for s in opened if s in sc.sites]
        up = [i for i, s in enumerate(opened) if s not in sc.sites]
        stale = [i for i in up if len(trees[i]) and bool((~alive[trees[i]]).any())]
        touched = bool(down_sites) or bool(stale)
        if touched:
            lat = base_lat
            if stale:
                lat = base_lat.copy()
                lat[stale] = latency_matrix(rg, [opened[i] for i in stale], targets, alive=alive)
            served = served_from(lat, up)
        else:
            lat, served = base_lat, base
        up_ids = [opened[i] for i in up]
        if check_two_routes:
            keys = {rg.edge_keys[i][2] for i in np.nonzero(alive)[0]}
            conn1, conn2 = _two_connected(g, up_ids, keys)
        elif touched:
            conn1, conn2 = connected(lat, up), False
        else:
            conn1, conn2 = base_conn
        share = float(load[served].sum()) / total
        rows.append(
            {
                "scenario": sc.name,
                "kind": sc.kind,
                "failed": sc.failed,
                "meaning": sc.meaning,
                "sites_up": len(up),
                "sites_down": down_sites,
                "links_down": int((~alive).sum()),
                "demand_served_share": share,
                "load_lost": float(load[~served].sum()),
                "unserved": [ids[j] for j in np.nonzero(~served)[0]],
                "sites_connected": conn1,
                "sites_two_routes": conn2 if check_two_routes else None,
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "scenario",
            "kind",
            "failed",
            "meaning",
            "sites_up",
            "sites_down",
            "links_down",
            "demand_served_share",
            "load_lost",
            "unserved",
            "sites_connected",
            "sites_two_routes",
        ],
    )
    return ResilienceResult(table, float(load[base].sum()) / total, tuple(opened))
