"""Users a crisis leaves on an island apart from the national network: the definition
against networkx, the default data's islands, and the crisis option ``islands``."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nisd
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
    # the islanded users are lost (not served by Sundsvall on their island): the share in
    # all is the share of the users still connected, times their load
    assert srow["reachable_share"] * (total - lost) == pytest.approx(
        srow["demand_served_share"] * total, abs=1e-5
    )
    assert set(srow["islanded"]) <= set(srow["unserved"])


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


def _independent_county_figures(
    ds: Dataset, plan: nisd.Plan, g: nx.MultiGraph, name: str
) -> tuple[float, bool]:
    """Critical load served after a county's loss, and whether the plan's levels can hold,
    computed apart from nisd's evaluator: routes by networkx Dijkstra over the surviving
    graph (through transit vertices only), the national network as the piece with most
    surviving candidate sites, islanded and cut-off load lost, and the flow by networkx
    max-flow (critical) and scipy's LP (all levels at once)."""
    from scipy.optimize import linprog

    sc = next(s for s in scenario_sets(ds, g, ["county"], None) if s.name == name)
    down = set(sc.sites) | set(sc.nodes)
    h = nx.DiGraph()
    for a, b, d in g.edges(data=True):
        if a in down or b in down:
            continue
        for u, v in ((a, b), (b, a)):
            w = d["latency_ms"]
            if not h.has_edge(u, v) or h[u][v]["w"] > w:
                h.add_edge(u, v, w=w)
    transit = {v for v in g if g.nodes[v]["transit"]}
    # a route may leave its start and enter its end, but pass only through transit vertices
    relay = h.edge_subgraph([(u, v) for u, v in h.edges if u in transit or v in transit])
    sites = [s.site_id for s in ds.sites if s.site_id not in down]
    dist = {}
    for s in sites:
        if s not in relay:
            dist[s] = {}
            continue
        hs = nx.DiGraph((u, v, {"w": h[u][v]["w"]}) for u, v in h.edges if u in transit or u == s)
        dist[s] = nx.single_source_dijkstra_path_length(hs, s, weight="w")
    # pieces of the surviving network: the transit components, each with its sites
    comp = {}
    for n, part in enumerate(nx.connected_components(g.subgraph(transit - down))):
        for v in part:
            comp[v] = n

    def pieces(v: str) -> set[int]:
        return {comp[u] for u in g.neighbors(v) if u in comp}

    size: dict[int, int] = {}
    for s in sites:
        for p in pieces(s):
            size[p] = size.get(p, 0) + 1
    users = [d for d in ds.demand]
    user_pieces = [pieces(d.demand_id) for d in users]
    national = max(
        (p for p in size if any(p in up for up in user_pieces)), key=lambda p: (size[p], -p)
    )
    opened = {s: t for s, t in plan.sites.items() if s not in down}
    cap = {
        s: float(ds.site_by_id[s].capacity or ds.type_by_id[t].capacity) for s, t in opened.items()
    }
    classes = list(ds.config.criticality.levels)
    arcs: list[tuple[int, str]] = []
    counted = np.zeros(len(users), dtype=bool)
    for i, d in enumerate(users):
        reach_any = [s for s in sites if d.demand_id in dist[s]]
        in_time = [s for s in reach_any if dist[s][d.demand_id] <= d.crisis_ms + 1e-9]
        on_national = any(national in pieces(s) for s in reach_any)
        islanded_user = bool(reach_any) and not on_national
        if not in_time or islanded_user:
            continue  # cut off, or on an island apart from the national network: lost
        counted[i] = True
        arcs += [(i, s) for s in plan.assignments[d.demand_id] if s in opened and s in in_time]
    # critical first: the most critical load any flow can serve (networkx max-flow)
    f = nx.DiGraph()
    for i, s in arcs:
        if users[i].criticality == classes[0]:
            f.add_edge("src", i, capacity=users[i].load)
            f.add_edge(i, s, capacity=float("inf"))
    for s, c in cap.items():
        f.add_edge(s, "sink", capacity=c)
    crit = nx.maximum_flow_value(f, "src", "sink") if "src" in f else 0.0
    crit_total = sum(d.load for d in users if d.criticality == classes[0])
    # the levels: one LP asks whether any flow serves every class's share of its counted load
    lv = plan.levels(classes)[name]
    need = [
        lv[c] * sum(d.load for i, d in enumerate(users) if counted[i] and d.criticality == k)
        for c, k in enumerate(classes)
    ]
    n = len(arcs)
    a_ub, b_ub = [], []
    for i in {i for i, _s in arcs}:
        a_ub.append([1.0 if a[0] == i else 0.0 for a in arcs])
        b_ub.append(users[i].load)
    for s, c in cap.items():
        a_ub.append([1.0 if a[1] == s else 0.0 for a in arcs])
        b_ub.append(c)
    for c, k in enumerate(classes):
        if need[c] > 1e-9:
            a_ub.append([-1.0 if users[a[0]].criticality == k else 0.0 for a in arcs])
            b_ub.append(-need[c] * (1 - 1e-9))
    res = linprog(np.zeros(n), A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=(0, None))
    return crit / crit_total, res.status == 0


def test_county_losses_count_islanded_load_as_lost_against_an_independent_computation(
    sweden: Dataset,
) -> None:
    """On the default baseline, no county row reports more critical load served than an
    independent computation with islanded load lost, and levels_met agrees with it."""
    plan = nisd.plan(sweden, "baseline")
    g = build_graph(sweden)
    rows = {r.scenario: r for r in plan.scenarios if r.kind == "county"}
    assert len(rows) == 21
    for name, row in sorted(rows.items()):
        crit, feasible = _independent_county_figures(sweden, plan, g, name)
        assert row.served("critical") == pytest.approx(crit, abs=2e-6), name
        assert row.levels_met is feasible, name
    # Gävleborg's loss leaves the north on an island: its users are lost, not served there
    assert rows["county 21"].served("critical") == pytest.approx(0.920858, abs=1e-6)
    assert set(rows["county 21"].islanded) <= set(rows["county 21"].cut_off)
    assert all(u in rows["county 21"].unserved for u in rows["county 21"].islanded)


def test_a_lost_county_keeps_its_users_where_their_links_survive(sweden: Dataset) -> None:
    """What the README says of a crisis: Stockholm county's loss takes its sites, nodes and
    fibre, not its users, who are still served from the sites elsewhere."""
    plan = nisd.plan(sweden, "baseline")
    row = next(r for r in plan.scenarios if r.scenario == "county 01")
    stockholm = [d.demand_id for d in sweden.demand if d.county_code == "01"]
    assert stockholm and not set(stockholm) & (set(row.unserved) | set(row.cut_off))
    assert row.served("critical") == 1.0
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "after Stockholm county is lost, its users are still served" in readme
