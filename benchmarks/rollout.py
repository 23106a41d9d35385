"""The 7-year Swedish roll-out (``scenarios/rollout-2032.toml``), capacity-true, with HiGHS.

Target (the roll-out issue): proved optimal, or within 1 % with the gap printed, in
under 5 minutes on 2 cores. Runs the roll-out ``--repeat`` times interleaved with its
peer, the static baseline (``scenarios/baseline.toml``), and prints per run: model size,
rounds of scenarios, build / solve / wall seconds, status, gap, discounted cost; then
min and median wall seconds of each, and the roll-out's time as a multiple of the
static plan's. Optional variants: ``--budget 800`` (a tighter capital budget) and
``--growth 0.03``.

``--uncertain`` runs the roll-out over four futures instead
(``scenarios/rollout-uncertain.toml``; ``--branches N`` a synthetic tree of N futures:
agencies joining from 2029 declining in turn, loads growing 0–15 % a year, equally likely)
and prints, besides the sizes and times, the seconds of each part (each branch alone, the
two-stage model, the average future's plan), the expected cost, VSS and EVPI.

Usage: ``python benchmarks/rollout.py [--repeat 2] [--budget MSEK] [--uncertain
[--branches N]] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import nisd
from nisd.errors import NisdError
from nisd.io.scenario import load_plan_config
from nisd.optimise import from_dataset, optimise
from nisd.optimise.rollout import rollout

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--budget", type=float, help="capital budget per year (MSEK)")
    ap.add_argument("--growth", type=float, help="load growth per year")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--uncertain", action="store_true", help="the roll-out over futures")
    ap.add_argument("--branches", type=int, help="a synthetic tree of N futures")
    args = ap.parse_args()
    ds = nisd.load()
    if args.uncertain:
        uncertain(ds, args.repeat, args.branches, args.json)
        return
    over: dict[str, Any] = {}
    if args.budget is not None:
        over.setdefault("rollout", {})["capital_budget_msek"] = args.budget
    if args.growth is not None:
        over.setdefault("rollout", {})["growth_per_year"] = args.growth
    cfg = load_plan_config(ROOT / "scenarios" / "rollout-2032.toml", over)
    base = load_plan_config(ROOT / "scenarios" / "baseline.toml")
    runs: dict[str, list[dict[str, Any]]] = {"rollout": [], "static": []}
    print(
        f"{'case':<8}{'vars':>8}{'rows':>8}{'rounds':>7}{'build s':>9}{'solve s':>9}"
        f"{'wall s':>8}  {'status':<9}{'gap':>7}{'cost':>10}"
    )
    for _ in range(args.repeat):
        t = time.perf_counter()
        try:
            doc = rollout(ds, cfg).to_json()
        except NisdError as exc:
            print(f"rollout: {type(exc).__name__} after {time.perf_counter() - t:.1f} s: {exc}")
            return
        wall = time.perf_counter() - t
        r = doc["run"]
        rec = {
            "variables": r["model"]["variables"],
            "rows": r["model"]["constraints"],
            "rounds": len(r["rounds"]),
            "build_seconds": r["build_seconds"],
            "solve_seconds": r["solve_seconds"],
            "wall_seconds": wall,
            "status": doc["status"],
            "gap": doc["gap"],
            "cost": doc["totals"]["discounted_cost_msek"],
        }
        runs["rollout"].append(rec)
        t = time.perf_counter()
        plan = optimise(ds, from_dataset(ds, base)).to_json()
        wall = time.perf_counter() - t
        runs["static"].append(
            {
                "variables": plan["run"]["model"]["variables"],
                "rows": plan["run"]["model"]["constraints"],
                "rounds": len(plan["run"]["rounds"]),
                "build_seconds": plan["run"]["build_seconds"],
                "solve_seconds": plan["run"]["solve_seconds"],
                "wall_seconds": wall,
                "status": plan["status"],
                "gap": plan["gap"],
                "cost": plan["objective"]["value"],
            }
        )
        for case in ("rollout", "static"):
            x = runs[case][-1]
            gap = "n/a" if x["gap"] is None else f"{100 * x['gap']:.2f}%"
            print(
                f"{case:<8}{x['variables']:>8,}{x['rows']:>8,}{x['rounds']:>7}"
                f"{x['build_seconds']:>9.1f}{x['solve_seconds']:>9.1f}{x['wall_seconds']:>8.1f}"
                f"  {x['status']:<9}{gap:>7}{x['cost']:>10.2f}"
            )
    summary = {
        case: {
            "min_wall_seconds": min(x["wall_seconds"] for x in xs),
            "median_wall_seconds": statistics.median(x["wall_seconds"] for x in xs),
        }
        for case, xs in runs.items()
    }
    ratio = summary["rollout"]["min_wall_seconds"] / summary["static"]["min_wall_seconds"]
    print(f"{'case':<8}{'min s':>8}{'median s':>10}")
    for case, s in summary.items():
        print(f"{case:<8}{s['min_wall_seconds']:>8.1f}{s['median_wall_seconds']:>10.1f}")
    print(f"the 7-year roll-out takes {ratio:.1f} x the static baseline (min over min)")
    if args.json:
        args.json.write_text(
            json.dumps({"runs": runs, "summary": summary, "ratio": ratio}, indent=2) + "\n",
            encoding="utf-8",
        )


def synthetic_tree(ds: nisd.Dataset, n: int) -> dict[str, Any]:
    """N equally likely futures: future k declines the k-th agency of those joining from
    2029 (none for k = 0) and grows loads by 15 % × k / (N − 1) a year."""
    cfg = load_plan_config(ROOT / "scenarios" / "rollout-uncertain.toml")
    assert cfg.rollout is not None and cfg.rollout.uncertainty is not None
    ro = cfg.rollout
    late = sorted(
        {
            d.workload_id
            for d in ds.demand
            if d.kind == "agency"
            and ro.onboarding.get(d.workload_id, ro.onboarding.get(d.kind, 9999)) >= 2029
            and not any(d.workload_id in x.depends_on for x in ds.demand)
        }
    )
    branches = []
    for k in range(n):
        b: dict[str, Any] = {"name": f"future {k + 1}", "probability": 1.0 / n}
        if k:
            b["decline"] = [late[(k - 1) % len(late)]]
        if n > 1:
            b["growth_per_year"] = round(0.15 * k / (n - 1), 4)
        branches.append(b)
    # the probabilities of N equal branches must sum to 1 exactly
    branches[-1]["probability"] = 1.0 - sum(b["probability"] for b in branches[:-1])
    return {"rollout": {"uncertainty": {"decision_year": 2029, "branches": branches}}}


def uncertain(ds: nisd.Dataset, repeat: int, branches: int | None, out: Path | None) -> None:
    over = synthetic_tree(ds, branches) if branches else {}
    cfg = load_plan_config(ROOT / "scenarios" / "rollout-uncertain.toml", over)
    assert cfg.rollout is not None and cfg.rollout.uncertainty is not None
    n = len(cfg.rollout.uncertainty.branches)
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        try:
            ro = rollout(ds, cfg)
        except NisdError as exc:
            print(f"tree: {type(exc).__name__} after {time.perf_counter() - t:.1f} s: {exc}")
            return
        wall = time.perf_counter() - t
        h = ro.hedge
        assert h is not None and ro.run.model is not None
        rec = {
            "branches": n,
            "variables": ro.run.model.variables,
            "rows": ro.run.model.constraints,
            "rounds": len(ro.run.rounds),
            "wall_seconds": round(wall, 1),
            "parts": h.seconds,
            "status": ro.status.value,
            "gap": ro.gap,
            "expected_msek": h.expected_cost_msek,
            "vss_msek": h.vss_msek,
            "evpi_msek": h.evpi_msek,
        }
        runs.append(rec)
        print(json.dumps(rec, ensure_ascii=False), flush=True)
    walls = [float(r["wall_seconds"]) for r in runs]  # type: ignore[arg-type]
    print(
        f"{n} branches: min {min(walls):.1f} s, median {statistics.median(walls):.1f} s "
        f"(parts of the last run: {runs[-1]['parts']})"
    )
    if out:
        out.write_text(json.dumps({"runs": runs}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
