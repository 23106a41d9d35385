"""Demand as services used across the country: the data form, the ``workload`` family
against brute force, and the checker."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nisd
from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.io import load_dataset
from nisd.io.services import write_services
from nisd.optimise.check import check_plan
from nisd.optimise.problem import PlacementProblem, from_matrices
from tests.test_model_bruteforce import geometry, matches

DATA = Path(__file__).resolve().parent.parent / "data"
POINTS = DATA / "points"


@pytest.mark.parametrize(
    ("points", "services"), [("points", "sites"), ("municipalities-points", "municipalities")]
)
def test_each_dataset_is_the_services_form_of_its_point_form(
    tmp_path: Path, points: str, services: str
) -> None:
    """data/sites (data/municipalities) is what nisd.io.services writes from data/points
    (data/municipalities-points)."""
    out = write_services(DATA / points, tmp_path / "services")
    assert (out / "demand.csv").read_bytes() == (DATA / services / "demand.csv").read_bytes()
    for name in ("sites.csv", "nodes.csv", "links.csv"):
        assert (out / name).read_bytes() == (DATA / services / name).read_bytes()


def test_municipality_users_are_named_by_their_municipality() -> None:
    ds = load_dataset(DATA / "municipalities")
    points = load_dataset(DATA / "municipalities-points")
    pops = [d for d in points.demand if d.kind == "population"]
    users = [d for d in ds.demand if d.workload == "d-skatteverket"]
    assert len(users) == len(pops) == 290
    by_id = {u.demand_id: u for u in users}
    for p in pops:
        u = by_id[f"d-skatteverket-{p.demand_id.removeprefix('d-pop-')}"]
        assert (u.lat, u.lon) == (p.lat, p.lon)
        assert u.name == f"Skatteverket: users in {p.name.removeprefix('Invånare, ')}"


def test_services_spread_each_agency_over_the_counties(sweden: Dataset) -> None:
    ds = sweden
    points = load_dataset(POINTS)
    assert not [d for d in ds.demand if d.kind == "population"]
    # the agencies and the platform services they depend on are used across the country
    agencies = [d for d in points.demand if d.kind in ("agency", "platform")]
    counties = {d.county_code for d in points.demand if d.kind == "population"}
    for a in agencies:
        users = [d for d in ds.demand if d.workload == a.demand_id]
        assert {u.county_code for u in users} == counties
        assert sum(u.load for u in users) == pytest.approx(a.load, abs=1e-4)
        assert {
            (u.criticality, u.latency_class, u.protection, u.depends_on, u.payer) for u in users
        } == {(a.criticality, a.latency_class, a.protection, a.depends_on, a.payer)}
        assert all(u.load_basis and u.load_basis.startswith(a.load_basis or "-") for u in users)
    boards = [d for d in points.demand if d.kind == "county_board"]
    assert [d for d in ds.demand if d.kind == "county_board"] == boards
    # citizens are counted once: the load is the agencies' and the county boards'
    assert sum(d.load for d in ds.demand) == pytest.approx(
        sum(d.load for d in agencies + boards), abs=1e-3
    )


def _brute(pp: PlacementProblem) -> float | None:
    """Cheapest plan where a workload's users share their (primary, backup) pair."""
    groups: dict[str, list[int]] = {}
    for i, w in enumerate(pp.workload):
        groups.setdefault(w or f"#{i}", []).append(i)
    conflict = pp.conflict()
    best: float | None = None
    n_j = pp.n_sites
    for mask in range(1, 2**n_j):
        opened = [j for j in range(n_j) if mask >> j & 1]
        cost = float(sum(pp.cost[j, 0] for j in opened))
        if best is not None and cost >= best:
            continue
        options = []
        for members in groups.values():
            pairs = [
                (a, b)
                for a in opened
                for b in opened
                if a != b
                and not conflict[a, b]
                and all(
                    pp.latency[i, a] <= pp.primary_ms[i] + 1e-9
                    and pp.latency[i, b] <= pp.backup_ms[i] + 1e-9
                    for i in members
                )
            ]
            options.append(pairs)
        if any(not o for o in options):
            continue
        for choice in itertools.product(*options):
            used = dict.fromkeys(opened, 0.0)
            for members, (a, _b) in zip(groups.values(), choice, strict=True):
                used[a] += float(pp.load[members].sum())
            if all(used[j] <= pp.capacity[j, 0] + 1e-9 for j in opened):
                best = cost
                break
    return best


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(0, 10_000))
def test_workload_family_matches_brute_force(data: st.DataObject, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_i, n_j = 6, 5
    lat, dist = geometry(data.draw, n_i, n_j, 600)
    cfg = PlanConfig(k=2, separation_km=150.0, hazards="off", protection=False)
    pp = from_matrices(
        lat,
        dist,
        rng.integers(10, 60, size=n_j).astype(float),
        np.full(n_j, 10.0),
        rng.uniform(1, 4, size=n_i).round(1),
        np.full(n_i, 4.0),
        np.full(n_i, 7.0),
        cfg,
    )
    # three workloads of two user points each
    pp = replace(pp, workload=("w0", "w0", "w1", "w1", "w2", "w2"))
    plan = matches(pp, _brute(pp))
    if plan is not None:
        for a, b in ((0, 1), (2, 3), (4, 5)):
            assert plan.assignments[pp.demand_ids[a]] == plan.assignments[pp.demand_ids[b]]


def test_checker_refuses_users_of_one_workload_on_different_sites() -> None:
    lat = np.zeros((2, 3))
    dist = np.full((3, 3), 500.0)
    np.fill_diagonal(dist, 0)
    cfg = PlanConfig(k=2, separation_km=100.0, hazards="off", protection=False)
    pp = from_matrices(
        lat, dist, np.ones(3), np.full(3, 10.0), np.ones(2), np.ones(2), np.ones(2), cfg
    )
    pp = replace(pp, workload=("w", "w"))
    sites = {"s0": "t0", "s1": "t0", "s2": "t0"}
    bad = check_plan(pp, sites, {"d0": ["s0", "s1"], "d1": ["s0", "s2"]})
    assert any("differ from those of d0" in v for v in bad)
    assert check_plan(pp, sites, {"d0": ["s0", "s1"], "d1": ["s0", "s1"]}) == []


def test_services_data_plans_with_shared_sites(sweden: Dataset) -> None:
    ds = sweden
    plan = nisd.plan(ds, "baseline", crisis={"sets": ["single-site"], "tiers": []})
    assert plan.status.value == "optimal"
    by_workload: dict[str, set[tuple[str, ...]]] = {}
    for d in ds.demand:
        if d.workload:
            by_workload.setdefault(d.workload, set()).add(plan.assignments[d.demand_id])
    assert by_workload and all(len(v) == 1 for v in by_workload.values())


def test_the_municipality_dataset_validates() -> None:
    """data/municipalities loads and passes nisd validate (exit 0): every user point reaches
    a candidate site over the fibre."""
    from click.testing import CliRunner

    from nisd.cli import cli

    res = CliRunner().invoke(cli, ["validate", str(DATA / "municipalities")])
    assert res.exit_code == 0, res.output
    assert "every demand point can reach a candidate site" in res.output
