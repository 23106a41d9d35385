"""Fees: what each agency pays for the baseline plan and the 2032 roll-out, and how long
cost causation (Shapley values) takes to reach a stated precision.

Part 1, the baseline plan (``scenarios/baseline.toml``): fees by load and by reserved
capacity with the protection premium apart, each timed ``--repeat`` times (min and
median); one agency declining (``--decline``, default Polismyndigheten), planned again.

Part 2, Shapley values over the plan's payers (about twenty agencies: sampled) for each
time budget in ``--budgets``: orders drawn, coalition plans solved and inferred, the
precision reached against the goal (1 % of the cost at 95 %), wall time. The peer in the
same run is the plain sampler's cost: one coalition plan per player per order (no memo,
no bounds, no bisection), i.e. ``orders × players`` solves for the same orders; and the
mean time of one coalition plan, measured.

Part 3, the roll-out (``scenarios/rollout-2032.toml``): fees by load, financed by a loan;
the first year with fees and what is left to recover.

Usage: ``python benchmarks/fees.py [--repeat 2] [--budgets 20,60] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import nisd
from nisd.study.fees import shapley_shares
from nisd.study.payers import payers


def _timed(repeat: int, fn: Any) -> tuple[Any, list[float]]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, times


def plan_part(args: argparse.Namespace, ds: nisd.Dataset, plan: nisd.Plan) -> dict[str, Any]:
    cost = float(plan.kpis.cost_msek or 0.0)
    print(f"baseline plan: {len(plan.sites)} sites, {cost:.2f} MSEK/year")
    out: dict[str, Any] = {"cost_msek": cost, "methods": {}}
    print(f"{'method':<10}{'payers':>8}{'min s':>8}{'median':>8}{'largest fee':>40}")
    for method in ("load", "reserved"):
        fees, times = _timed(args.repeat, lambda m=method: nisd.api.fees(ds, plan, m))
        top = fees.rows[0]
        print(
            f"{method:<10}{len(fees.rows):>8}{min(times):>8.2f}{statistics.median(times):>8.2f}"
            f"{top.payer[:26]:>30} {top.fee_msek:8.2f}"
        )
        out["methods"][method] = {
            "payers": len(fees.rows),
            "seconds": times,
            "premium_msek": fees.premium.premium_msek if fees.premium else None,
            "rows": [{"payer": r.payer, "fee_msek": r.fee_msek} for r in fees.rows],
        }
    fees, times = _timed(
        args.repeat, lambda: nisd.api.fees(ds, plan, "load", decline=[args.decline])
    )
    (c,) = fees.changes
    print(
        f"{args.decline} declines: cost {c.cost_before_msek:.2f} -> {c.cost_after_msek:.2f} "
        f"MSEK/year, planned again in {min(times):.1f} s (median {statistics.median(times):.1f})"
    )
    out["decline"] = {
        "agency": args.decline,
        "cost_before_msek": c.cost_before_msek,
        "cost_after_msek": c.cost_after_msek,
        "seconds": times,
    }
    return out


def shapley_part(
    args: argparse.Namespace, ds: nisd.Dataset, plan: nisd.Plan
) -> list[dict[str, Any]]:
    cfg = plan.run.config()
    groups = payers(ds, plan.assignments)
    n = len(groups)
    cost = float(plan.kpis.cost_msek or 0.0)
    print(f"\nShapley values over {n} payers (protection premium apart), goal ±1 % of the cost")
    print(
        f"{'budget s':>9}{'wall s':>8}{'orders':>8}{'solved':>8}{'inferred':>9}"
        f"{'plain solves':>13}{'reached ±':>10}{'goal ±':>8}{'stopped':>10}"
    )
    rows = []
    for budget in args.budgets:
        c = cfg.model_copy(update={"fees": cfg.fees.model_copy(update={"time_budget_s": budget})})
        t = time.perf_counter()
        _phi, half, how = shapley_shares(ds, c, sorted(plan.sites), groups, protection=False)
        wall = time.perf_counter() - t
        v_all = how.v_all_msek or 1.0
        worst = max(half.values()) * (cost / v_all) if half else 0.0
        plain = (how.samples or 0) * n
        print(
            f"{budget:>9.0f}{wall:>8.1f}{how.samples or 0:>8}{how.solved or 0:>8}"
            f"{how.inferred or 0:>9}{plain:>13}{worst:>10.2f}{0.01 * cost:>8.2f}"
            f"{how.stopped_by or '':>10}"
        )
        rows.append(
            {
                "budget_s": budget,
                "wall_s": wall,
                "orders": how.samples,
                "solved": how.solved,
                "inferred": how.inferred,
                "plain_solves": plain,
                "halfwidth_msek": worst,
                "goal_msek": 0.01 * cost,
                "stopped_by": how.stopped_by,
                "key_players": list(how.key_players),
                "seconds_per_solve": wall / max(1, how.solved or 0),
            }
        )
        print(f"  one coalition plan: {wall / max(1, how.solved or 0):.2f} s on average")
    return rows


def rollout_part(args: argparse.Namespace, ds: nisd.Dataset) -> dict[str, Any]:
    t = time.perf_counter()
    ro = nisd.rollout(ds, "rollout-2032")
    made = time.perf_counter() - t
    fees, times = _timed(args.repeat, lambda: nisd.api.fees(ds, ro, "load"))
    first = next((y.year for y in fees.years if y.fee_income_msek > 0), None)
    print(
        f"\nroll-out 2026-2032 (planned in {made:.1f} s): fees by load, {fees.financing}, "
        f"{min(times):.2f} s (median {statistics.median(times):.2f}); first fee {first}; "
        f"left to recover {fees.left_to_recover_msek or 0.0:.1f} MSEK"
    )
    for y in fees.years:
        print(
            f"  {y.year}: {y.payers:>2} payers, fees {y.fee_income_msek:7.1f}, "
            f"loan {y.loan_balance_msek:7.1f}, balance {y.balance_msek:+8.1f} MSEK"
        )
    return {
        "seconds": times,
        "first_fee_year": first,
        "left_to_recover_msek": fees.left_to_recover_msek,
        "years": [
            {"year": y.year, "payers": y.payers, "fee_income_msek": y.fee_income_msek,
             "balance_msek": y.balance_msek}
            for y in fees.years
        ],
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--budgets", default="20,60")
    ap.add_argument("--decline", default="Polismyndigheten")
    ap.add_argument("--skip-rollout", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    args.budgets = [float(b) for b in args.budgets.split(",") if b]
    ds = nisd.load()
    plan = nisd.plan(ds, "baseline")
    out: dict[str, Any] = {"plan": plan_part(args, ds, plan)}
    out["shapley"] = shapley_part(args, ds, plan)
    if not args.skip_rollout:
        out["rollout"] = rollout_part(args, ds)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
