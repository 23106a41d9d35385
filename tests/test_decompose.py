"""Sites first (:mod:`nisd.optimise.decompose`) against the full model, brute force and
hand-made cases whose cuts are known."""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nisd.cli import cli
from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, InputError, NoSolutionError
from nisd.io.scenario import load_plan_config
from nisd.optimise import from_dataset, optimise
from nisd.optimise.check import check_plan
from nisd.optimise.decompose import (
    build_master,
    chosen,
    pair_cuts,
    solve_sites_first,
    why_not,
)
from nisd.optimise.model import reach
from nisd.optimise.problem import PlacementProblem, from_matrices
from nisd.records import Plan
from tests.helpers import geometry, two_type_costs

ROOT = Path(__file__).resolve().parent.parent
NO_DATA: Dataset = None  # type: ignore[assignment]  # matrix problems have no scenarios


def with_method(pp: PlacementProblem, method: str) -> PlacementProblem:
    cfg = pp.config
    return PlacementProblem(
        **{
            **pp.__dict__,
            "config": cfg.model_copy(
                update={"solver": cfg.solver.model_copy(update={"method": method})}
            ),
        }
    )


def line(
    lat: list[list[float]],
    dist: list[list[float]],
    cost: list[float],
    cap: list[float],
    load: list[float],
    cfg: PlanConfig,
    **kw: object,
) -> PlacementProblem:
    n_i = len(load)
    return from_matrices(
        np.array(lat, float),
        np.array(dist, float),
        np.array(cost, float)[:, None],
        np.array(cap, float)[:, None],
        np.array(load, float),
        np.full(n_i, 9.0),
        np.full(n_i, 9.0),
        cfg,
        **kw,  # type: ignore[arg-type]
    )


def unsplittable() -> PlacementProblem:
    """Three users of 2 racks; two cheap sites of 3 racks and a dear one of 4."""
    cfg = PlanConfig(k=1, separation_km=None, hazards="off", capacity=True)
    return line(
        [[1, 1, 1]] * 3,
        [[0, 500, 900], [500, 0, 400], [900, 400, 0]],
        [1, 1, 5],
        [3, 3, 4],
        [2, 2, 2],
        cfg,
    )


def test_unsplittable_load_needs_a_third_site_found_by_a_cut() -> None:
    # three users of 2 racks; two cheap sites of 3 racks hold 6 racks in all (the
    # master's Hall rows are met) but only one user each: the check proves it, the cut
    # "build a site outside these" follows, and the dear third site is built too
    pp = unsplittable()
    out = solve_sites_first(pp)
    assert out.result.status.value == "optimal"
    assert out.result.objective == pytest.approx(6.0)  # a cheap site and the dear one
    first = out.record.iterations[0]
    assert first.master_objective == pytest.approx(2.0)
    assert first.check == "infeasible"
    assert (out.record.cuts or 0) >= 1
    plan = optimise(NO_DATA, pp)
    assert plan.value == pytest.approx(6.0)
    assert plan.run.decomposition is not None and plan.run.decomposition.method == "sites-first"
    full = optimise(NO_DATA, with_method(pp, "full"))
    assert full.value == pytest.approx(6.0)
    assert full.run.decomposition is None


def test_backup_too_close_gets_a_serve_cut() -> None:
    # sites 0 and 1 are cheap but 50 km apart (less than the 200 km separation, in no
    # shared power zone or county): the master may open them; the array test finds no
    # primary and backup apart and cuts; site 2 (far) must be built
    cfg = PlanConfig(k=2, separation_km=200.0, hazards="off", capacity=False)
    pp = line(
        [[1, 1, 1]],
        [[0, 50, 400], [50, 0, 400], [400, 400, 0]],
        [1, 1, 3],
        [9, 9, 9],
        [1],
        cfg,
    )
    out = solve_sites_first(pp)
    assert out.result.objective == pytest.approx(4.0)
    assert out.record.iterations[0].unserved_workloads == 1
    assert out.best.sites["s2"] == "t0"


def brute_served(pp: PlacementProblem, built: dict[int, int]) -> int:
    """Workloads (every user its own here) with no primary and k − 1 backups apart among
    the built (site → type) pairs: by enumerating every sequence of sites."""
    k = pp.config.k
    conflict = pp.conflict()
    bad = 0
    for i in range(pp.n_demand):
        ok_t = set(pp.protected_types(i))
        usable = [j for j, t in built.items() if t in ok_t]
        good = any(
            pp.latency[i, seq[0]] <= pp.primary_ms[i] + 1e-9
            and all(pp.latency[i, j] <= pp.backup_ms[i] + 1e-9 for j in seq[1:])
            and not any(conflict[seq[0], j] for j in seq[1:])
            for seq in itertools.permutations(usable, k)
        )
        bad += not good
    return bad


@st.composite
def matrix_problems(draw: st.DrawFn) -> PlacementProblem:
    n_i = draw(st.integers(1, 6))
    n_j = draw(st.integers(3, 7))
    lat, dist = geometry(draw, n_i, n_j, 600)
    cost = two_type_costs(draw, n_j, cheap=(1, 6), extra=(1, 5))
    cap = np.array(draw(st.lists(st.integers(2, 6), min_size=n_j, max_size=n_j)), float)
    k = draw(st.integers(1, 3))
    cfg = PlanConfig(
        k=k,
        separation_km=draw(st.sampled_from([None, 150.0, 300.0])) if k > 1 else None,
        separate_power_zone=k > 1 and draw(st.booleans()),
        capacity=draw(st.booleans()),
        p_max=draw(st.sampled_from([None, 3, 4])),
        min_site_distance_km=draw(st.sampled_from([None, 80.0])),
        hazards="off",
    )
    return from_matrices(
        lat,
        dist,
        cost,
        np.column_stack([cap, cap * 2]),
        np.array(draw(st.lists(st.integers(1, 3), min_size=n_i, max_size=n_i)), float),
        np.full(n_i, draw(st.sampled_from([3.0, 5.0, 9.0]))),
        np.full(n_i, 9.0),
        cfg,
        power_zone=draw(st.lists(st.sampled_from("AB"), min_size=n_j, max_size=n_j)),
        type_protection=[draw(st.integers(0, 1)), 2],
        demand_protection=draw(st.lists(st.integers(0, 2), min_size=n_i, max_size=n_i)),
    )


def solved(pp: PlacementProblem) -> Plan | None:
    try:
        plan = optimise(NO_DATA, pp)
    except InfeasibleError:
        return None
    assert plan.status == "optimal"
    assert check_plan(pp, plan.sites, plan.assignments) == []
    return plan


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(matrix_problems())
def test_sites_first_equals_the_full_model_and_its_rows_are_valid(pp: PlacementProblem) -> None:
    plan = solved(with_method(pp, "full"))
    first = solved(with_method(pp, "sites-first"))
    if plan is None:
        assert first is None
        return
    assert first is not None
    assert math.isclose(first.value or 0.0, plan.value or 0.0, abs_tol=1e-6)
    # the master is a relaxation: the full model's optimal sites meet every one of its rows
    ms = build_master(pp, reach(pp))
    tidx = {t: n for n, t in enumerate(pp.type_ids)}
    sidx = {s: n for n, s in enumerate(pp.site_ids)}
    on = {(sidx[s], tidx[t]) for s, t in plan.sites.items()}
    for key, v in ms.model.y.items():
        v.varValue = 1.0 if key in on else 0.0
    broken = [n for n, c in ms.model.prob.constraints.items() if not c.valid(1e-6)]
    assert broken == []
    # the array test of a built set against enumeration of every sequence of sites
    built = np.array([p in on for p in ms.pairs])
    assert pair_cuts(ms, pp, reach(pp), built) == brute_served(pp, {j: t for j, t in on})


@pytest.mark.slow
def test_default_baseline_same_optimum_both_ways(sweden: Dataset) -> None:
    cfg = load_plan_config(ROOT / "scenarios" / "baseline.toml")
    first = optimise(sweden, from_dataset(sweden, cfg))
    full_cfg = cfg.model_copy(update={"solver": cfg.solver.model_copy(update={"method": "full"})})
    full = optimise(sweden, from_dataset(sweden, full_cfg))
    assert first.status == full.status == "optimal"
    assert first.kpis.cost_msek == pytest.approx(full.kpis.cost_msek) == 320.25
    rec = first.run.decomposition
    assert rec is not None
    assert rec.master.families["crisis"] > 0
    # the master proposes many equally cheap site sets that the capacity-true check refuses;
    # after its 20 solves the full model proves the optimum (docs/model.md, sites first)
    if rec.then is None:
        assert rec.lower == pytest.approx(320.25)
    else:
        assert rec.then == "full model"
    assert first.bound == pytest.approx(320.25)
    # every scenario's levels met on the independent re-check (optimise raises otherwise)
    assert all(row.levels_met is not False for row in first.scenarios)


def test_method_choice() -> None:
    cfg = PlanConfig(k=1, separation_km=None, hazards="off")
    pp = line([[1, 1]], [[0, 300], [300, 0]], [1, 2], [9, 9], [1], cfg)
    assert chosen(pp) and why_not(pp) is None
    assert not chosen(with_method(pp, "full"))
    median = cfg.model_copy(
        update={"objective": cfg.objective.model_copy(update={"name": "median"})}
    )
    pm = line([[1, 1]], [[0, 300], [300, 0]], [1, 2], [9, 9], [1], median)
    assert not chosen(pm)
    assert "median" in str(why_not(pm))
    with pytest.raises(InputError, match=r"method = 'sites-first'.*median"):
        optimise(NO_DATA, with_method(pm, "sites-first"))


def test_sites_first_with_another_objective_is_refused_by_the_command(tmp_path: Path) -> None:
    scen = tmp_path / "s.toml"
    scen.write_text(
        'extends = "' + str(ROOT / "scenarios" / "baseline.toml") + '"\n'
        '[objective]\nname = "median"\n[solver]\nmethod = "sites-first"\n',
        encoding="utf-8",
    )
    out = tmp_path / "p"
    res = CliRunner().invoke(cli, ["plan", str(scen), "--out", str(out)])
    assert res.exit_code == 3
    assert "method = 'sites-first'" in res.output and "median" in res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_unknown_method_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="method"):
        load_plan_config(None, {"solver": {"method": "benders"}})


def test_time_limit_before_any_plan_says_so() -> None:
    cfg = PlanConfig(k=1, separation_km=None, hazards="off", solver={"time_limit": 1})
    pp = line([[1, 1]], [[0, 300], [300, 0]], [1, 2], [9, 9], [1], cfg)
    with pytest.raises(NoSolutionError, match="time limit"):
        solve_sites_first(pp, t0=time.perf_counter() - 10)


def test_a_gap_and_a_start_keep_the_answer_honest(sweden: Dataset) -> None:
    # a relative gap of 5 %: a plan within 5 % of the master's bound is enough; the
    # reported gap is the true distance between the plan and the bound
    cfg = load_plan_config(ROOT / "scenarios" / "baseline.toml", {"solver": {"gap": 0.05}})
    pp = from_dataset(sweden, cfg)
    out = solve_sites_first(pp)
    assert out.result.objective is not None and out.result.bound is not None
    assert out.result.bound <= 320.25 + 1e-6 <= out.result.objective + 1e-6
    assert out.result.gap == pytest.approx(
        (out.result.objective - out.result.bound) / out.result.objective
    )
    assert out.result.gap <= 0.05 + 1e-9
    # a known plan's sites are checked first and give the first upper bound
    plan = optimise(
        sweden, from_dataset(sweden, load_plan_config(ROOT / "scenarios" / "baseline.toml"))
    )
    again = solve_sites_first(
        from_dataset(sweden, load_plan_config(ROOT / "scenarios" / "baseline.toml")),
        start=set(plan.sites),
    )
    first = again.record.iterations[0]
    assert first.start == tuple(sorted(plan.sites))
    assert first.check_objective == pytest.approx(320.25)
    assert again.result.status.value == "optimal"
    assert again.result.objective == pytest.approx(320.25)


def test_auto_falls_back_to_the_full_model_when_the_master_is_weak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the unsplittable case needs two master solves; allowed one, auto goes on with the
    # one model (and says so), and the answer is the same
    from nisd.optimise import decompose

    monkeypatch.setattr(decompose, "AUTO_MASTERS", 1)
    pp = unsplittable()
    plan = optimise(NO_DATA, pp)
    assert plan.status == "optimal"
    assert plan.value == pytest.approx(6.0)
    assert plan.run.decomposition is not None
    assert plan.run.decomposition.then == "full model"
    assert len(plan.run.decomposition.iterations) == 1
    # asked for by name, sites first goes on until it closes
    named = optimise(NO_DATA, with_method(pp, "sites-first"))
    assert named.value == pytest.approx(6.0)
    assert "then" not in named.run.decomposition


@pytest.mark.slow
def test_dedicated_backup_same_optimum_both_ways_and_checked(sweden: Dataset) -> None:
    # dedicated (1+1) backup: sites first's master holds room for each workload's primary
    # and protected backups inside the sites it may use (a Hall row per distinct set)
    # the loss of one site only: with every crisis set the full model needs minutes on the
    # default of 2026-12 (docs/model.md, sites first)
    cfg = load_plan_config(
        ROOT / "scenarios" / "baseline.toml",
        {"crisis": {"backup": "dedicated", "sets": ["single-site"], "tiers": []}},
    )
    pp = from_dataset(sweden, cfg)
    first = optimise(sweden, pp)
    assert first.run.decomposition is not None
    assert first.run.decomposition.master.families["hall_dedicated"] > 0
    full = optimise(sweden, with_method(pp, "full"))
    assert first.status == full.status == "optimal"
    assert first.value == pytest.approx(full.value) == 358.5
    # the independent check reads the rooms: too small a site is reported
    small = dataclasses.replace(pp, capacity=pp.capacity * 0.5)
    assert any("dedicated backup" in v for v in check_plan(small, first.sites, first.assignments))


@pytest.mark.slow
def test_crisis_room_rows_never_change_the_optimum(
    sweden: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crisis-room rows are implied by the capacity-true rows (a relaxation's rows):
    the full model without them reaches the same optimum on the default, whose county
    losses leave users on islands (cut off, asked nothing, their load relieving no one)."""
    from nisd.optimise import model

    # a site's loss and a county's (critical load only: the full model with every tier of
    # the baseline needs minutes on the default of 2026-12)
    crisis = {
        "sets": ["single-site"],
        "serve": {"critical": 1.0, "high": 1.0},
        "tiers": [{"sets": ["county"], "serve": {"critical": 1.0}}],
    }
    cfg = load_plan_config(
        ROOT / "scenarios" / "baseline.toml", {"solver": {"method": "full"}, "crisis": crisis}
    )
    with_rows = optimise(sweden, from_dataset(sweden, cfg))
    assert with_rows.run.model is not None
    assert with_rows.run.model.families["crisis_room"] > 0
    monkeypatch.setattr(
        model, "FAMILIES", tuple(f for f in model.FAMILIES if f is not model.add_crisis_room)
    )
    without = optimise(sweden, from_dataset(sweden, cfg))
    assert without.run.model is not None
    assert "crisis_room" not in without.run.model.families
    assert without.status == with_rows.status == "optimal"
    assert without.value == pytest.approx(with_rows.value)
