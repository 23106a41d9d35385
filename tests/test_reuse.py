"""Re-solves that reuse a derived problem: only the site masks change between them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nisd.dataset import Dataset
from nisd.errors import ConfigError
from nisd.optimise import PlanConfig, load_plan_config
from nisd.optimise.problem import PlacementProblem, from_dataset, with_sites
from nisd.study import runner
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


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_with_sites_equals_deriving_again(
    sweden: Dataset, derived: PlacementProblem, data: st.DataObject
) -> None:
    ids = sorted(sweden.site_ids)
    forbidden = data.draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    required = data.draw(
        st.lists(st.sampled_from([s for s in ids if s not in forbidden]), max_size=2, unique=True)
    )
    cfg = load_plan_config(BASELINE, {"forbidden": forbidden, "required": required})
    got = with_sites(sweden, derived, cfg)
    want = from_dataset(sweden, cfg)
    assert np.array_equal(got.allowed, want.allowed)
    assert np.array_equal(got.required, want.required)
    assert got.config == want.config
    assert got.crisis_rows == want.crisis_rows
    assert got.scenarios == want.scenarios


def test_with_sites_refuses_a_wider_change(sweden: Dataset, derived: PlacementProblem) -> None:
    with pytest.raises(ValueError, match="more than their sites"):
        with_sites(sweden, derived, load_plan_config(BASELINE, {"k": 3}))
    with pytest.raises(ConfigError, match="unknown site 's-nowhere'"):
        with_sites(sweden, derived, load_plan_config(BASELINE, {"forbidden": ["s-nowhere"]}))


def test_solve_point_reuses_the_problem_and_answers_as_from_scratch() -> None:
    """A worker's second re-solve with another forbidden site derives nothing again, and
    gives the plan a fresh derivation gives."""
    runner._PROBLEMS.clear()
    base = PlanConfig(k=2, separation_km=100.0, hazards="off").model_dump(mode="json")
    first = runner.solve_point(str(ESTONIA), base)
    assert first["ok"], first
    opened = sorted(s["site_id"] for s in first["plan"]["sites"])
    probe = {**base, "forbidden": [opened[0]]}
    reused = runner.solve_point(str(ESTONIA), probe)
    assert len(runner._PROBLEMS) == 1
    runner._PROBLEMS.clear()
    fresh = runner.solve_point(str(ESTONIA), probe)
    for r in (reused, fresh):
        assert r["ok"] == fresh["ok"]
    if fresh["ok"]:
        assert reused["plan"]["kpis"] == fresh["plan"]["kpis"]
        assert opened[0] not in {s["site_id"] for s in reused["plan"]["sites"]}
    else:
        assert reused["error"] == fresh["error"]
