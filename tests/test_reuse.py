"""Re-solves that reuse a derived problem: only the site masks and the model's settings
change between them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import ConfigError
from nisd.io.scenario import load_plan_config
from nisd.optimise.problem import PlacementProblem, from_dataset, with_config
from nisd.study import runner
from nisd.topology.latency import LatencyRows
from tests.conftest import ESTONIA

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"


@pytest.fixture(scope="module")
def derived(sweden: Dataset) -> PlacementProblem:
    # forbid a site inside a hard hazard buffer (Luleå: the airport) and one outside,
    # require another: a re-solve that lifts them must not allow Luleå
    return from_dataset(
        sweden,
        load_plan_config(
            BASELINE, {"forbidden": ["s-lulea", "s-sundsvall"], "required": ["s-goteborg"]}
        ),
    )


def same(a: object, b: object) -> bool:
    """Field values equal, arrays and latency rows by value."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, LatencyRows):
        return isinstance(b, LatencyRows) and same(a.full(), b.full())
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_with_config_equals_deriving_again(
    sweden: Dataset, derived: PlacementProblem, data: st.DataObject
) -> None:
    """Other sites forbidden or required, and other model settings: every field of the
    reused problem equals a fresh derivation's (the routing graph apart, an object)."""
    ids = sorted(sweden.site_ids)
    forbidden = data.draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    required = data.draw(
        st.lists(st.sampled_from([s for s in ids if s not in forbidden]), max_size=2, unique=True)
    )
    over = {
        "forbidden": forbidden,
        "required": required,
        "k": data.draw(st.sampled_from([1, 2, 3])),
        "separation_km": data.draw(st.sampled_from([100.0, 200.0, 300.0])),
        "p_max": data.draw(st.sampled_from([None, 4, 8])),
        "require_existing": data.draw(st.booleans()),
    }
    cfg = load_plan_config(BASELINE, over)
    got = with_config(sweden, derived, cfg)
    want = from_dataset(sweden, cfg)
    for f in dataclasses.fields(PlacementProblem):
        if f.name != "routing":
            assert same(getattr(got, f.name), getattr(want, f.name)), f.name


def test_with_config_refuses_a_derived_change(sweden: Dataset, derived: PlacementProblem) -> None:
    with pytest.raises(ValueError, match="setting the problem is derived from"):
        with_config(sweden, derived, load_plan_config(BASELINE, {"growth": 0.2}))
    with pytest.raises(ValueError, match="setting the problem is derived from"):
        with_config(sweden, derived, load_plan_config(BASELINE, {"crisis": {"sets": ["srlg"]}}))
    with pytest.raises(ConfigError, match="unknown site 's-nowhere'"):
        with_config(sweden, derived, load_plan_config(BASELINE, {"forbidden": ["s-nowhere"]}))


def test_solve_point_reuses_the_problem_and_answers_as_from_scratch() -> None:
    """A worker's second re-solve with another forbidden site derives nothing again, and
    gives the plan a fresh derivation gives."""
    runner._PROBLEMS.clear()
    base = PlanConfig(k=2, separation_km=100.0, hazards="off").model_dump(mode="json")
    first = runner.solve_point(str(ESTONIA), base)
    assert first.plan is not None, first
    opened = sorted(first.plan.sites)
    probe = {**base, "forbidden": [opened[0]]}
    reused = runner.solve_point(str(ESTONIA), probe)
    assert len(runner._PROBLEMS) == 1
    runner._PROBLEMS.clear()
    fresh = runner.solve_point(str(ESTONIA), probe)
    assert reused.ok == fresh.ok
    if fresh.plan is not None and reused.plan is not None:
        assert reused.plan.kpis == fresh.plan.kpis
        assert opened[0] not in reused.plan.sites
    else:
        assert reused.error == fresh.error


def test_scenarios_that_lose_sites_only_share_one_matrix(
    sweden: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loss of one site changes no other route: those scenarios share the matrix of
    the routes they leave, and the derived problem is the one each scenario's own search
    gives (same covering rows, cut-off users, critical users; latency to every site still
    up equal to rounding)."""
    from nisd.optimise import problem

    cfg = load_plan_config(BASELINE)
    shared = from_dataset(sweden, cfg)
    distinct = {id(m) for m in shared.crisis_latency.values()}
    single = [sc.name for sc in shared.scenarios if sc.kind == "single-site"]
    assert len(single) == len(sweden.sites)
    assert len({id(shared.crisis_latency[n]) for n in single}) == 1
    assert len(distinct) < len(shared.scenarios) - 60
    plain = problem.scenario_arrays
    monkeypatch.setattr(problem, "scenario_arrays", lambda *a, shared=None, **k: plain(*a, **k))
    fresh = from_dataset(sweden, cfg)
    assert shared.crisis_rows == fresh.crisis_rows
    assert shared.cut_off == fresh.cut_off
    assert np.array_equal(shared.critical, fresh.critical)
    for sc in shared.scenarios:
        up = shared.crisis_up[sc.name]
        assert np.array_equal(shared.crisis_cut[sc.name], fresh.crisis_cut[sc.name])
        a = shared.crisis_latency[sc.name].full()[:, up]
        b = fresh.crisis_latency[sc.name].full()[:, up]
        assert np.array_equal(np.isinf(a), np.isinf(b))
        assert np.allclose(a[np.isfinite(a)], b[np.isfinite(b)], rtol=0, atol=1e-12)
