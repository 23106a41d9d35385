"""The Python door: the notebook walkthrough of docs/python.md runs, and the API's guards."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import nisd
from nisd.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


def test_python_walkthrough_runs(tmp_path: Path) -> None:
    blocks = re.findall(
        r"```python\n(.+?)\n```", (ROOT / "docs" / "python.md").read_text(encoding="utf-8"), re.S
    )
    assert len(blocks) >= 6
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        env: dict[str, object] = {}
        for block in blocks:
            exec(compile(block, "docs/python.md", "exec"), env)
    finally:
        os.chdir(here)
    assert (tmp_path / "baseline-plan" / "plan.json").is_file()
    assert (tmp_path / "plan-explore.html").stat().st_size > 100_000
    plan = env["plan"]
    assert isinstance(plan, nisd.Plan)
    with pytest.raises(AttributeError):
        plan.status = nisd.Status.FEASIBLE  # type: ignore[misc]  # immutable


def test_variants_are_checked(sweden: object) -> None:
    ds = nisd.load()
    with pytest.raises(InputError, match="unknown link 'l-nowhere'"):
        nisd.drop_link(ds, "l-nowhere")
    with pytest.raises(InputError, match="is already used"):
        nisd.add_site(ds, "s-stockholm", "Again", 59.3, 18.0)
    with pytest.raises(InputError, match="outside the dataset's bounding box"):
        nisd.add_site(ds, "s-paris", "Paris", 48.85, 2.35)
    with pytest.raises(InputError, match="unknown site type 'bunker'"):
        nisd.add_site(ds, "s-new", "Ny", 60.0, 15.0, allowed_types=("bunker",))
    with pytest.raises(InputError, match="factor"):
        nisd.scale_demand(ds, -1)
    added = nisd.add_site(ds, "s-new", "Ny", 60.0, 15.0, allowed_types=("regional",))
    assert "s-new" in added.site_by_id and added.input_hash not in (ds.input_hash, "")
    # the same change gives the same hash; another change another one
    assert nisd.scale_demand(ds, 1.5).input_hash == nisd.scale_demand(ds, 1.5).input_hash
    assert nisd.scale_demand(ds, 1.5).input_hash != nisd.scale_demand(ds, 1.6).input_hash
    assert sum(d.load for d in nisd.scale_demand(ds, 2).demand) == pytest.approx(
        2 * sum(d.load for d in ds.demand)
    )


def test_read_plan_refuses_a_plan_of_another_dataset(tmp_path: Path) -> None:
    p = tmp_path / "plan.json"
    p.write_text('{"sites": [{"site_id": "tartu", "type": "site"}]}', encoding="utf-8")
    with pytest.raises(InputError, match="site 'tartu' is not in"):
        nisd.read_plan(p, nisd.load())


def test_api_resilience_equals_the_plan_and_the_cli(tmp_path: Path) -> None:
    """nisd.resilience reads the same evaluator as plan.json, with the plan's levels."""
    ds = nisd.load(ROOT / "tests" / "data" / "estonia")
    from nisd.optimise import PlanConfig

    cfg = PlanConfig(
        k=2,
        separation_km=100.0,
        hazards="off",
        crisis={"sets": ["single-site"], "serve": {"critical": 1.0}},
    )
    plan = nisd.plan(ds, cfg)
    table = nisd.resilience(ds, plan, sets=["single-site"]).set_index("scenario")
    for row in plan.scenarios:
        if row["scenario"] in table.index:
            got = table.loc[row["scenario"]]
            assert got["demand_served_share"] == pytest.approx(row["demand_served_share"], abs=1e-6)
            assert bool(got["levels_met"]) and row["levels_met"] is True
