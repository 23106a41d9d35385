"""Scenario library, sweeps (resumable, failures reported, same table under Dask),
explanations, alternatives and the crisis ladder."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from nisd.cli import cli
from nisd.errors import InputError
from nisd.io.scenario import load_plan_config
from nisd.study.sweep import grid, parse_vary
from tests.conftest import ESTONIA, ROOT

SCEN = 'k = 2\nseparation_km = 100\nhazards = "off"\n'


def test_scenario_library_validates() -> None:
    names = {p.name for p in (ROOT / "scenarios").glob("*.toml")}
    assert {
        "baseline.toml",
        "heightened-alert.toml",
        "war.toml",
        "budget-cut.toml",
        "north.toml",
        "existing-sites-first.toml",
    } <= names
    for p in (ROOT / "scenarios").glob("*.toml"):
        cfg = load_plan_config(p)
        assert cfg.description
        assert p.read_text(encoding="utf-8").lstrip().startswith("#")  # says what it answers
    war = load_plan_config(ROOT / "scenarios" / "war.toml")
    assert war.separation_km == 300
    assert any("region:100km" in sl.sets for sl in war.crisis.service_levels())
    assert war.capacity is True  # inherited from baseline.toml


def test_vary_parsing() -> None:
    assert parse_vary(["p=3..5", "separation_km=100,200"]) == {
        "p": [3, 4, 5],
        "separation_km": [100, 200],
    }
    assert parse_vary(["crisis.capacity=true,false"]) == {"crisis.capacity": [True, False]}
    with pytest.raises(InputError, match="expected KEY=VALUES"):
        parse_vary(["p"])
    with pytest.raises(InputError, match="empty range"):
        parse_vary(["p=5..3"])
    pts = grid({"p_min": 2, "p_max": 5}, {"p": [2, 3]})
    assert [p.config for p in pts] == [{"p": 2}, {"p": 3}]


def _sweep(tmp_path: Path, out: Path, *extra: str) -> pd.DataFrame:
    scen = tmp_path / "ee.toml"
    scen.write_text(SCEN)
    res = CliRunner().invoke(
        cli,
        [
            "sweep",
            str(scen),
            "--data",
            str(ESTONIA),
            "--vary",
            "p=2..3",
            "--vary",
            "separation_km=100,400",
            "--out",
            str(out),
            "--no-maps",
            *extra,
        ],
    )
    assert res.exit_code == 0, res.output
    return pd.read_csv(out / "table.csv")


def _sweep_maps(tmp_path: Path, out: Path, p: str, *extra: str) -> pd.DataFrame:
    res = CliRunner().invoke(
        cli,
        [
            "sweep", str(tmp_path / "ee.toml"), "--data", str(ESTONIA), "--vary", p,
            "--vary", "separation_km=100,400", "--out", str(out), *extra,
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return pd.read_csv(out / "table.csv")


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["point", "status", "objective", "sites", "worst_case_share_served", "pareto"]
    return df[cols].sort_values("point").reset_index(drop=True)


def test_sweep_outputs_failures_and_resume(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    df = _sweep(tmp_path, out, "--workers", "1")
    assert len(df) == 4
    assert set(df.status) == {"optimal", "error"}
    bad = df[df.status == "error"]
    assert all(bad["param.separation_km"] == 400)
    assert all("no plan satisfies" in e for e in bad.error)
    for f in ("table.csv", "table.parquet", "pareto.png", "pareto.svg", "index.html"):
        assert (out / f).stat().st_size > 0
    assert pd.read_parquet(out / "table.parquet").shape == df.shape
    assert df.pareto.any()
    # resume: finished points are not solved again
    done = sorted((out / "points").glob("*/plan.json"))
    stamps = {p: p.stat().st_mtime_ns for p in done}
    df2 = _sweep(tmp_path, out, "--workers", "1")
    assert {p: p.stat().st_mtime_ns for p in done} == stamps
    pd.testing.assert_frame_equal(_comparable(df), _comparable(df2))


@pytest.mark.slow
def test_sweep_maps_are_drawn_by_the_workers_as_nisd_map_draws_them(tmp_path: Path) -> None:
    import nisd

    out = tmp_path / "sw"
    _sweep(tmp_path, out, "--workers", "1")  # no maps: the resumed points have none
    before = sorted((out / "points").glob("*/plan.json"))
    assert len(before) == 2 and not list((out / "points").glob("*/plan.html"))
    df = _sweep_maps(tmp_path, out, "p=2..4", "--workers", "2")
    solved = df[df.status == "optimal"]
    assert len(solved) == 3  # two resumed (drawn here), one drawn by a pool's worker
    for key in solved.point:
        plan_json = out / "points" / key / "plan.json"
        page = (plan_json.parent / "plan.html").read_text(encoding="utf-8")
        plan = nisd.read_plan(plan_json)
        assert page == nisd.map_html(nisd.dataset_of(plan), plan)
    assert "map_error" not in df


def test_a_map_that_cannot_be_drawn_leaves_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nisd.api.studies

    def broken(plan: object, ds: object) -> str:
        raise ValueError("no room on the page")

    monkeypatch.setattr(nisd.api.studies, "draw_plan_map", broken)
    (tmp_path / "ee.toml").write_text(SCEN)
    out = tmp_path / "sw"
    res = CliRunner().invoke(
        cli,
        [
            "sweep", str(tmp_path / "ee.toml"), "--data", str(ESTONIA), "--vary", "p=2",
            "--out", str(out), "--workers", "1",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "map not drawn" in res.output and "ValueError: no room on the page" in res.output
    df = pd.read_csv(out / "table.csv")
    assert df.status.tolist() == ["optimal"]
    assert df.map_error.tolist() == ["ValueError: no room on the page"]
    assert list((out / "points").glob("*/plan.json"))
    assert not list((out / "points").glob("*/plan.html"))


@pytest.mark.slow
def test_sweep_same_table_with_process_pool_and_dask(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    serial = _sweep(tmp_path, tmp_path / "a", "--workers", "1")
    pool = _sweep(tmp_path, tmp_path / "b", "--workers", "2")
    dask = _sweep(tmp_path, tmp_path / "c", "--dask", "local", "--workers", "2")
    pd.testing.assert_frame_equal(_comparable(serial), _comparable(pool))
    pd.testing.assert_frame_equal(_comparable(serial), _comparable(dask))


def test_sweep_rejects_bad_point(tmp_path: Path) -> None:
    scen = tmp_path / "ee.toml"
    scen.write_text(SCEN)
    res = CliRunner().invoke(
        cli,
        [
            "sweep",
            str(scen),
            "--data",
            str(ESTONIA),
            "--vary",
            "separation_km=50,100",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 3
    assert "at least 100" in res.stderr
    assert not (tmp_path / "o").exists()


def _plan(tmp_path: Path) -> Path:
    scen = tmp_path / "ee.toml"
    scen.write_text(SCEN)
    out = tmp_path / "plan"
    res = CliRunner().invoke(cli, ["plan", str(scen), "--data", str(ESTONIA), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out / "plan.json"


def test_explain_regrets(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    res = CliRunner().invoke(
        cli, ["explain", str(plan), "--rejected", "all", "--workers", "1", "--json"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    doc = json.loads(plan.read_text())
    opened = {s["site_id"] for s in doc["sites"]}
    assert {r["site_id"] for r in rows if r["role"] == "opened"} == opened
    assert len([r for r in rows if r["role"] == "rejected"]) == 6 - len(opened)
    # the optimum cannot improve by forbidding or forcing a site
    assert all(r["change"] is None or r["change"] >= -1e-9 for r in rows)
    # each regret is the plan re-made by hand without the site (or with it forced in)
    import nisd

    typed = nisd.read_plan(plan)
    ds = nisd.dataset_of(typed)
    for r in rows:
        if r["change"] is None:
            continue
        key = "forbidden" if r["role"] == "opened" else "required"
        alone = nisd.plan(ds, typed.run.config(), **{key: [r["site_id"]]})
        assert r["change"] == pytest.approx((alone.value or 0.0) - (typed.value or 0.0), abs=1e-6)
    # the explanation kept beside the plan is the one printed, and the map shows it
    kept = nisd.read_beside(plan).explanation
    assert kept is not None and [p.to_json() for p in kept.probes] == rows


def test_alternatives(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    res = CliRunner().invoke(cli, ["alternatives", str(plan), "--slack", "60%", "--count", "2"])
    assert res.exit_code == 0, res.output
    doc = json.loads(plan.read_text())
    base = doc["objective"]["value"]
    first = {s["site_id"] for s in doc["sites"]}
    alt = json.loads((plan.parent / "alt-1" / "plan.json").read_text())
    assert alt["objective"]["value"] <= base * 1.6 + 1e-6
    assert {s["site_id"] for s in alt["sites"]} != first
    res = CliRunner().invoke(cli, ["alternatives", str(plan), "--slack", "lots"])
    assert res.exit_code == 3 and "--slack" in res.stderr


def test_ladder_recommends_min_max_regret(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    rung = tmp_path / "crisis.toml"
    rung.write_text('[crisis]\nsets = ["single-site", "single-link"]\nlevels = ["critical"]\n')
    res = CliRunner().invoke(
        cli, ["ladder", str(plan), "--rungs", f"peace={rung},crisis={rung}", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["recommended"] == "plan"
    rows = {r["rung"]: r for r in out["rows"]}
    assert rows["peace"]["worst_share"] == 1.0 and rows["crisis"]["scenarios"] > 0
