"""Fees: every allocation sums to the cost; Shapley values satisfy their axioms on small
games checked by enumeration; cost recovery carries the balance year to year."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import nisd
from nisd.cli import cli
from nisd.config import PlanConfig
from nisd.io import load_dataset
from nisd.io.synthetic import write_country
from nisd.study.fees import (
    COUNTY_BOARDS,
    fee_table,
    payers,
    recovery,
    shapley_exact,
    shapley_sampled,
)

PLAYERS = ["a", "b", "c", "d"]


def _game(values: list[float]) -> dict[frozenset[str], float]:
    """A cost game over PLAYERS from 15 numbers (one per non-empty coalition)."""
    coalitions = [frozenset(c) for n in range(1, 5) for c in itertools.combinations(PLAYERS, n)]
    out = {frozenset(): 0.0}
    out.update(zip(coalitions, values, strict=True))
    return out


def _by_definition(game: dict[frozenset[str], float]) -> dict[str, float]:
    """The Shapley value as the mean marginal cost over all 4! orders."""
    out = dict.fromkeys(PLAYERS, 0.0)
    orders = list(itertools.permutations(PLAYERS))
    for order in orders:
        s: frozenset[str] = frozenset()
        for p in order:
            out[p] += (game[s | {p}] - game[s]) / len(orders)
            s = s | {p}
    return out


values = st.lists(st.floats(0, 100, allow_nan=False), min_size=15, max_size=15)


@settings(max_examples=40, deadline=None)
@given(values, values)
def test_shapley_axioms(v: list[float], w: list[float]) -> None:
    g, h = _game(v), _game(w)
    phi = shapley_exact(PLAYERS, g.__getitem__)
    # the orders' definition (an independent computation)
    assert phi == pytest.approx(_by_definition(g), abs=1e-9)
    # efficiency
    assert sum(phi.values()) == pytest.approx(g[frozenset(PLAYERS)], abs=1e-9)
    # additivity
    both = {s: g[s] + h[s] for s in g}
    psi = shapley_exact(PLAYERS, h.__getitem__)
    sum_phi = shapley_exact(PLAYERS, both.__getitem__)
    for p in PLAYERS:
        assert sum_phi[p] == pytest.approx(phi[p] + psi[p], abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(values)
def test_shapley_symmetry_and_null_player(v: list[float]) -> None:
    g = _game(v)
    # make "d" a null player and "a", "b" symmetric
    for s in list(g):
        base = s - {"d"}
        g[s] = g[base]
    for s in list(g):
        if "a" in s and "b" not in s:
            g[s] = g[(s - {"a"}) | {"b"}]
    phi = shapley_exact(PLAYERS, g.__getitem__)
    assert phi["d"] == pytest.approx(0.0, abs=1e-9)
    assert phi["a"] == pytest.approx(phi["b"], abs=1e-9)


def test_sampled_shapley_is_efficient_and_near_the_exact_value() -> None:
    g = _game([float((7 * n) % 13 + n) for n in range(15)])
    exact = shapley_exact(PLAYERS, g.__getitem__)
    est, err = shapley_sampled(PLAYERS, g.__getitem__, samples=400, seed=3)
    assert sum(est.values()) == pytest.approx(g[frozenset(PLAYERS)], abs=1e-9)
    for p in PLAYERS:
        assert abs(est[p] - exact[p]) <= 4 * err[p] + 1e-9


def test_recovery_carries_the_balance_and_recovers_capital() -> None:
    years = list(range(2026, 2032))
    running = dict.fromkeys(years, 10.0)
    capital = {y: (90.0 if y == 2026 else 0.0) for y in years}
    rec = recovery(years, running, capital, recover_years=3, opening_balance=-15.0)
    # income recovers 30 of capital and 5 of the opening deficit a year for three years
    assert [r.fee_income_msek for r in rec[:4]] == pytest.approx([45, 45, 45, 10])
    assert [r.balance_msek for r in rec] == pytest.approx([-70, -35, 0, 0, 0, 0])
    # income less cost over the years is what the balance moved by
    moved = sum(r.fee_income_msek - r.cost_msek for r in rec)
    assert moved == pytest.approx(rec[-1].balance_msek - (-15.0))


def test_county_boards_pay_together(sweden: nisd.Dataset) -> None:
    groups = payers(sweden)
    assert len(groups[COUNTY_BOARDS]) == 21
    assert sum(len(v) for v in groups.values()) == len(sweden.demand)


@pytest.mark.parametrize("method", ["load", "reserved", "shapley"])
def test_fees_sum_to_the_cost(tmp_path: Path, method: str) -> None:
    ds = load_dataset(write_country(tmp_path, 6, 4, seed=5))
    cfg = PlanConfig.model_validate(
        {"k": 2, "separation_km": 100.0, "hazards": "off", "crisis": {"sets": ["single-site"]}}
    )
    plan = nisd.plan(ds, cfg)
    cost = float(plan.kpis.cost_msek or 0.0)
    rows, how = fee_table(ds, cfg, sorted(plan.sites), sorted(plan.assignments), cost, method)  # type: ignore[arg-type]
    assert sum(r.fee_msek for r in rows) == pytest.approx(cost)
    assert sum(r.share for r in rows) == pytest.approx(1.0)
    if method == "shapley":
        assert how.shapley == "exact"  # 4 payers: every coalition
        # v(N) on the plan's own sites is the plan's cost when the plan is optimal
        assert how.v_all_msek == pytest.approx(cost)


def test_fees_command_on_a_plan(tmp_path: Path) -> None:
    out = tmp_path / "p"
    r = CliRunner().invoke(cli, ["plan", "baseline", "--out", str(out)])
    assert r.exit_code == 0, r.output
    for method in ("load", "reserved"):
        r = CliRunner().invoke(cli, ["fees", str(out / "plan.json"), "--method", method, "--json"])
        assert r.exit_code == 0, r.output
        doc = json.loads(r.output)
        cost = json.loads((out / "plan.json").read_text("utf-8"))["kpis"]["cost_msek"]
        assert sum(x["fee_msek"] for x in doc["rows"]) == pytest.approx(cost)
    assert (out / "fees.json").is_file()
    r = CliRunner().invoke(cli, ["fees", str(out / "plan.json"), "--method", "vote"])
    assert r.exit_code == 2 and "'vote' is not one of" in r.output
    r = CliRunner().invoke(cli, ["fees", str(tmp_path / "missing.json")])
    assert r.exit_code == 3 and "not found" in r.output


def test_shapley_values_are_scaled_to_the_cost_when_an_end_state_policy_binds(
    tmp_path: Path,
) -> None:
    """What docs/model.md says: v(N) equals the plan's cost when no end-state policy
    binds, and is below it when one does (p_min here); the fees then rise by one share."""
    ds = load_dataset(write_country(tmp_path, 6, 4, seed=5))
    base = {"k": 2, "separation_km": 100.0, "hazards": "off", "crisis": {"sets": ["single-site"]}}
    free = nisd.plan(ds, PlanConfig.model_validate(base))
    bound = nisd.plan(ds, PlanConfig.model_validate({**base, "p_min": len(free.sites) + 2}))
    for plan, binds in ((free, False), (bound, True)):
        cfg = plan.run.config()
        cost = float(plan.kpis.cost_msek or 0.0)
        rows, how = fee_table(
            ds, cfg, sorted(plan.sites), sorted(plan.assignments), cost, "shapley"
        )
        assert how.v_all_msek is not None
        assert (how.v_all_msek < cost - 1e-6) is binds
        assert sum(r.fee_msek for r in rows) == pytest.approx(cost)
        # every fee is the Shapley value times the same factor, cost / v(N)
        raw, _ = fee_table(
            ds, cfg, sorted(plan.sites), sorted(plan.assignments), how.v_all_msek, "shapley"
        )
        factor = cost / how.v_all_msek
        by_payer = sorted(raw, key=lambda r: r.payer)
        for a, b in zip(sorted(rows, key=lambda r: r.payer), by_payer, strict=True):
            assert a.fee_msek == pytest.approx(b.fee_msek * factor)
