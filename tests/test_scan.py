"""Attacks scored in batches (nisd.optimise.scan) against the served-load evaluator, attack by
attack; the default attack method against brute force; auto's choice of method."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nisd
from nisd.dataset import Dataset
from nisd.io import load_dataset
from nisd.io.synthetic import write_country
from nisd.optimise import scan, war
from nisd.optimise.interdict import attack_scenario
from nisd.optimise.war import _distinct, attack, enumerate_attacks, plan_data, served_prefix
from nisd.topology import build_graph
from nisd.topology.resilience import evaluate

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "golden" / "baseline-plan.json"
KINDS = ("site", "node", "srlg")


def _scores_and_evaluator(
    ds: Dataset,
    sites: dict[str, str] | list[str],
    assign: dict[str, list[str]] | None,
    budget: float,
    islands: bool,
    sample: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The scan's key values of (a sample of) every attack, and the evaluator's."""
    g = build_graph(ds)
    pd_ = plan_data(ds, g, sites, assign, KINDS)
    cands = list(ds.site_ids)
    assert scan.scannable(pd_.fd, cands) is None
    s = scan.Scan(
        scan.layout(pd_.fd, pd_.targets, cands), budget, candidates=len(cands), islands=islands
    )
    s.run()
    values, attacks = s.values, s.attacks
    assert len(values) == s.total
    pick = np.arange(len(values))
    if sample is not None and sample < len(values):
        pick = np.random.default_rng(seed).choice(len(values), sample, replace=False)
    chosen = [scan.as_targets(s.lay, attacks[k]) for k in pick]
    rows = evaluate(
        ds,
        g,
        pd_.sites,
        [attack_scenario(a) for a in chosen],
        assignments=pd_.assignments,
        check_two_routes=False,
        islands=islands,
    ).rows
    ev = np.array([[round(v, 3) for v in served_prefix(r, pd_.fd, "critical-first")] for r in rows])
    return values[pick], ev


@pytest.mark.parametrize("islands", [True, False])
def test_scores_are_the_evaluators_on_the_default_plan(sweden: Dataset, islands: bool) -> None:
    """Every attack of one target and 400 of two on the default baseline (110 targets:
    opened sites, backbone nodes, shared-risk groups; about half of the pairs split the
    backbone): the batched score is the evaluator's figure, to the rack's thousandth."""
    plan = nisd.read_plan(GOLDEN)
    assign = {d: list(v) for d, v in plan.assignments.items()}
    for budget, sample in ((1, None), (2, 400)):
        fast, ev = _scores_and_evaluator(sweden, dict(plan.sites), assign, budget, islands, sample)
        np.testing.assert_array_equal(fast, ev)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_open=st.integers(1, 5),
    islands=st.booleans(),
    assigned=st.booleans(),
)
def test_scores_are_the_evaluators_on_random_countries(
    tmp_path_factory: pytest.TempPathFactory, seed: int, n_open: int, islands: bool, assigned: bool
) -> None:
    """Random synthetic countries, plans and attacks of up to two targets: every score
    equals the evaluator's figure."""
    d = write_country(tmp_path_factory.mktemp("c"), 14, 30, seed=seed)
    ds = load_dataset(d)
    rng = np.random.default_rng(seed)
    opened = sorted(rng.choice(ds.site_ids, n_open, replace=False).tolist())
    assign = None
    if assigned:
        assign = {
            u.demand_id: rng.choice(opened, min(2, n_open), replace=False).tolist()
            for u in ds.demand
        }
    fast, ev = _scores_and_evaluator(ds, opened, assign, 2, islands, sample=150, seed=seed)
    np.testing.assert_array_equal(fast, ev)


def test_the_default_method_finds_the_brute_forces_top_attacks(sweden: Dataset) -> None:
    """r = 1 over every kind of target on the default plan: the top 10 by the default
    method are those of every attack evaluated one by one, in the same order, with the
    same figures."""
    plan = nisd.read_plan(GOLDEN)
    assign = {d: list(v) for d, v in plan.assignments.items()}
    g = build_graph(sweden)
    res = attack(sweden, g, dict(plan.sites), assign, budget=1, kinds=KINDS, top=10, islands=True)
    listed = enumerate_attacks(sweden, g, dict(plan.sites), assign, budget=1, kinds=KINDS,
                               islands=True)  # fmt: skip
    picks = [listed[n][1] for n in _distinct([tuple(e.targets) for _k, e in listed], 10)]
    # every target once, and the plan without an attack
    targets = len(plan.sites) + len(sweden.node_by_id)
    targets += len({grp for lk in sweden.links for grp in lk.srlg})
    assert res.found_by == "enumerate" and res.attacks_evaluated == targets + 1
    assert [a.targets for a in res.attacks] == [e.targets for e in picks]
    for a, e in zip(res.attacks, picks, strict=True):
        assert a.served_by_class == e.served_by_class and a.cut_off == e.cut_off


@pytest.mark.slow
def test_the_default_method_at_two_targets_is_the_brute_force(sweden: Dataset) -> None:
    """The issue's case: r = 2 over sites, nodes and shared-risk groups (6,106 attacks),
    top 10, against every attack evaluated by the evaluator (about 15 s)."""
    plan = nisd.read_plan(GOLDEN)
    assign = {d: list(v) for d, v in plan.assignments.items()}
    g = build_graph(sweden)
    res = attack(sweden, g, dict(plan.sites), assign, budget=2, kinds=KINDS, top=10, islands=True)
    listed = enumerate_attacks(sweden, g, dict(plan.sites), assign, budget=2, kinds=KINDS,
                               islands=True)  # fmt: skip
    picks = [listed[n][1] for n in _distinct([tuple(e.targets) for _k, e in listed], 10)]
    assert [a.targets for a in res.attacks] == [e.targets for e in picks]


def test_auto_searches_when_listing_would_take_too_long(
    sweden: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """auto lists the attacks when the first batch says that is quick, else searches with
    the interdiction programme; under islands = "skip", which the programme does not
    model, it always lists them."""
    plan = nisd.read_plan(GOLDEN)
    assign = {d: list(v) for d, v in plan.assignments.items()}
    g = build_graph(sweden)
    args = {"budget": 1, "kinds": ("site",), "top": 2}
    assert attack(sweden, g, dict(plan.sites), assign, **args).found_by == "enumerate"  # type: ignore[arg-type]
    monkeypatch.setattr(war, "LIST_SECONDS", 0.0)
    milp = attack(sweden, g, dict(plan.sites), assign, **args)  # type: ignore[arg-type]
    assert milp.found_by == "milp" and "does not model" not in milp.method
    listed = attack(sweden, g, dict(plan.sites), assign, islands=True, **args)  # type: ignore[arg-type]
    assert listed.found_by == "enumerate"
    assert [a.targets for a in listed.attacks] == [a.targets for a in milp.attacks]
    forced = attack(sweden, g, dict(plan.sites), assign, islands=True, method="milp", **args)  # type: ignore[arg-type]
    assert "a worse attack may exist" in forced.method


def plan_data_dir() -> Path:
    from nisd.io import default_data_dir

    return default_data_dir()


def test_attack_shows_progress_on_stderr_and_q_hides_it() -> None:
    args = [sys.executable, "-m", "nisd", "attack", str(GOLDEN), "--r", "1"]
    args += ["--targets", "sites,nodes"]
    res = subprocess.run(args, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    plan = nisd.read_plan(GOLDEN)
    n = len(plan.sites) + len(load_dataset(plan_data_dir()).node_by_id) + 1  # and no attack
    assert f"listing {n} attacks" in res.stderr
    assert f"all {n} attacks listed" in res.stdout
    quiet = subprocess.run([*args[:3], "-q", *args[3:]], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout.splitlines()[1:] == res.stdout.splitlines()[1:]  # the time differs
