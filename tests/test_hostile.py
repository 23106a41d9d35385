"""Hostile and careless input: every number finite, names that stay text, formulas that stay
text in a spreadsheet, files a shared folder can read, and nothing half-written."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import nisd
from nisd.cli import cli
from nisd.errors import ConfigError, InputError, NoSolutionError
from nisd.files import csv_text, safe_cell, write_atomic, write_files
from tests.helpers import read_rows, write_rows

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"separation_km": float("nan")}, "separation_km"),
        ({"separation_km": float("inf")}, "separation_km"),
        ({"crisis": {"serve": {"critical": float("nan")}}}, "crisis.serve.critical"),
        ({"rollout": {"first_year": 2026, "last_year": 2027, "capital_budget_msek": float("nan")}},
         "rollout.capital_budget_msek"),
        ({"rollout": {"first_year": 2026, "last_year": 2027,
                      "capital_budget_msek": {"2026": 1.0, "2027": float("inf")}}},
         "rollout.capital_budget_msek.2027"),
        ({"rollout": {"first_year": 2026, "last_year": 2027,
                      "capital_cost_msek": {"core": float("nan")}}},
         "rollout.capital_cost_msek.core"),
        ({"rollout": {"first_year": 2026, "last_year": 2027,
                      "opening_balance_msek": float("-inf")}},
         "rollout.opening_balance_msek"),
        ({"war": {"attacks": float("nan")}}, "war.attacks"),
    ],
)  # fmt: skip
def test_nan_and_infinity_are_refused_with_the_key_named(
    sweden: nisd.Dataset, overrides: dict[str, object], key: str
) -> None:
    """NaN would switch a rule off (x < nan is always false): refused, the key named."""
    with pytest.raises(ConfigError, match=rf"column {key}: .*must be a finite number"):
        nisd.plan(sweden, "baseline", **overrides)


def test_nan_in_a_scenario_file_and_in_a_sweep_is_refused(tmp_path: Path) -> None:
    scen = tmp_path / "nan.toml"
    scen.write_text("separation_km = nan\n", encoding="utf-8")
    out = tmp_path / "p"
    res = CliRunner().invoke(cli, ["plan", str(scen), "--out", str(out)])
    assert res.exit_code == 3, res.output
    assert "nan.toml, column separation_km: separation_km must be a finite number" in res.output
    assert not out.exists()
    res = CliRunner().invoke(
        cli, ["sweep", "baseline", "--vary", "separation_km=nan,200", "--out", str(tmp_path / "s")]
    )
    assert res.exit_code == 3
    assert "point {'separation_km': nan}" in res.output and "finite number" in res.output
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("name", ["Visby\u202e", "Luleå\u2066", "Umeå\tnorr", "\u200fKiruna"])
def test_names_with_control_characters_are_refused(data_copy: Path, name: str) -> None:
    """A name ending in U+202E reversed the text after it on a page (85.91 showed as
    19.58): names may hold no bidirectional or other control character."""
    rows = read_rows(data_copy / "sites.csv")
    rows[3]["name"] = name
    write_rows(data_copy / "sites.csv", rows)
    res = CliRunner().invoke(cli, ["validate", str(data_copy)])
    assert res.exit_code == 3
    code = f"U+{ord(next(c for c in name if not c.isalnum() and c != 'å')):04X}"
    assert f"sites.csv line 5, column name: contains the control character {code}" in res.output


def test_names_in_scenarios_and_result_files_are_checked_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="column description: contains the control character"):
        nisd.config("baseline", description="kostnad \u202e85.91")
    plan = json.loads((ROOT / "tests" / "data" / "golden" / "baseline-plan.json").read_text())
    plan["scenarios"][0]["meaning"] += "\u202e"
    with pytest.raises(InputError, match=r"scenarios\.0\.meaning: contains the control character"):
        nisd.Plan.from_json(plan, "plan.json")


@pytest.mark.parametrize("text", ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tx", "=HYPERLINK(x)"])
def test_a_cell_that_begins_like_a_formula_stays_text(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert safe_cell(-2.5) == -2.5 and safe_cell("Umeå") == "Umeå"
    line = csv_text(["name"], [[text]]).splitlines()[1]
    assert not line.lstrip('"').startswith(("=", "+", "-", "@", "\t"))


def test_no_written_csv_cell_begins_with_a_formula(data_copy: Path, tmp_path: Path) -> None:
    """Names and ids beginning = + - @ land in sites.csv, assignments.csv, the compare
    CSV and a sweep's table as text, never as live formulas (OWASP's CSV rule)."""
    rows = read_rows(data_copy / "sites.csv")
    for r in rows:  # every site, so that whichever the plan opens is named by a formula
        r["name"] = f'=HYPERLINK("http://x/{r["site_id"]}")'
    write_rows(data_copy / "sites.csv", rows)
    out = tmp_path / "p"
    res = CliRunner().invoke(cli, ["plan", "baseline", "--data", str(data_copy), "--out", str(out)])
    assert res.exit_code == 0, res.output
    cells = [c for f in ("sites.csv", "assignments.csv") for row in csv.reader(
        (out / f).open(encoding="utf-8")) for c in row]  # fmt: skip
    assert any(c.startswith("'=HYPERLINK(\"http://x/") for c in cells)
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    res = CliRunner().invoke(cli, ["compare", str(out), str(out), "--format", "csv"])
    assert res.exit_code == 0
    assert not any(c.startswith(("=", "+", "@")) for c in res.output.replace("\n", ",").split(","))


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    """Under umask 022 a report or a plan is readable by the group and others (0644), as
    every other tool writes; under 077 it stays private."""
    old = os.umask(0o022)
    try:
        p = write_atomic(tmp_path / "report.html", "<p>x</p>")
        d = write_files(tmp_path / "plan", {"plan.json": "{}", "sites.csv": "a\n"})
        assert oct(p.stat().st_mode & 0o777) == "0o644"
        assert all(
            oct((d / f).stat().st_mode & 0o777) == "0o644" for f in ("plan.json", "sites.csv")
        )
        os.umask(0o077)
        q = write_atomic(tmp_path / "private.html", "x")
        assert oct(q.stat().st_mode & 0o777) == "0o600"
    finally:
        os.umask(old)


def test_a_folder_or_a_file_in_the_way_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    res = CliRunner().invoke(cli, ["plan", "baseline", "--out", str(tmp_path / "taken")])
    assert res.exit_code == 3 and "is a file, not a folder for the results" in res.output
    (tmp_path / "dir.html").mkdir()
    golden = ROOT / "tests" / "data" / "golden" / "baseline-plan.json"
    res = CliRunner().invoke(
        cli, ["map", "--lang", "en", str(golden), "--out", str(tmp_path / "dir.html")]
    )
    assert res.exit_code == 3 and "is a folder: give a file name" in res.output
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        res = CliRunner().invoke(cli, ["plan", "baseline", "--out", str(locked / "p")])
        assert res.exit_code == 3 and "is not writable" in res.output


def test_a_killed_write_leaves_nothing_behind_for_long(tmp_path: Path) -> None:
    """A write killed before it could clean up leaves a hidden folder; the next write of the
    same result removes it (its process is gone)."""
    code = (
        "import os, sys; sys.path.insert(0, {root!r}); from nisd import files; "
        "orig = files.os.replace; "
        "files.os.replace = lambda *a: os._exit(9); "
        "files.write_files({out!r}, {{'plan.json': '{{}}'}})"
    ).format(root=str(ROOT), out=str(tmp_path / "plan"))
    subprocess.run([sys.executable, "-c", code], check=False)
    left = list(tmp_path.glob(".plan-*"))
    assert left, "the killed write should have left its folder"
    write_files(tmp_path / "plan", {"plan.json": "{}"})
    assert not list(tmp_path.glob(".plan-*"))
    assert (tmp_path / "plan" / "plan.json").read_text() == "{}"


GOLDEN = ROOT / "tests" / "data" / "golden"
MARKUP = '<meta http-equiv="refresh" content="0;url=https://evil.example/">'


def _beside(tmp_path: Path, kind: str) -> Path:
    """A copy of the golden plan or roll-out with its fees.json written beside it by nisd."""
    d = tmp_path / kind
    d.mkdir()
    name = "plan.json" if kind == "plan" else "rollout.json"
    src = "baseline-plan.json" if kind == "plan" else "rollout-2032.json"
    (d / name).write_text((GOLDEN / src).read_text(encoding="utf-8"), encoding="utf-8")
    res = CliRunner().invoke(cli, ["fees", str(d / name)])
    assert res.exit_code == 0 and (d / "fees.json").is_file(), res.output
    return d / name


def _edit(path: Path, change: object) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_markup_in_side_files_is_shown_as_text(tmp_path: Path) -> None:
    """A fees.json, sensitivity.json or explain.json edited to carry a <meta refresh>
    reaches the page as text: the page never leaves for another address."""
    ro = _beside(tmp_path, "rollout")

    def payer(doc: dict) -> None:  # type: ignore[type-arg]
        doc["years"][-1]["rows"][0]["payer"] = MARKUP

    _edit(ro.parent / "fees.json", payer)
    page = tmp_path / "ro.html"
    res = CliRunner().invoke(cli, ["report", "--lang", "en", str(ro), "--out", str(page)])
    assert res.exit_code == 0, res.output
    html = page.read_text(encoding="utf-8")
    assert 'http-equiv="refresh"' not in html and "&lt;meta http-equiv" in html

    plan = GOLDEN / "baseline-plan.json"
    d = tmp_path / "plan"
    d.mkdir()
    (d / "plan.json").write_bytes(plan.read_bytes())
    sens = {"kind": "sensitivity", "schema": 2, "variants": [{
        "assumption": MARKUP, "side": "low", "value": MARKUP, "base_cost": 315.75,
        "status": "optimal", "cost": 300.0, "change": -15.75, "note": MARKUP}]}  # fmt: skip
    expl = {"kind": "explain", "schema": 2, "probes": [{
        "site_id": "s-eskilstuna", "role": "opened", "base": 315.75, "status": "infeasible",
        "note": MARKUP}]}  # fmt: skip
    (d / "sensitivity.json").write_text(json.dumps(sens), encoding="utf-8")
    (d / "explain.json").write_text(json.dumps(expl), encoding="utf-8")
    for cmd in ("report", "map"):
        page = tmp_path / f"{cmd}.html"
        res = CliRunner().invoke(cli, [cmd, str(d / "plan.json"), "--out", str(page)])
        assert res.exit_code == 0, res.output
        html = page.read_text(encoding="utf-8")
        assert 'http-equiv="refresh"' not in html and "evil.example" in html, cmd


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("fees.json", lambda d: d.update(cost_msek="lots"),
         "fees.json, column cost_msek: Input should be a valid number"),
        ("fees.json", lambda d: d["years"][-1]["rows"][0].update(fee_msek=None),
         "fees.json, column years.6.rows.0.fee_msek: Input should be a valid number"),
        ("fees.json", lambda d: d.update(kind="plan-but-not"), "fees.json"),
    ],
)  # fmt: skip
def test_a_broken_side_file_is_refused_not_shown(
    tmp_path: Path, file: str, change: object, message: str
) -> None:
    ro = _beside(tmp_path, "rollout")
    _edit(ro.parent / file, change)
    page = tmp_path / "r.html"
    for cmd in ("report", "map"):
        res = CliRunner().invoke(cli, [cmd, str(ro), "--out", str(page)])
        assert res.exit_code == 3, res.output
        assert message in res.output and "Traceback" not in res.output
        assert not page.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("years"), "rollout.json, column years: required key 'years' is missing"),
        (lambda d: d["years"][0].update(year="soon"), "years.0.year: Input should be a valid"),
        (lambda d: d["years"][-1]["sites"].update({"s-atlantis": "core"}),
         "2032: site 's-atlantis' is not in"),
        (lambda d: d["years"][-1]["assignments"].update({"u-nobody": ["s-eskilstuna"]}),
         "u-nobody"),
        (lambda d: d["sites"][0].update(site_id="s-atlantis"), "site 's-atlantis' is not in"),
    ],
)  # fmt: skip
def test_a_broken_rollout_is_refused_by_every_command(
    tmp_path: Path, change: object, message: str
) -> None:
    """Missing or mistyped keys and sites or users the data does not hold: exit 3 with the
    file and key named, from report, map, fees and compare alike (no KeyError)."""
    d = tmp_path / "ro"
    d.mkdir()
    ro = d / "rollout.json"
    ro.write_bytes((GOLDEN / "rollout-2032.json").read_bytes())
    _edit(ro, change)
    for args in (
        ["report", "--lang", "en", str(ro), "--out", str(tmp_path / "r.html")],
        ["map", "--lang", "en", str(ro), "--out", str(tmp_path / "m.html")],
        ["fees", str(ro)],
        ["compare", str(ro), str(GOLDEN / "rollout-2032.json")],
    ):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 3, (args, res.output)
        assert message in res.output and "Traceback" not in res.output, args
    assert not (tmp_path / "r.html").exists() and not (d / "fees.json").exists()


# ---- bounds on work ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        (["p=1..10000000"], "'p=1..10000000': 10,000,000 values (a sweep has at most 10,000"),
        (["p=1..200", "separation_km=1..100"], "200 × 100 = 20,000 points: a sweep has at most"),
        (["a" + ".a" * 20 + "=1,2"], "a key of 21 parts (at most 8)"),
        (["x" * 300 + "=1"], "a key of 300 characters (at most 200)"),
        (["crisis..capacity=1"], "'crisis..capacity' has an empty part"),
    ],
)
def test_a_sweep_past_the_limits_is_refused_before_any_work(
    tmp_path: Path, vary: list[str], message: str
) -> None:
    args = ["sweep", "baseline", "--out", str(tmp_path / "s")]
    for v in vary:
        args += ["--vary", v]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 3, res.output
    assert message in res.output and not (tmp_path / "s").exists()
    with pytest.raises(InputError, match="at most"):
        nisd.count_points("baseline", {"p": range(1, 20_002)})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" + ".a" * 40_000 + " = 1\n", "has a key of 40,001 dotted parts (at most 32)"),
        ("[" + ".".join(["t"] * 40) + "]\n", "has a key of 40 dotted parts"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "nests tables or lists more than 16 deep"),
        ("crisis = " + "{a = " * 20 + "1" + "}" * 20 + "\n", "more than 16 deep"),
        ("# " + "x" * 1_100_000 + "\n", "bytes: a scenario file is at most 1,000,000"),
    ],
)
def test_a_scenario_file_past_the_limits_is_refused_quickly(
    tmp_path: Path, text: str, message: str
) -> None:
    """Each of these took minutes and gigabytes, or ended in RecursionError (exit 1)."""
    scen = tmp_path / "big.toml"
    scen.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(cli, ["plan", str(scen), "--out", str(tmp_path / "p")])
    assert res.exit_code == 3, res.output
    assert f"big.toml: {message}" in res.output or message in res.output
    assert "Traceback" not in res.output and not (tmp_path / "p").exists()


def test_a_chain_of_extends_is_bounded(tmp_path: Path) -> None:
    for i in range(40):
        (tmp_path / f"e{i}.toml").write_text(f'extends = "e{i + 1}.toml"\n', encoding="utf-8")
    (tmp_path / "e40.toml").write_text("p_min = 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="more than 16 files extending one another"):
        nisd.config(tmp_path / "e0.toml")
    (tmp_path / "e24.toml").write_text("p_min = 2\n", encoding="utf-8")
    assert nisd.config(tmp_path / "e10.toml").p_min == 2  # 14 links: within the bound


def test_the_time_limit_covers_deriving_the_problem(sweden: nisd.Dataset) -> None:
    """A time limit shorter than deriving the crisis scenarios stops there, saying so, with
    exit 5 (no plan, no proof), instead of solving on past it."""
    with pytest.raises(NoSolutionError, match=r"time limit 0.001 s reached while deriving"):
        nisd.plan(sweden, "baseline", solver={"time_limit": 0.001})
