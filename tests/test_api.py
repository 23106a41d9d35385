"""The Python door: the notebook walkthrough of docs/python.md runs, and the API's guards."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

import nisd
from nisd.cli import cli
from nisd.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_python_walkthrough_runs_and_its_figures_agree(tmp_path: Path) -> None:
    """docs/python.md runs as written, and what it shows agrees with an independent reading:
    the saved file read back, the resilience rows against the plan's own, the fees against
    the cost, the explore map naming every opened site."""
    blocks = re.findall(
        r"```python\n(.+?)\n```", (ROOT / "docs" / "python.md").read_text(encoding="utf-8"), re.S
    )
    assert len(blocks) >= 6
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        env: dict[str, Any] = {}
        for block in blocks:
            exec(compile(block, "docs/python.md", "exec"), env)
    finally:
        os.chdir(here)
    plan = env["plan"]
    assert isinstance(plan, nisd.Plan)
    # the baseline is proved optimal at its known cost (the same as the full model's)
    assert plan.status is nisd.Status.OPTIMAL and plan.value == pytest.approx(320.25)
    assert env["full"].value == pytest.approx(plan.value)
    # the file on disk is the record: read independently with json, the figures are the same
    doc = json.loads((tmp_path / "baseline-plan" / "plan.json").read_text(encoding="utf-8"))
    assert doc["kind"] == "plan" and doc["schema"] == nisd.records.base.SCHEMA
    assert doc["kpis"]["cost_msek"] == plan.kpis.cost_msek
    assert {s["site_id"]: s["type"] for s in doc["sites"]} == dict(plan.sites)
    # the evaluator gives the plan's own figures for the scenarios both evaluated
    mine = {r.scenario: r for r in plan.scenarios}
    for r in env["res"].rows:
        if r.scenario in mine:
            assert r.demand_served_share == pytest.approx(mine[r.scenario].demand_served_share)
    # fees sum to the cost; the roll-out's years are consecutive
    assert sum(r.fee_msek for r in env["shares"].rows) == pytest.approx(plan.kpis.cost_msek)
    # nobody is charged in a year without agencies on board; declining names every other
    for y in env["yearly"].years:
        assert (y.fee_income_msek > 0) == (y.payers > 0)
    (change,) = env["without"].changes
    assert "Polismyndigheten" not in {r.payer for r in change.rows if r.after_msek}
    assert '<html lang="sv">' in env["page"] and '<html lang="en">' in env["english"]
    assert env["price"][0].rung == "peace (baseline)"
    ro = env["ro"]
    assert list(ro.year_numbers) == list(range(2026, 2033))
    # the notebook map names every opened site (escaped as data)
    page = (tmp_path / "plan-explore.html").read_text(encoding="utf-8")
    for sid in plan.sites:
        assert html.escape(env["ds"].site_by_id[sid].name) in page
    with pytest.raises(ValidationError):
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
    """nisd.resilience, ``nisd resilience --json`` and plan.json give the same figures
    (one evaluator, the plan's own levels)."""
    ds = nisd.load(ROOT / "tests" / "data" / "estonia")
    from nisd.config import PlanConfig

    cfg = PlanConfig(
        k=2,
        separation_km=100.0,
        hazards="off",
        crisis={"sets": ["single-site"], "serve": {"critical": 1.0}},
    )
    plan = nisd.plan(ds, cfg)
    rows = {r.scenario: r for r in nisd.resilience(ds, plan, sets=["single-site"]).rows}
    both = [r for r in plan.scenarios if r.scenario in rows]
    assert len(both) == len(plan.sites)  # every opened site's loss, in both
    path = plan.save(tmp_path / "p")
    res = CliRunner().invoke(cli, ["resilience", str(path), "--scenarios", "single-site", "--json"])
    assert res.exit_code == 0, res.output
    cli_rows = {r["scenario"]: r for r in json.loads(res.stdout)["scenarios"]}
    assert set(cli_rows) == set(rows)
    for row in both:
        got = rows[row.scenario]
        assert got.demand_served_share == pytest.approx(row.demand_served_share, abs=1e-6)
        assert cli_rows[row.scenario]["demand_served_share"] == got.demand_served_share
        assert cli_rows[row.scenario]["served_by_class"] == got.served_by_class
        assert got.levels_met is True and row.levels_met is True
