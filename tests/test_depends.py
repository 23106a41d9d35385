"""Workloads that depend on platform services (nisd.topology.depends): the rule by hand, the
evaluator against brute force, the loader's refusals, the model's level rule, the attack scan."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nisd.cli import cli
from nisd.dataset import DemandPoint
from nisd.io import load_dataset
from nisd.io.synthetic import write_country
from nisd.topology import build_graph
from nisd.topology.depends import Dependencies
from nisd.topology.resilience import evaluate
from nisd.topology.scenarios import Scenario
from tests.helpers import read_rows, transit_route_ms, write_rows


def _point(
    i: str, county: str, workload: str | None = None, deps: tuple[str, ...] = ()
) -> DemandPoint:
    return DemandPoint(
        i, i, 59.0, 18.0, 1.0, county_code=county, workload=workload, depends_on=deps
    )


def test_rule_by_hand() -> None:
    """Two counties: the platform P has a row in each, the service A depends on P and B on A
    (transitive); each user is served as far as its county's platform row is."""
    demand = [
        _point("p1", "01", "P"),
        _point("p2", "02", "P"),
        _point("a1", "01", "A", ("P",)),
        _point("a2", "02", "A", ("P",)),
        _point("b1", "01", "B", ("A",)),
    ]
    deps = Dependencies.of(demand)
    assert deps and len(deps.stages) == 2
    load = np.array([2.0, 2.0, 4.0, 4.0, 1.0])
    served = np.array([1.0, 2.0, 4.0, 3.0, 1.0])
    # a1 limited to half (p1 half served), a2 to its own 3, b1 to a1's half
    np.testing.assert_allclose(deps.served(served, load), [1.0, 2.0, 2.0, 3.0, 0.5])
    cut = np.array([True, False, False, False, False])
    np.testing.assert_array_equal(deps.cut(cut), [True, False, True, False, True])
    usable = np.array([[False, True, True, True, True], [True, True, True, False, True]])
    np.testing.assert_array_equal(
        deps.dead(usable),
        [[True, False, True, False, True], [False, False, False, True, False]],
    )
    # a platform with no row in a user's county serves it through all its rows
    other = Dependencies.of([_point("p1", "01", "P"), _point("c", "03", "C", ("P",))])
    np.testing.assert_allclose(other.served(np.array([1.0, 1.0]), np.array([2.0, 1.0])), [1.0, 0.5])
    assert not Dependencies.of([_point("x", "01")])


def test_a_dependency_row_cut_off_does_not_starve_its_county() -> None:
    """At municipality resolution a county holds several platform rows: one place cut off
    (its row lost with everything there) leaves the county's users the platform's other
    rows, fully served. The model's level rule promises exactly that; counting the cut row
    made the evaluator and the model disagree on the municipalities data."""
    demand = [
        _point("p-a", "01", "P"),
        _point("p-b", "01", "P"),
        _point("u", "01", "A", ("P",)),
    ]
    deps = Dependencies.of(demand)
    load = np.array([1.0, 3.0, 2.0])
    served = np.array([0.0, 3.0, 2.0])
    base = np.array([0.0, 3.0, 2.0])  # p-a's place is cut off
    np.testing.assert_allclose(deps.served(served, load, base), [0.0, 3.0, 2.0])
    # without the cut, p-a unserved is the platform failing: u gets 3/4
    np.testing.assert_allclose(deps.served(served, load), [0.0, 3.0, 1.5])


def _country(tmp: Path, seed: int, n_platform: int) -> Path:
    """A synthetic country whose first rows are one platform workload (critical) that every
    other row depends on; sites big enough that capacity never binds."""
    out = write_country(tmp / f"c{seed}", sites=10, demand=12, seed=seed)
    rows = read_rows(out / "demand.csv")
    for n, r in enumerate(rows):
        if n < n_platform:
            r["workload"], r["depends_on"] = "plat", ""
            r["criticality"], r["latency_class"] = "critical", "interactive"
        else:
            r["workload"], r["depends_on"] = "", "plat"
    write_rows(out / "demand.csv", rows, [*rows[0].keys()])
    sites = read_rows(out / "sites.csv")
    for r in sites:
        r["capacity"] = "10000"
    write_rows(out / "sites.csv", sites, [*sites[0].keys()])
    return out


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 10_000), n_platform=st.integers(1, 3), data=st.data())
def test_evaluator_equals_brute_force(
    tmp_path: Path, seed: int, n_platform: int, data: st.DataObject
) -> None:
    """Every single site and backbone node lost: each user's served load from networkx's
    routes and the rule written out by hand (capacity never binds) is the evaluator's."""
    ds = load_dataset(_country(tmp_path, seed, n_platform))
    g = build_graph(ds)
    opened = data.draw(
        st.lists(st.sampled_from(list(ds.site_ids)), min_size=1, max_size=4, unique=True)
    )
    scens = [Scenario(f"s-{s}", "site", sites=frozenset([s])) for s in opened]
    scens += [Scenario(f"n-{n}", "node", nodes=frozenset([n])) for n in sorted(ds.node_by_id)[:6]]
    rows = evaluate(ds, g, opened, scens, check_two_routes=False).rows
    demand = list(ds.demand)
    plat = [d for d in demand if d.workload == "plat"]
    for sc, row in zip(scens, rows, strict=True):
        h = g.copy()
        h.remove_nodes_from(list(sc.sites) + list(sc.nodes))

        def reach(d: DemandPoint, among: list[str], h: nx.MultiGraph = h) -> bool:
            return any(
                s in h and transit_route_ms(h, d.demand_id, s) <= d.crisis_ms + 1e-9 for s in among
            )

        cut = {d.demand_id: not reach(d, list(ds.site_ids)) for d in demand}
        own = {
            d.demand_id: (d.load if reach(d, opened) and not cut[d.demand_id] else 0.0)
            for d in demand
        }
        want = {}
        for d in demand:
            if d.workload == "plat":
                want[d.demand_id] = own[d.demand_id]
                continue
            here = [p for p in plat if p.county_code == d.county_code] or plat
            if all(cut[p.demand_id] for p in here):
                want[d.demand_id] = 0.0
                continue
            share = sum(own[p.demand_id] for p in here) / sum(p.load for p in here)
            want[d.demand_id] = min(own[d.demand_id], d.load * share)
        got = {d.demand_id: d.load for d in demand}
        for i in row.unserved:
            got[i] = 0.0
        for i, lost in row.partly_served.items():
            got[i] -= lost
        for d in demand:
            assert got[d.demand_id] == pytest.approx(want[d.demand_id], abs=1e-6), (
                sc.name,
                d.demand_id,
            )
        total = sum(d.load for d in demand)
        assert row.demand_served_share == pytest.approx(sum(want.values()) / total, abs=1e-6)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("nowhere", "unknown workload 'nowhere'"),
        ("d1", "dependencies form a cycle"),
        ("d0", "cannot depend on itself"),
    ],
)
def test_bad_dependencies_are_refused(tmp_path: Path, cell: str, message: str) -> None:
    out = write_country(tmp_path / "c", sites=6, demand=4, seed=1)
    rows = read_rows(out / "demand.csv")
    for r in rows:
        r["depends_on"] = ""
    rows[0]["depends_on"] = cell
    if cell == "d1":
        rows[1]["depends_on"] = "d0"
    write_rows(out / "demand.csv", rows, [*rows[0].keys()])
    res = CliRunner().invoke(cli, ["validate", str(out)])
    assert res.exit_code == 3, res.output
    assert message in res.output and "demand.csv" in res.output and "depends_on" in res.output
    assert "Traceback" not in res.output


def test_rows_of_one_workload_must_agree(tmp_path: Path) -> None:
    out = write_country(tmp_path / "c", sites=6, demand=4, seed=1)
    rows = read_rows(out / "demand.csv")
    for n, r in enumerate(rows):
        r["workload"] = "w" if n < 2 else ""
        r["depends_on"] = "d3" if n == 0 else ""
    write_rows(out / "demand.csv", rows, [*rows[0].keys()])
    res = CliRunner().invoke(cli, ["validate", str(out)])
    assert res.exit_code == 3
    assert "the rows of workload 'w' disagree on depends_on" in res.output


def test_a_dependency_served_in_part_is_refused(tmp_path: Path) -> None:
    """The model promises a dependent's level only when its dependency is served in full."""
    out = _country(tmp_path, 3, 2)
    rows = read_rows(out / "demand.csv")
    for r in rows[:2]:
        r["criticality"] = "high"
    for r in rows[2:]:
        r["criticality"] = "critical"
    write_rows(out / "demand.csv", rows, [*rows[0].keys()])
    scen = tmp_path / "s.toml"
    scen.write_text(
        'k = 1\nhazards = "off"\n[crisis]\nsets = ["single-site"]\n'
        "serve = { critical = 1.0, high = 0.5 }\n"
    )
    res = CliRunner().invoke(
        cli, ["plan", str(scen), "--data", str(out), "--out", str(tmp_path / "p")]
    )
    assert res.exit_code == 3, res.output
    assert "and 7 more depend on plat (high), which this tier serves at 0.5" in res.output
    assert res.output.count("error:") == 1
    assert not (tmp_path / "p").exists()


def test_model_keeps_the_platform_where_levels_need_it(tmp_path: Path) -> None:
    """A plan on data with a platform workload: proved optimal, verified by the evaluator
    with the dependency rule, every dependent user served in every required scenario."""
    out = _country(tmp_path, 5, 2)
    scen = tmp_path / "s.toml"
    scen.write_text(
        'k = 2\nseparation_km = 100\nhazards = "off"\n[crisis]\nsets = ["single-site"]\n'
        "serve = { critical = 1.0, high = 1.0 }\n"
    )
    res = CliRunner().invoke(
        cli, ["plan", str(scen), "--data", str(out), "--out", str(tmp_path / "p")]
    )
    assert res.exit_code == 0, res.output
    import nisd

    plan = nisd.read_plan(tmp_path / "p" / "plan.json")
    assert plan.status == "optimal"
    ds = load_dataset(out)
    rows = evaluate(
        ds,
        build_graph(ds),
        dict(plan.sites),
        "single-site",
        assignments={d: list(v) for d, v in plan.assignments.items()},
        check_two_routes=False,
    ).rows
    crit = {d.demand_id for d in ds.demand if d.criticality in ("critical", "high")}
    for r in rows:
        assert not (set(r.unserved) - set(r.cut_off)) & crit
        assert not set(r.partly_served) & crit
    assert math.isfinite(plan.kpis.cost_msek)
