"""Users a crisis leaves on an island apart from the national network: the definition
against networkx, the default data's islands, and the crisis option ``islands``."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.optimise.problem import from_dataset
from nisd.topology import build_graph
from nisd.topology.latency import latency_matrix, routing_graph
from nisd.topology.resilience import evaluate
from nisd.topology.scenarios import scenario_sets
from nisd.topology.served import islanded
from tests.helpers import transit_route_ms

ROOT = Path(__file__).resolve().parent.parent
NORTH = {"22", "23", "24", "25"}  # north of Gävleborg


@st.composite
def split_graphs(draw: st.DrawFn) -> tuple[nx.Graph, list[int], list[int]]:
    n = draw(st.integers(4, 12))
    edges = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1]),
            max_size=2 * n,
        )
    )
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    sites = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    users = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n))
    return g, sorted(sites), users


@settings(max_examples=60, deadline=None)
@given(split_graphs())
def test_islanded_is_apart_from_the_piece_with_most_sites(
    case: tuple[nx.Graph, list[int], list[int]],
) -> None:
    g, sites, users = case
    connected = np.array([[nx.has_path(g, u, s) for s in sites] for u in users])
    got = islanded(connected)
    # independently: the components of networkx with users, the one with most sites
    # (ties: lowest site)
    comps = [c for c in nx.connected_components(g) if any(u in c for u in users)]
    count = [sum(s in c for s in sites) for c in comps]
    first = [min((k for k, s in enumerate(sites) if s in c), default=len(sites)) for c in comps]
    main = comps[max(range(len(comps)), key=lambda c: (count[c], -first[c]))]
    for u, flag in zip(users, got, strict=True):
        mine = next(c for c in comps if u in c)
        if not any(s in c for c in comps for s in sites):
            assert not flag
            continue
        has_site = any(s in mine for s in sites)
        assert flag == (has_site and mine is not main), (u, sorted(mine), sorted(main))


@settings(max_examples=30, deadline=None)
@given(split_graphs(), st.data())
def test_latency_is_the_same_from_either_side(
    case: tuple[nx.Graph, list[int], list[int]], data: st.DataObject
) -> None:
    """latency_matrix searches from the fewer side; non-transit vertices stay ends only."""
    g0, sites, users = case
    g = nx.MultiGraph()
    for v in g0.nodes:
        g.add_node(str(v), transit=data.draw(st.booleans()))
    for k, (a, b) in enumerate(g0.edges):
        g.add_edge(str(a), str(b), key=f"l{k}", latency_ms=float(1 + (a * 7 + b * 3) % 5))
    rg = routing_graph(g)
    src = [str(u) for u in users]
    dst = [str(s) for s in sites]
    a = latency_matrix(rg, src, dst)
    b = latency_matrix(rg, dst, src).T
    assert np.array_equal(np.isinf(a), np.isinf(b))
    assert np.allclose(a[np.isfinite(a)], b[np.isfinite(b)])
    # and against networkx, walking only through transit vertices
    for i, u in enumerate(src):
        for j, s in enumerate(dst):
            want = transit_route_ms(g, u, s)
            assert a[i, j] == (0.0 if u == s else want) or np.isclose(a[i, j], want)


def test_gavleborg_leaves_the_north_on_an_island(sweden: Dataset) -> None:
    g = build_graph(sweden)
    sc = next(s for s in scenario_sets(sweden, g, ["county"], None) if s.name == "county 21")
    res = evaluate(sweden, g, {"s-sundsvall": "core", "s-goteborg": "core"}, [sc])
    row = res.table.iloc[0]
    county = {d.demand_id: d.county_code for d in sweden.demand}
    assert row["islanded"] and {county[d] for d in row["islanded"]} == NORTH
    # without the option the islanded users still count: they are not cut off
    assert not set(row["islanded"]) & set(row["cut_off"])
    skip = evaluate(sweden, g, {"s-sundsvall": "core", "s-goteborg": "core"}, [sc], islands=True)
    srow = skip.table.iloc[0]
    assert set(srow["islanded"]) <= set(srow["cut_off"])
    # the shares over the users still connected leave the islanded load out (and are shares)
    assert all(v is None or 0 <= v <= 1 + 1e-9 for v in srow["reachable_by_class"].values())
    total = sum(d.load for d in sweden.demand)
    lost = sum(d.load for d in sweden.demand if d.demand_id in set(srow["cut_off"]))
    # (the islanded users may still be served by Sundsvall, on their island: the share in
    # all counts that, the share of the users still connected does not)
    assert srow["reachable_share"] * (total - lost) <= srow["demand_served_share"] * total + 1e-6


def test_islands_option_changes_only_the_islanded_users(sweden: Dataset) -> None:
    base = {
        "k": 2,
        "separation_km": 200.0,
        "crisis": {"sets": ["county"], "serve": {"critical": 1.0}},
    }
    serve = from_dataset(sweden, PlanConfig(**base))
    skip = from_dataset(
        sweden, PlanConfig(**{**base, "crisis": {**base["crisis"], "islands": "skip"}})
    )
    county = {d.demand_id: d.county_code for d in sweden.demand}
    for name, cut in skip.crisis_cut.items():
        extra = [serve.demand_ids[i] for i in np.nonzero(cut & ~serve.crisis_cut[name])[0]]
        if name == "county 21":
            assert {county[d] for d in extra} == NORTH
        # the islands only add to the users cut off
        assert not (serve.crisis_cut[name] & ~cut).any()
    assert len(skip.cut_off) > len(serve.cut_off)
