"""Topology: latency, disjoint routes, scenarios and resilience, by property and by hand."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nisd.cli import cli
from nisd.dataset import Dataset
from nisd.topology import build_graph
from nisd.topology.disjoint import NoDisjointPair, disjoint_pair, protected_latency_matrix
from nisd.topology.latency import (
    LatencyRows,
    distance_matrix_km,
    latency_matrix,
    latency_rows,
    routing_graph,
    unique_rows,
)
from nisd.topology.resilience import evaluate
from nisd.topology.scenarios import Scenario, count_scenarios, presets, scenario_sets
from tests.conftest import ESTONIA
from tests.helpers import transit_route_ms

# ---- random graphs -------------------------------------------------------------------


@st.composite
def multigraphs(draw: st.DrawFn, max_nodes: int = 7, groups: int = 0) -> nx.MultiGraph:
    n = draw(st.integers(3, max_nodes))
    m = draw(st.integers(n - 1, 2 * n + 2))
    g = nx.MultiGraph()
    for v in range(n):
        g.add_node(f"v{v}", transit=True)
    for k in range(m):
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(0, n - 1).filter(lambda x, a=a: x != a))
        w = draw(st.integers(1, 20)) / 2.0
        grp = (f"g{draw(st.integers(0, groups - 1))}",) if groups else (f"e{k}",)
        g.add_edge(f"v{a}", f"v{b}", key=f"e{k}", latency_ms=w, srlg=grp)
    return g


def _simple_routes(g: nx.MultiGraph, s: str, t: str) -> list[tuple[float, set[str], set[str]]]:
    """Every simple route as (latency, link keys, intermediate vertices)."""
    sg = nx.Graph()
    for u, v, k in g.edges(keys=True):
        sg.add_edge(u, ("L", k))
        sg.add_edge(("L", k), v)
    sg.add_nodes_from(g.nodes)
    out = []
    for p in nx.all_simple_paths(sg, s, t):
        keys = {x[1] for x in p if isinstance(x, tuple)}
        inner = {x for x in p[1:-1] if not isinstance(x, tuple)}
        lat = sum(g.edges[u, v, k]["latency_ms"] for u, v, k in g.edges(keys=True) if k in keys)
        out.append((lat, keys, inner))
    return out


def _brute(g: nx.MultiGraph, s: str, t: str, mode: str) -> float:
    best = math.inf
    routes = _simple_routes(g, s, t)
    grp = {k: set(d["srlg"]) for _u, _v, k, d in g.edges(keys=True, data=True)}
    for (la, ka, ia), (lb, kb, ib) in itertools.combinations(routes, 2):
        if ka & kb:
            continue
        if mode == "node" and ia & ib:
            continue
        if mode == "srlg":
            ga = set().union(*(grp[k] for k in ka))
            gb = set().union(*(grp[k] for k in kb))
            if ga & gb:
                continue
        best = min(best, la + lb)
    return best


def _check_pair(g: nx.MultiGraph, mode: str) -> None:
    s, t = "v0", "v1"
    expected = _brute(g, s, t, mode)
    try:
        pair = disjoint_pair(g, s, t, mode)  # type: ignore[arg-type]
    except NoDisjointPair as exc:
        assert expected == math.inf, f"missed a pair of total {expected}"
        assert exc.reason
        return
    r1, r2 = pair.routes
    for r in (r1, r2):
        assert r.vertices[0] == s and r.vertices[-1] == t
        assert math.isclose(
            r.latency_ms, sum(g.edges[a, b, k]["latency_ms"] for a, b, k in r.links)
        )
    k1 = {k for *_x, k in r1.links}
    k2 = {k for *_x, k in r2.links}
    assert not k1 & k2
    if mode == "node":
        assert not set(r1.vertices[1:-1]) & set(r2.vertices[1:-1])
    if mode == "srlg":
        grp = {k: set(d["srlg"]) for _u, _v, k, d in g.edges(keys=True, data=True)}
        assert not set().union(*(grp[k] for k in k1)) & set().union(*(grp[k] for k in k2))
    assert pair.protected_ms == max(r1.latency_ms, r2.latency_ms)
    if pair.proven:
        assert math.isclose(pair.total_ms, expected), (pair.total_ms, expected)
    else:
        assert pair.total_ms >= expected - 1e-9


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(multigraphs())
def test_link_disjoint_pair_is_optimal(g: nx.MultiGraph) -> None:
    _check_pair(g, "link")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(multigraphs())
def test_node_disjoint_pair_is_optimal(g: nx.MultiGraph) -> None:
    _check_pair(g, "node")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(multigraphs(groups=4))
def test_srlg_disjoint_pair_is_optimal(g: nx.MultiGraph) -> None:
    _check_pair(g, "srlg")


@settings(max_examples=40, deadline=None)
@given(multigraphs(max_nodes=9))
def test_latency_matrix_equals_dijkstra(g: nx.MultiGraph) -> None:
    ids = sorted(g.nodes)
    m = latency_matrix(g, ids, ids)
    simple = nx.Graph()
    simple.add_nodes_from(ids)
    for u, v, d in g.edges(data=True):
        w = d["latency_ms"]
        if not simple.has_edge(u, v) or simple[u][v]["w"] > w:
            simple.add_edge(u, v, w=w)
    ref = dict(nx.all_pairs_dijkstra_path_length(simple, weight="w"))
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            assert math.isclose(m[i, j], ref[a].get(b, math.inf), abs_tol=1e-9)


def leafy_graph(data: st.DataObject) -> tuple[nx.MultiGraph, list[str], list[str]]:
    """A random backbone with users (several at a place, on the same nodes) and sites
    hanging on it as leaves."""
    n = data.draw(st.integers(3, 6))
    g = nx.MultiGraph()
    for v in range(n):
        g.add_node(f"v{v}", transit=True)
    for v in range(1, n):  # a connected backbone, plus a few chords
        g.add_edge(f"v{v}", f"v{data.draw(st.integers(0, v - 1))}", key=f"b{v}", latency_ms=v)
    for k in range(data.draw(st.integers(0, 3))):
        a, b = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
        if a != b:
            g.add_edge(f"v{a}", f"v{b}", key=f"c{k}", latency_ms=1.5 + k)
    node = st.integers(0, n - 1)
    places = data.draw(st.lists(st.tuples(node, node), min_size=1, max_size=3))
    users, sites = [], []
    for p, (a, b) in enumerate(places):
        for t in range(data.draw(st.integers(1, 4))):  # several users at one place
            u = f"u{p}_{t}"
            g.add_node(u, transit=False)
            g.add_edge(u, f"v{a}", key=f"acc:{u}:a", latency_ms=0.5)
            g.add_edge(u, f"v{b}", key=f"acc:{u}:b", latency_ms=0.25)
            users.append(u)
    for s in range(data.draw(st.integers(1, 3))):
        site = f"s{s}"
        g.add_node(site, transit=False)
        g.add_edge(site, f"v{data.draw(st.integers(0, n - 1))}", key=f"acc:{site}", latency_ms=0.1)
        sites.append(site)
    return g, users, sites


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_twin_leaves_share_rows_and_stay_exact(data: st.DataObject) -> None:
    """Leaves at one place on the same nodes (users of many agencies in one town) are
    searched once; the rows still equal networkx on the surviving graph, whichever
    edges (access links of some twins too) are lost."""
    g, users, sites = leafy_graph(data)
    rg = routing_graph(g)
    keys = [k for _u, _v, k in rg.edge_keys]
    lost = set(data.draw(st.lists(st.sampled_from(keys), max_size=3)))
    alive = np.array([k not in lost for k in keys])
    got = latency_rows(rg, users, sites, alive=alive)
    assert got.shape == (len(users), len(sites))
    assert len(got.rows) <= len(users)
    h = nx.MultiGraph(g)
    h.remove_edges_from([(u, v, k) for u, v, k in rg.edge_keys if k in lost])
    for i, u in enumerate(users):
        for j, s in enumerate(sites):
            want = transit_route_ms(h, u, s)
            assert got.row(i)[j] == want or math.isclose(got.row(i)[j], want)
    # and from the sites' side
    assert np.allclose(latency_rows(rg, sites, users, alive=alive).full(), got.full().T)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_routes_alive_keeps_every_route_to_the_sites_still_up(data: st.DataObject) -> None:
    """The loss of sites (leaves) changes no route to any other site: a search over
    ``routes_alive`` (their edges counted alive, a lost backbone node's not) equals
    networkx on the graph without them and without the lost edges, for every site
    still up."""
    g, users, sites = leafy_graph(data)
    rg = routing_graph(g)
    keys = [k for _u, _v, k in rg.edge_keys]
    lost = set(data.draw(st.lists(st.sampled_from(keys), max_size=2)))
    backbone = [v for v, t in g.nodes(data="transit") if t]
    gone = set(data.draw(st.lists(st.sampled_from(sites + backbone[:1]), max_size=2)))
    alive = rg.alive_mask(gone) & np.array([k not in lost for k in keys])
    got = latency_rows(rg, users, sites, alive=rg.routes_alive(alive, gone)).full()
    h = nx.MultiGraph(g)
    h.remove_edges_from([(u, v, k) for u, v, k in rg.edge_keys if k in lost])
    h.remove_nodes_from(gone)
    for j, s in enumerate(sites):
        if s in gone:
            continue
        for i, u in enumerate(users):
            want = transit_route_ms(h, u, s)
            assert got[i, j] == want or math.isclose(got[i, j], want)


@given(st.lists(st.lists(st.integers(0, 2), min_size=3, max_size=3), max_size=12))
def test_unique_rows_against_a_dict(rows: list[list[int]]) -> None:
    a = np.array(rows, dtype=float).reshape(len(rows), 3)
    first, label = unique_rows(a)
    seen: dict[tuple[float, ...], int] = {}
    for i, r in enumerate(map(tuple, a.tolist())):
        seen.setdefault(r, i)
    assert first.tolist() == sorted(seen.values())
    assert np.array_equal(a[first][label], a)
    assert np.array_equal(LatencyRows.of(a).full(), a)


def test_leaves_carry_no_transit() -> None:
    g = nx.MultiGraph()
    g.add_node("a", transit=True)
    g.add_node("b", transit=True)
    g.add_node("leaf", transit=False)
    g.add_edge("a", "leaf", key="x", latency_ms=1.0)
    g.add_edge("leaf", "b", key="y", latency_ms=1.0)
    g.add_edge("a", "b", key="z", latency_ms=10.0)
    assert latency_matrix(g, ["a"], ["b"])[0, 0] == 10.0
    assert latency_matrix(g, ["a"], ["leaf"])[0, 0] == 1.0
    with pytest.raises(NoDisjointPair, match="bridge"):
        disjoint_pair(g, "a", "b")


def test_no_pair_names_the_bridge_and_cut_vertex() -> None:
    g = nx.MultiGraph()
    for k, (u, v) in enumerate([("s", "a"), ("s", "b"), ("a", "c"), ("b", "c"), ("c", "t")]):
        g.add_edge(u, v, key=f"l{k}", latency_ms=1.0, srlg=(f"l{k}",))
    with pytest.raises(NoDisjointPair) as info:
        disjoint_pair(g, "s", "t", "link")
    assert info.value.cut == (("c", "t"),)
    with pytest.raises(NoDisjointPair) as info:
        disjoint_pair(g, "s", "t", "node")
    assert info.value.cut == ("c",)
    assert "cut vertex" in str(info.value)


def test_srlg_pair_avoids_shared_trench() -> None:
    # two parallel paths share trench T on their first hop; a third, longer path is clean
    g = nx.MultiGraph()
    g.add_edge("s", "a", key="sa", latency_ms=1.0, srlg=("T",))
    g.add_edge("a", "t", key="at", latency_ms=1.0, srlg=("at",))
    g.add_edge("s", "b", key="sb", latency_ms=1.0, srlg=("T",))
    g.add_edge("b", "t", key="bt", latency_ms=1.0, srlg=("bt",))
    g.add_edge("s", "c", key="sc", latency_ms=5.0, srlg=("sc",))
    g.add_edge("c", "t", key="ct", latency_ms=5.0, srlg=("ct",))
    assert disjoint_pair(g, "s", "t", "link").total_ms == 4.0
    pair = disjoint_pair(g, "s", "t", "srlg")
    assert pair.total_ms == 12.0 and pair.protected_ms == 10.0 and pair.proven


# ---- the Swedish default -------------------------------------------------------------


def test_sweden_graph(sweden: Dataset) -> None:
    g = build_graph(sweden)
    assert g.number_of_nodes() == len(sweden.nodes) + len(sweden.sites) + len(sweden.demand)
    for _u, _v, _k, d in g.edges(keys=True, data=True):
        assert d["length_km"] > 0 and d["latency_ms"] > 0 and d["srlg"]
    # dual-homing: each site has two access links to two different nodes
    for s in sweden.site_ids:
        assert len({v for _a, v in g.edges(s)}) == 2
    # latency = 4.9 us/km + hop delay
    lk = sweden.links[0]
    d = g.edges[lk.a, lk.b, lk.link_id]
    assert math.isclose(d["latency_ms"], lk.length_km * 0.0049 + 0.05)


def test_sweden_topology_cli(default_dir: Path) -> None:
    res = CliRunner().invoke(cli, ["topology", str(default_dir), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    # Sunet runs parallel red and green fibres: no single link is a bridge ...
    assert out["bridges"] == [] and out["two_edge_connected"] is True
    # ... but Kiruna hangs on Luleå, Visby on Stockholm: those nodes are cut vertices
    assert {"n-lulea", "n-stockholm"} <= set(out["articulation_points"])
    assert out["nodes"] == 25 and out["edges"] == 48


def test_sweden_protected_latency(sweden: Dataset) -> None:
    g = build_graph(sweden)
    m = protected_latency_matrix(g, sweden.demand_ids[:3], sweden.site_ids[:4])
    plain = latency_matrix(g, sweden.demand_ids[:3], sweden.site_ids[:4])
    assert np.all(m >= plain - 1e-9)
    km = distance_matrix_km(sweden, ["s-stockholm"], ["s-goteborg"])[0, 0]
    assert 390 < km < 400  # Stockholm–Göteborg, straight line


def test_another_country_topology() -> None:
    res = CliRunner().invoke(cli, ["topology", str(ESTONIA), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["nodes"] == 5


# ---- scenarios -----------------------------------------------------------------------


def test_scenario_counts(sweden: Dataset) -> None:
    g = build_graph(sweden)
    opened = ["s-stockholm", "s-lulea", "s-malmo"]
    assert count_scenarios(sweden, g, ["single-site"], opened) == 3
    assert count_scenarios(sweden, g, ["n-2"], opened) == 3 + math.comb(len(sweden.links), 2)
    assert len(scenario_sets(sweden, g, ["county"])) == 21
    zones = {s.name: s for s in scenario_sets(sweden, g, ["power-zone"])}
    se1 = {"s-lulea", "s-pitea", "s-skelleftea", "s-boden", "s-kiruna"}
    assert zones["power zone SE1"].sites == se1
    with_area = [h for h in sweden.hazards if (h.planning_zone_km or h.buffer_km) > 0]
    assert len(scenario_sets(sweden, g, ["hazard"])) == len(with_area) == 82


def test_presets_have_meanings(sweden: Dataset) -> None:
    g = build_graph(sweden)
    ps = {p.name: p for p in presets(sweden, g)}
    assert "preset stockholm-lost" in ps and "preset se4-blackout" in ps
    assert all(p.meaning for p in ps.values())
    assert "s-stockholm" in ps["preset stockholm-lost"].sites


def test_bad_preset_key(data_copy: Path) -> None:
    from nisd.errors import InputError
    from nisd.io import load_dataset

    (data_copy / "crisis_presets.toml").write_text('[x]\nmeaning = "m"\nradius = 3\n')
    ds = load_dataset(data_copy)
    with pytest.raises(InputError, match="unknown key 'radius' in \\[x\\]"):
        presets(ds, build_graph(ds))


# ---- resilience ----------------------------------------------------------------------


def test_resilience_by_hand() -> None:
    # the point form: more load than two core sites hold, so capacity binds
    from nisd.io import load_dataset

    sweden = load_dataset(Path(__file__).resolve().parent.parent / "data" / "points")
    g = build_graph(sweden)
    opened = ["s-stockholm", "s-lulea"]
    res = evaluate(sweden, g, opened, "single-site,power-zone")
    t = res.table.set_index("scenario")
    total = sum(d.load for d in sweden.demand)
    # losing Luleå: what is within its crisis bound of Stockholm, but no more than
    # Stockholm holds (each site is taken as its largest type: a 400-rack core site)
    lat = latency_matrix(g, ["s-stockholm"], sweden.demand_ids)[0]
    ok = lat <= np.array([d.crisis_ms for d in sweden.demand]) + 1e-9
    reach = sum(d.load for d, o in zip(sweden.demand, ok, strict=True) if o)
    expected = min(reach, 400.0) / total
    assert math.isclose(t.loc["site s-lulea", "demand_served_share"], expected)
    assert t.loc["site s-lulea", "full_sites"] == ["s-stockholm"]
    # an SE3 blackout takes Stockholm; SE1 Luleå alone serves what is within its bound
    assert t.loc["power zone SE3", "sites_down"] == ["s-stockholm"]
    # nothing fails in SE4: both sites up, 800 racks for 929 racks of load
    assert total > 800
    assert math.isclose(t.loc["power zone SE4", "demand_served_share"], 800.0 / total)


def test_served_share_never_rises_with_more_failures(sweden: Dataset) -> None:
    g = build_graph(sweden)
    opened = ["s-goteborg", "s-umea", "s-vasteras"]
    singles = scenario_sets(sweden, g, ["single-link"], opened)[:12]
    pairs = [a.union(b) for a, b in itertools.combinations(singles, 2)]
    res = evaluate(sweden, g, opened, singles + pairs, check_two_routes=False)
    share = dict(zip(res.table.scenario, res.table.demand_served_share, strict=True))
    for a, b in itertools.combinations(singles, 2):
        both = share[f"{a.name} + {b.name}"]
        assert both <= share[a.name] + 1e-12 and both <= share[b.name] + 1e-12


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(st.data())
def test_monotone_property(data: st.DataObject) -> None:
    from nisd.io import default_data_dir, load_dataset

    ds = load_dataset(default_data_dir())
    g = build_graph(ds)
    opened = data.draw(st.lists(st.sampled_from(ds.site_ids), min_size=1, max_size=4, unique=True))
    links = [lk.link_id for lk in ds.links]
    fail = data.draw(st.lists(st.sampled_from(links), min_size=1, max_size=6, unique=True))
    more = data.draw(st.lists(st.sampled_from(links), max_size=4, unique=True))
    sites_down = data.draw(st.lists(st.sampled_from(opened), max_size=1))
    a = Scenario("a", "x", sites=frozenset(sites_down), links=frozenset(fail))
    b = Scenario("b", "x", sites=frozenset(sites_down), links=frozenset(fail) | set(more))
    res = evaluate(ds, g, opened, [a, b], check_two_routes=False)
    sa, sb = res.table.demand_served_share.tolist()
    assert sb <= sa + 1e-12


def test_resilience_cli(default_dir: Path, tmp_path: Path, sweden: Dataset) -> None:
    res = CliRunner().invoke(
        cli,
        [
            "resilience",
            "--sites",
            "s-stockholm,s-lulea,s-malmo",
            "--scenarios",
            "single-site,county,presets",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert {"scenario", "failed", "demand_served_share"} <= set(out["scenarios"][0])
    assert out["worst"]["demand_served_share"] == min(
        s["demand_served_share"] for s in out["scenarios"]
    )
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps({"sites": [{"site_id": "s-umea", "type": "core"}], "assignments": {}})
    )
    # a hand-made plan names no data: it is an error until --data says which
    res = CliRunner().invoke(cli, ["resilience", str(plan), "--scenarios", "single-site"])
    assert res.exit_code == 3
    assert "names no data directory (run.data_dir): give the data with --data" in res.output
    res = CliRunner().invoke(
        cli,
        ["resilience", str(plan), "--data", str(sweden.path), "--scenarios", "single-site"],
    )
    assert res.exit_code == 0, res.output
    assert "site s-umea" in res.output


@pytest.mark.parametrize(
    ("args", "code", "msg"),
    [
        (["--sites", "s-nowhere"], 3, "unknown site id(s) s-nowhere"),
        (["--sites", "s-umea", "--scenarios", "meteor"], 3, "unknown scenario set(s) meteor"),
        ([], 2, "give either PLAN.json or --sites"),
        (["missing.json"], 3, "missing.json: not found"),
        (
            ["--sites", "s-umea", "--scenarios", "n-2", "--max-scenarios", "10"],
            3,
            "exceed --max-scenarios 10",
        ),
    ],
)
def test_resilience_cli_errors(args: list[str], code: int, msg: str) -> None:
    res = CliRunner().invoke(cli, ["resilience", *args])
    assert res.exit_code == code, res.output
    assert msg in res.stderr
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("sites", '["s-atlantis"]', "[x] unknown site 's-atlantis'"),
        ("nodes", '["n-atlantis"]', "[x] unknown node 'n-atlantis'"),
        ("links", '["l-atlantis"]', "[x] unknown link 'l-atlantis'"),
        ("srlgs", '["g-atlantis"]', "[x] unknown shared-risk group 'g-atlantis'"),
        ("counties", '["99"]', "[x] unknown county '99'"),
        ("isolate_counties", '["99"]', "[x] unknown county '99'"),
        ("power_zones", '["SE9"]', "[x] unknown power zone 'SE9'"),
    ],
)
def test_preset_naming_what_the_dataset_lacks_is_refused(
    data_copy: Path, key: str, value: str, message: str
) -> None:
    """A misspelt id in a war preset must not pass as "survived"; validate says so too."""
    (data_copy / "crisis_presets.toml").write_text(f'[x]\nmeaning = "m"\n{key} = {value}\n')
    res = CliRunner().invoke(cli, ["validate", str(data_copy)])
    assert res.exit_code == 3, res.output
    assert message in res.output
    assert "Traceback" not in res.output


def test_graph_is_built_once_per_dataset_and_read_only(sweden: Dataset) -> None:
    g = build_graph(sweden)
    assert build_graph(sweden) is g  # plan, map and evaluation share one graph
    with pytest.raises(nx.NetworkXError):
        g.add_node("x")  # frozen: nobody changes what others read
    from nisd.topology.graph import GraphOptions

    other = build_graph(sweden, GraphOptions(access_links=1))
    assert other is not g and not nx.is_frozen(other)
