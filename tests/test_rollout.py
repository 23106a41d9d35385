"""The roll-out: one year is the static plan, brute force on tiny roll-outs, readiness and
budgets each year by the independent checkers, clear errors and exit codes."""

from __future__ import annotations

import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import nisd
from nisd.cli import cli
from nisd.config import PlanConfig, RolloutConfig
from nisd.errors import ConfigError, InfeasibleError
from nisd.io import load_dataset
from nisd.io.scenario import load_plan_config
from nisd.io.synthetic import write_country
from nisd.optimise.check import check_plan
from nisd.optimise.rollout import rollout
from nisd.optimise.rollout.check import check_rollout
from nisd.optimise.rollout.years import Year, years_of
from tests.helpers import assignable, tiny_rollout_config

# ---- tiny roll-outs against brute force -------------------------------------------------


def _tiny_cfg(**ro: Any) -> PlanConfig:
    return tiny_rollout_config(**ro)


def _brute(years: list[Year], ro: RolloutConfig) -> float | None:
    """The cheapest discounted roll-out by enumerating every site's type and first year."""
    pp = years[0].pp
    first = ro.first_year
    span = [y.year for y in years]
    per_site: list[list[tuple[int, int] | None]] = []
    for j in range(pp.n_sites):
        opts: list[tuple[int, int] | None] = [None]
        for t, tid in enumerate(pp.type_ids):
            if pp.allowed[j] and np.isfinite(pp.cost[j, t]):
                lead = ro.lead_time_years.get(tid, 0)
                opts += [(t, v) for v in span if v >= first + lead]
        per_site.append(opts)
    budget = ro.per_year("capital_budget_msek")

    @cache
    def ok(year_index: int, opened: frozenset[tuple[int, int]]) -> bool:
        return assignable(years[year_index].pp, dict(opened))

    best: float | None = None
    for combo in itertools.product(*per_site):
        spend = dict.fromkeys(span, 0.0)
        for choice in combo:
            if choice is None:
                continue
            t, v = choice
            tid = pp.type_ids[t]
            k, lead = ro.capital_cost_msek.get(tid, 0.0), ro.lead_time_years.get(tid, 0)
            for u in [v] if lead == 0 else range(v - lead, v):
                spend[u] += k / max(lead, 1)
        if budget is not None and any(spend[u] > budget[u] + 1e-9 for u in span):
            continue
        total = 0.0
        for u in span:
            run = sum(
                pp.cost[j, c[0]] - ro.annuity(pp.type_ids[c[0]])
                for j, c in enumerate(combo)
                if c is not None and c[1] <= u
            )
            total += (run + spend[u]) / (1 + ro.discount_rate) ** (u - first)
        if best is not None and total >= best - 1e-9:
            continue
        feasible = True
        for n, u in enumerate(span):
            opened = frozenset(
                (j, c[0]) for j, c in enumerate(combo) if c is not None and c[1] <= u
            )
            if years[n].pp.n_demand and not ok(n, opened):
                feasible = False
                break
        if feasible:
            best = total
    return best


@pytest.mark.parametrize(
    ("seed", "extra"),
    [
        (1, {}),
        (2, {"capital_budget_msek": 200.0}),
        (3, {"onboarding_default": 2031, "asset_life_years": {"core": 20}}),
        (4, {"capital_budget_msek": {"2030": 300.0, "2031": 50.0, "2032": 300.0}}),
    ],
)
def test_tiny_rollouts_match_brute_force(tmp_path: Path, seed: int, extra: dict[str, Any]) -> None:
    ds = load_dataset(write_country(tmp_path, 5, 3, seed=seed))
    cfg = _tiny_cfg(**extra)
    assert cfg.rollout is not None
    years = years_of(ds, cfg)
    expected = _brute(years, cfg.rollout)
    if expected is None:
        with pytest.raises(InfeasibleError):
            rollout(ds, cfg).to_json()
        return
    doc = rollout(ds, cfg).to_json()
    assert doc["status"] == "optimal"
    assert doc["objective"]["value"] == pytest.approx(expected, abs=1e-4)
    assert doc["totals"]["discounted_cost_msek"] == pytest.approx(expected, abs=1e-4)


# ---- one year is the static plan ---------------------------------------------------------


@pytest.mark.slow
def test_one_year_rollout_is_the_static_plan(sweden: nisd.Dataset) -> None:
    over = {"crisis": {"sets": ["single-site"], "tiers": []}}
    static = nisd.plan(sweden, "baseline", **over)
    doc = rollout(
        sweden,
        load_plan_config(
            Path("baseline"),
            {**over, "rollout": {"first_year": 2032, "last_year": 2032}},
        ),
    ).to_json()
    assert static.status.value == doc["status"] == "optimal"
    assert doc["objective"]["value"] == pytest.approx(static.value, abs=1e-6)
    (year,) = doc["years"]
    assert year["cost_msek"]["running"] == pytest.approx(static.kpis.cost_msek, abs=1e-6)
    assert len(year["assignments"]) == len(sweden.demand)


# ---- the default roll-out ----------------------------------------------------------------


@pytest.fixture(scope="module")
def default_rollout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("rollout") / "r"
    res = CliRunner().invoke(cli, ["rollout", "rollout-2032", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, json.loads((out / "rollout.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_default_rollout_holds_its_readiness_every_year(
    sweden: nisd.Dataset, default_rollout: tuple[Path, dict[str, Any]]
) -> None:
    out, doc = default_rollout
    assert doc["status"] == "optimal"
    cfg = load_plan_config(Path("rollout-2032"))
    assert cfg.rollout is not None
    years = years_of(sweden, cfg)
    from nisd.optimise.rollout.years import YearPlan

    plans = [
        YearPlan(y["year"], dict(y["sites"]), {d: list(v) for d, v in y["assignments"].items()})
        for y in doc["years"]
    ]
    assert check_rollout(years, cfg.rollout, plans) == []
    for yr, yp, rec in zip(years, plans, doc["years"], strict=True):
        assert check_plan(yr.pp, yp.sites, yp.assign) == []
        for s in rec["readiness"]["required"]:
            assert rec["readiness"]["holds"][s], (yr.year, s)
        budget = rec["budget_msek"]["capital"]
        assert rec["cost_msek"]["capital"] <= budget + 1e-6
    # 2032 must hold the baseline's sets; everyone is on board
    last = doc["years"][-1]
    assert set(last["readiness"]["required"]) == {"single-site", "srlg", "county", "power-zone"}
    assert len(last["assignments"]) == len(sweden.demand)
    # the tables agree with the document
    lines = (out / "years.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + len(doc["years"])
    assert (out / "schedule.csv").is_file() and (out / "assignments.csv").is_file()
    # the typed door reads it back
    ro = nisd.read_rollout(out, sweden)
    assert ro.year_numbers == tuple(range(2026, 2033))
    assert ro.plan_of(2032).sites == last["sites"]
    assert list(ro.years_frame()["year"]) == list(ro.year_numbers)


@pytest.mark.slow
def test_capital_is_spent_over_the_lead_time(default_rollout: tuple[Path, dict[str, Any]]) -> None:
    _out, doc = default_rollout
    cfg = load_plan_config(Path("rollout-2032"))
    assert cfg.rollout is not None
    spend = dict.fromkeys(cfg.rollout.years, 0.0)
    for s in doc["sites"]:
        if s["existing"]:
            continue  # the estate today: no capital
        lead = cfg.rollout.lead_time_years[s["type"]]
        for y in range(s["in_service_from"] - lead, s["in_service_from"]):
            spend[y] += cfg.rollout.capital_cost_msek[s["type"]] / lead
    for rec in doc["years"]:
        assert rec["cost_msek"]["capital"] == pytest.approx(spend[rec["year"]])


# ---- errors ------------------------------------------------------------------------------


HEAD = "[rollout]\nfirst_year = 2026\nlast_year = 2028\n"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "ro.toml"
    p.write_text(f'extends = "{Path("scenarios/baseline.toml").resolve()}"\n' + text, "utf-8")
    return p


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HEAD + 'readiness = { "2027" = ["gotland"] }\n',
            "'gotland' is not one of the crisis sets",
        ),
        (
            "[rollout]\nfirst_year = 2026\nlast_year = 2028\nonboarding = { nobody = 2027 }\n",
            "'nobody' is neither a demand id nor a demand kind",
        ),
        (
            HEAD + 'capital_budget_msek = { "2026" = 5 }\n',
            "must give every year 2026–2028; missing 2027, 2028",
        ),
        (
            "[rollout]\nfirst_year = 2026\nlast_year = 2025\n",
            "last_year 2025 is before first_year 2026",
        ),
        (
            "[rollout]\nfirst_year = 2026\nlast_year = 2028\nlead_time_years = { bunker = 2 }\n",
            "'bunker' is not a site type",
        ),
    ],
)
def test_bad_rollout_tables_are_refused(tmp_path: Path, text: str, message: str) -> None:
    res = CliRunner().invoke(
        cli, ["rollout", str(_write(tmp_path, text)), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 3, res.output
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_a_scenario_without_rollout_is_refused(sweden: nisd.Dataset) -> None:
    with pytest.raises(ConfigError, match=r"no \[rollout\] table"):
        rollout(sweden, load_plan_config(Path("baseline")))


def test_users_before_any_site_is_explained(tmp_path: Path) -> None:
    text = (
        "[rollout]\nfirst_year = 2026\nlast_year = 2029\nlead_time_years = { core = 3, "
        "regional = 2 }\nonboarding = { agency = 2027 }\n"
    )
    res = CliRunner().invoke(
        cli, ["rollout", str(_write(tmp_path, text)), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 4, res.output
    assert "2027:" in res.output and "no site can be in service before 2028" in res.output


@pytest.mark.slow
def test_too_small_a_budget_names_the_year_and_the_shortfall(
    tmp_path: Path, sweden: nisd.Dataset
) -> None:
    cfg = load_plan_config(
        Path("baseline"),
        {
            "crisis": {"sets": ["single-site"], "tiers": []},
            "rollout": {
                "first_year": 2030,
                "last_year": 2031,
                "lead_time_years": {"core": 1, "regional": 1},
                "capital_cost_msek": {"core": 500, "regional": 100},
                "capital_budget_msek": {"2030": 150, "2031": 0},
            },
        },
    )
    with pytest.raises(InfeasibleError) as err:
        rollout(sweden, cfg)
    text = str(err.value)
    assert "2030: capital_budget: capital budget short by" in text


def test_a_failed_rollout_leaves_an_existing_result(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "rollout.json").write_text("{}", "utf-8")
    text = (
        "[rollout]\nfirst_year = 2026\nlast_year = 2027\nonboarding = { agency = 2026 }\n"
        "lead_time_years = { core = 3, regional = 3 }\n"
    )
    res = CliRunner().invoke(cli, ["rollout", str(_write(tmp_path, text)), "--out", str(out)])
    assert res.exit_code == 4
    assert (out / "rollout.json").read_text("utf-8") == "{}"


@pytest.mark.slow
def test_existing_site_closes_when_planned(sweden: nisd.Dataset) -> None:
    cfg = load_plan_config(
        Path("baseline"),
        {
            "crisis": {"sets": [], "tiers": []},
            "protection": False,
            "rollout": {
                "first_year": 2030,
                "last_year": 2032,
                "lead_time_years": {"core": 1, "regional": 1},
                "existing": {"s-stockholm": {"type": "regional", "close": 2032}},
                "onboarding": {"agency": 2031},
                "onboarding_default": 2032,
            },
        },
    )
    doc = rollout(sweden, cfg).to_json()
    by_year = {y["year"]: y for y in doc["years"]}
    assert by_year[2030]["sites"] == {"s-stockholm": "regional"}  # nothing else is built yet
    assert "s-stockholm" in by_year[2031]["sites"]
    assert "s-stockholm" not in by_year[2032]["sites"]
    sched = {s["site_id"]: s for s in doc["sites"]}
    assert sched["s-stockholm"]["existing"] and sched["s-stockholm"]["closes"] == 2032
    assert sched["s-stockholm"]["capital_msek"] == 0.0


@pytest.mark.slow
def test_rollout_fees_recover_every_year(default_rollout: tuple[Path, dict[str, Any]]) -> None:
    out, doc = default_rollout
    res = CliRunner().invoke(cli, ["fees", str(out), "--method", "reserved", "--json"])
    assert res.exit_code == 0, res.output
    fees = json.loads(res.output)
    assert fees["financing"] == "loan"
    cfg = load_plan_config(Path("rollout-2032"))
    assert cfg.rollout is not None
    balance = cfg.rollout.opening_balance_msek
    for y, rec in zip(fees["years"], doc["years"], strict=True):
        assert y["capital_msek"] == pytest.approx(rec["cost_msek"]["capital"])
        assert y["running_msek"] == pytest.approx(rec["cost_msek"]["running"])
        on_board = {r["payer"] for r in y["rows"]}
        if not rec["onboarded"] and not rec["assignments"]:
            assert y["fee_income_msek"] == 0.0 and not on_board  # nobody to charge
        if y["rows"]:
            assert sum(r["fee_msek"] for r in y["rows"]) == pytest.approx(y["fee_income_msek"])
        # capital is the loan's: the year spends depreciation, interest and running cost
        spent = (
            y["depreciation_msek"] + y["interest_msek"] + y["running_msek"] + y["migration_msek"]
        )
        balance += y["fee_income_msek"] - spent
        assert y["balance_msek"] == pytest.approx(balance, abs=1e-5)
    assert (out / "fees.json").is_file()


@pytest.mark.parametrize(("tolerance", "earliest"), [(0.0, 2032), (0.5, 2031)])
def test_readiness_goal_is_the_earliest_within_the_cost(
    tmp_path: Path, tolerance: float, earliest: int
) -> None:
    # two users join in 2031 and need a third site to ride out a site's loss; the others
    # join in 2032, when that site is needed anyway: holding the set from 2031 costs a year
    ds = nisd.scale_demand(load_dataset(write_country(tmp_path, 7, 4, seed=22)), 100)
    first_two = {d.demand_id: 2031 for d in ds.demand[:2]}
    extra = {
        "onboarding": first_two,
        "onboarding_default": 2032,
        "readiness": {"2032": ["single-site"]},
        "tolerance": tolerance,
    }
    every = {"sets": ["single-site"], "serve": {"critical": 1.0, "high": 1.0, "normal": 1.0}}
    base = _tiny_cfg(**extra).model_copy(
        update={"crisis": load_plan_config(None, {"crisis": every}).crisis}
    )
    assert base.rollout is not None
    cheapest = rollout(ds, base).value
    ro = base.rollout.model_copy(update={"objective": ["cost", "readiness", "moves"]})
    doc = rollout(ds, base.model_copy(update={"rollout": ro})).to_json()
    (step,) = doc["readiness_advanced"]
    assert step == {
        "set": "single-site",
        "asked_from": 2032,
        "holds_from": earliest,
        "proved": True,
    }
    cap = cheapest * (1 + tolerance) + 1e-6
    assert doc["objective"]["value"] <= cap
    by_year = {y["year"]: y for y in doc["years"]}
    for year in range(earliest, 2033):
        assert by_year[year]["readiness"]["holds"]["single-site"], year
    if earliest > 2031:  # one year earlier is possible, but not within the cost
        early = ro.model_copy(
            update={"readiness": {"2031": ["single-site"]}, "objective": ["cost"]}
        )
        value = rollout(ds, base.model_copy(update={"rollout": early})).value
        assert value > cap


def test_cbc_proves_the_same_tiny_rollout(tmp_path: Path) -> None:
    ds = load_dataset(write_country(tmp_path, 5, 3, seed=2))
    cfg = _tiny_cfg(capital_budget_msek=200.0)
    highs = rollout(ds, cfg).to_json()
    cbc = rollout(
        ds, cfg.model_copy(update={"solver": cfg.solver.model_copy(update={"name": "cbc"})})
    ).to_json()
    assert cbc["status"] == "optimal" and cbc["run"]["solver"] == "cbc"
    assert cbc["objective"]["value"] == pytest.approx(highs["objective"]["value"], abs=1e-4)


@pytest.mark.slow
def test_an_existing_site_that_may_close_closes_when_it_is_not_needed(
    sweden: nisd.Dataset,
) -> None:
    cfg = load_plan_config(
        Path("baseline"),
        {
            "crisis": {"sets": [], "tiers": []},
            "protection": False,
            "hazards": "off",
            "rollout": {
                "first_year": 2030,
                "last_year": 2031,
                "existing": {"s-visby": {"type": "regional", "may_close": True}},
                "onboarding_default": 2030,
            },
        },
    )
    doc = rollout(sweden, cfg).to_json()
    # Gotland's site costs money and serves nobody the mainland sites cannot: it closes
    assert all("s-visby" not in y["sites"] for y in doc["years"])


def test_shapley_fees_of_a_tiny_rollout_sum_to_each_years_income(tmp_path: Path) -> None:
    from nisd.study.fees import rollout_fees

    ds = load_dataset(write_country(tmp_path, 6, 4, seed=5))
    cfg = _tiny_cfg(onboarding_default=2031)
    ro = rollout(ds, cfg)
    out = rollout_fees(ds, cfg, ro, "shapley")
    assert out.how.shapley == "exact"
    assert any(y.rows for y in out.years)
    for y in out.years:
        if y.rows:
            assert sum(r.fee_msek for r in y.rows) == pytest.approx(y.fee_income_msek)


def test_an_existing_site_the_rules_forbid_is_refused(tmp_path: Path) -> None:
    text = HEAD + '[rollout.existing.s-visby]\ntype = "regional"\n'
    res = CliRunner().invoke(
        cli, ["rollout", str(_write(tmp_path, text)), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 3, res.output
    assert "existing site s-visby cannot be kept as regional" in res.output
