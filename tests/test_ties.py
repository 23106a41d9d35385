"""Ties among plans of the least cost broken by the stated rule (fewer new sites, then more
existing sites, then lower load-weighted latency), against brute force."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nisd.cli import cli
from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.optimise import optimise
from nisd.optimise.check import check_plan
from nisd.optimise.problem import PlacementProblem, from_matrices
from nisd.optimise.ties import RULE
from tests.helpers import geometry

NO_DATA: Dataset = None  # type: ignore[assignment]  # no crisis scenarios: no dataset needed


def rule_brute(pp: PlacementProblem) -> tuple[float, tuple[float, float, float]] | None:
    """The least cost over every site subset and primary assignment (one type, k = 1),
    and the smallest (new sites, −existing sites, load-weighted latency) among the plans
    of that cost."""
    n_i, n_j = pp.latency.shape
    best: tuple[float, tuple[float, float, float]] | None = None
    for size in range(1, n_j + 1):
        for subset in itertools.combinations(range(n_j), size):
            cost = float(sum(pp.cost[j, 0] for j in subset))
            if best is not None and cost > best[0] + 1e-9:
                continue
            options = [
                [j for j in subset if pp.latency[i, j] <= pp.primary_ms[i]] for i in range(n_i)
            ]
            if any(not o for o in options):
                continue
            kept = sum(bool(pp.existing[j]) for j in subset)
            for prim in itertools.product(*options):
                used = np.zeros(n_j)
                for i, j in enumerate(prim):
                    used[j] += pp.load[i]
                if any(used[j] > pp.capacity[j, 0] + 1e-9 for j in subset):
                    continue
                if any(used[j] == 0 for j in subset):
                    continue  # an open site nobody uses is never cheaper (costs are > 0)
                lat = float(sum(pp.load[i] * pp.latency[i, j] for i, j in enumerate(prim)))
                rank = (float(size - kept), float(-kept), lat)
                if best is None or cost < best[0] - 1e-9 or rank < best[1]:
                    best = (cost, rank)
    return best


def plan_rank(
    pp: PlacementProblem, sites: Mapping[str, str], assign: Mapping[str, Sequence[str]]
) -> tuple[float, float, float]:
    idx = {s: j for j, s in enumerate(pp.site_ids)}
    kept = sum(bool(pp.existing[idx[s]]) for s in sites)
    lat = float(
        sum(pp.load[i] * pp.latency[i, idx[assign[d][0]]] for i, d in enumerate(pp.demand_ids))
    )
    return (float(len(sites) - kept), float(-kept), lat)


@st.composite
def tied_instances(draw: st.DrawFn) -> PlacementProblem:
    """Small countries whose sites cost 2 or 3 (many plans of one cost), some existing."""
    n_i = draw(st.integers(1, 4))
    n_j = draw(st.integers(2, 5))
    lat, dist = geometry(draw, n_i, n_j, 400)
    cost = np.array(draw(st.lists(st.sampled_from([2.0, 3.0]), min_size=n_j, max_size=n_j)))
    cap = np.array(draw(st.lists(st.integers(2, 6), min_size=n_j, max_size=n_j)), float)
    load = np.array(draw(st.lists(st.integers(1, 3), min_size=n_i, max_size=n_i)), float)
    existing = draw(st.lists(st.booleans(), min_size=n_j, max_size=n_j))
    cfg = PlanConfig(k=1, hazards="off", capacity=True)
    return from_matrices(
        lat,
        dist,
        cost[:, None],
        cap[:, None],
        load,
        np.full(n_i, draw(st.sampled_from([3.0, 9.0]))),
        np.full(n_i, 9.0),
        cfg,
        existing=existing,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tied_instances())
def test_rule_picks_brute_forces_first_plan_of_least_cost(pp: PlacementProblem) -> None:
    expected = rule_brute(pp)
    if expected is None:
        return  # no plan at all: the model's proof is tested elsewhere
    plan = optimise(NO_DATA, pp)
    assert plan.status == "optimal"
    assert check_plan(pp, plan.sites, plan.assignments) == []
    assert plan.kpis.cost_msek is not None
    assert math.isclose(plan.kpis.cost_msek, expected[0], abs_tol=1e-6)
    got = plan_rank(pp, plan.sites, plan.assignments)
    assert got[:2] == expected[1][:2]
    assert math.isclose(got[2], expected[1][2], rel_tol=1e-6, abs_tol=1e-6), (got, expected)
    assert plan.run.ties is not None and plan.run.ties.rule == RULE
    assert plan.run.ties.status == "proved"


def test_existing_site_preferred_at_equal_cost() -> None:
    """Two sites of one cost, both in time for the one user: the existing one is kept."""
    for which in (0, 1):
        pp = from_matrices(
            np.array([[1.0, 1.0]]),
            np.array([[0.0, 300.0], [300.0, 0.0]]),
            np.array([[5.0], [5.0]]),
            np.array([[9.0], [9.0]]),
            np.array([1.0]),
            np.array([5.0]),
            np.array([9.0]),
            PlanConfig(k=1, hazards="off"),
            existing=[which == 0, which == 1],
        )
        plan = optimise(NO_DATA, pp)
        assert set(plan.sites) == {f"s{which}"}
        assert plan.run.ties is not None
        assert (plan.run.ties.new_sites, plan.run.ties.existing_sites) == (0, 1)


def test_lower_latency_at_equal_cost_and_solver_order_when_asked() -> None:
    """Equal cost, no existing sites: the nearer site; ``ties = "solver"`` records no rule."""
    pp = from_matrices(
        np.array([[4.0, 1.0]]),
        np.array([[0.0, 300.0], [300.0, 0.0]]),
        np.array([[5.0], [5.0]]),
        np.array([[9.0], [9.0]]),
        np.array([1.0]),
        np.array([5.0]),
        np.array([9.0]),
        PlanConfig(k=1, hazards="off"),
    )
    plan = optimise(NO_DATA, pp)
    assert set(plan.sites) == {"s1"}
    assert plan.run.ties is not None and plan.run.ties.status == "proved"
    solver = PlanConfig(k=1, hazards="off", objective={"ties": "solver"})
    plan = optimise(NO_DATA, dataclasses.replace(pp, config=solver))
    assert plan.run.ties is None
    assert optimise(NO_DATA, pp, ties=False).run.ties is None


def test_bad_ties_value_refused_by_the_command(tmp_path: Path) -> None:
    scen = tmp_path / "s.toml"
    scen.write_text('[objective]\nties = "names"\n', encoding="utf-8")
    out = tmp_path / "p"
    res = CliRunner().invoke(cli, ["plan", str(scen), "--out", str(out)])
    assert res.exit_code == 3 and "Traceback" not in res.output
    assert "objective.ties" in res.output and "rule" in res.output
    assert not out.exists()
