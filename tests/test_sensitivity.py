"""nisd sensitivity: each labelled assumption low and high, against hand-computed costs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from nisd.cli import cli
from nisd.io import load_dataset
from nisd.io.synthetic import write_country


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("sens")
    data = write_country(d / "data", 25, 20, seed=5)
    scen = d / "s.toml"
    scen.write_text('k = 2\nseparation_km = 200\nhazards = "off"\n', encoding="utf-8")
    res = CliRunner().invoke(cli, ["plan", str(scen), "--data", str(data), "--out", str(d / "p")])
    assert res.exit_code == 0, res.output
    return d / "p" / "plan.json", data


def test_every_assumption_low_and_high(small_plan: tuple[Path, Path]) -> None:
    plan, data = small_plan
    res = CliRunner().invoke(cli, ["sensitivity", str(plan), "--workers", "1", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output[res.output.index("[") :])
    kept = json.loads((plan.parent / "sensitivity.json").read_text(encoding="utf-8"))
    assert kept["kind"] == "sensitivity" and rows == kept["variants"]
    doc = json.loads(plan.read_text(encoding="utf-8"))
    ds = load_dataset(data)
    types = {t.type_id: t for t in ds.site_types}
    factor = {s.site_id: s.cost_factor for s in ds.sites}
    seen = {(r["assumption"], r["side"]) for r in rows}
    for t in types:
        assert {(f"cost of a {t} site", "low"), (f"cost of a {t} site", "high")} <= seen
    assert ("geo-redundancy separation", "low") in seen
    assert ("every user's load", "high") in seen
    for r in rows:
        assert r["base_cost"] == pytest.approx(doc["kpis"]["cost_msek"])
        assert r["changes_sites"] == bool(r["added"] or r["removed"] or r["retyped"])
        name = r["assumption"]
        if name.startswith("cost of a ") and not r["changes_sites"]:
            # same sites, one type dearer or cheaper by 20 %: the change by hand
            t = name.removeprefix("cost of a ").removesuffix(" site")
            sign = -1 if r["side"] == "low" else 1
            expect = sum(
                sign * 0.2 * types[t].cost_msek * factor[s["site_id"]]
                for s in doc["sites"]
                if s["type"] == t
            )
            assert r["change"] == pytest.approx(expect, abs=1e-6), r
        if r["cost"] is not None and name == "every user's load" and r["side"] == "low":
            assert r["change"] <= 1e-6  # less load never costs more
        if r["cost"] is not None and name == "geo-redundancy separation" and r["side"] == "low":
            assert r["change"] <= 1e-6  # a looser rule never costs more


def test_report_draws_the_tornado(small_plan: tuple[Path, Path], tmp_path: Path) -> None:
    plan, _data = small_plan
    if not (plan.parent / "sensitivity.json").exists():
        res = CliRunner().invoke(cli, ["sensitivity", str(plan), "--workers", "1"])
        assert res.exit_code == 0, res.output
    page = tmp_path / "r.html"
    res = CliRunner().invoke(cli, ["report", "--lang", "en", str(plan), "--out", str(page)])
    assert res.exit_code == 0, res.output
    text = page.read_text(encoding="utf-8")
    assert "What the answer is most sensitive to" in text
    assert 'aria-label="tornado chart"' in text


def test_missing_plan_is_refused(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["sensitivity", str(tmp_path / "nope.json")])
    assert res.exit_code == 3 and "nope.json" in res.output and "Traceback" not in res.output


def test_python_door_matches_the_command(small_plan: tuple[Path, Path]) -> None:
    import nisd

    plan_path, data = small_plan
    ds = nisd.load(data)
    plan = nisd.read_plan(plan_path, ds)
    rows = [v.to_json() for v in nisd.sensitivity(ds, plan).variants]
    res = CliRunner().invoke(cli, ["sensitivity", str(plan_path), "--workers", "1", "--json"])
    cli_rows = json.loads(res.output[res.output.index("[") :])
    key = lambda r: (r["assumption"], r["side"])  # noqa: E731
    assert sorted(map(key, rows)) == sorted(map(key, cli_rows))
    for a, b in zip(sorted(rows, key=key), sorted(cli_rows, key=key), strict=True):
        assert a["cost"] == pytest.approx(b["cost"])
    with pytest.raises(nisd.errors.InputError, match="variant made in memory"):
        nisd.sensitivity(nisd.scale_demand(ds, 1.1), plan)


def test_plan_states_what_it_is_sensitive_to(small_plan: tuple[Path, Path], tmp_path: Path) -> None:
    _plan, data = small_plan
    scen = tmp_path / "s.toml"
    scen.write_text('k = 2\nseparation_km = 200\nhazards = "off"\n', encoding="utf-8")
    out = tmp_path / "p"
    res = CliRunner().invoke(
        cli, ["plan", str(scen), "--data", str(data), "--out", str(out), "--sensitivity"]
    )
    assert res.exit_code == 0, res.output
    assert "most sensitive to (the sites change with): " in res.output
    rows = json.loads((out / "sensitivity.json").read_text(encoding="utf-8"))["variants"]
    assert {r["assumption"] for r in rows} >= {"every user's load", "geo-redundancy separation"}


def test_report_says_why_each_site(small_plan: tuple[Path, Path]) -> None:
    """One sentence per opened site; the annual costs it states add up to the plan's cost."""
    import re

    import nisd
    from nisd.render.payload import build_payload
    from nisd.render.report import why_sites

    plan, _data = small_plan
    typed = nisd.read_plan(plan)
    words = why_sites(build_payload(nisd.dataset_of(typed), typed))
    assert len(words) == len(typed.sites)
    costs = [float(re.search(r"at ([0-9.]+) MSEK/year", w).group(1)) for w in words]  # type: ignore[union-attr]
    assert sum(costs) == pytest.approx(typed.kpis.cost_msek, abs=0.01)
    assert all("primary for" in w for w in words)


def test_report_calls_a_zero_regret_a_tie(small_plan: tuple[Path, Path]) -> None:
    """A site whose regret is 0 is one of several equally cheap choices, and says so."""
    import nisd
    from nisd.render.payload import build_payload
    from nisd.render.report import why_sites

    plan, _data = small_plan
    typed = nisd.read_plan(plan)
    opened = sorted(typed.sites)
    regrets = {opened[0]: 0.0, opened[-1]: 12.5}
    words = why_sites(build_payload(nisd.dataset_of(typed), typed, regrets=regrets))
    assert "a plan of the same cost exists without it" in words[0]
    assert "forbidding it costs 12.50 MSEK/year more" in words[-1]


def test_a_time_limited_variant_says_it_is_not_proved(
    small_plan: tuple[Path, Path], tmp_path: Path
) -> None:
    """A variant stopped at its time limit shows its cost as what it is: not proved, with
    its gap (here every re-solve is made to stop with a 5 % gap)."""
    from dataclasses import replace

    from nisd.records import Plan, Status
    from nisd.study.runner import PointResult, unproved
    from nisd.study.sensitivity import sensitivity_table
    from nisd.study.workers import run_tasks

    plan, data = small_plan
    typed = Plan.read(plan)
    assert unproved(typed) == ""
    feasible = typed.model_copy(update={"status": Status.FEASIBLE, "gap": 0.0123})
    assert unproved(feasible) == (
        "not proved optimal (feasible, gap 1.23%; the time limit was reached)"
    )

    def stopped(tasks: list[Any]) -> Iterator[tuple[str, PointResult]]:
        for key, res in run_tasks(tasks, workers=1):
            if res.plan is not None:
                stop = res.plan.model_copy(update={"status": Status.FEASIBLE, "gap": 0.05})
                res = replace(res, plan=stop)
            yield key, res

    rows = sensitivity_table(typed, load_dataset(data), str(data), stopped, tmp_path).variants
    priced = [r for r in rows if r.cost is not None]
    assert priced
    note = unproved(typed.model_copy(update={"status": Status.FEASIBLE, "gap": 0.05}))
    assert all(r.note == note for r in priced)
