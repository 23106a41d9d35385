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
agencies joining from 2029 declining in turn, loads growing 0–15 % a year, equally likely),
each ``--method`` (``decomposition``, ``extensive``; both by default, interleaved;
``--cost-only`` without the fewest moves, which stall the extensive form) on
``--workers N`` processes or ``--dask local``, and prints per run the largest model, the
branch solves, first stages evaluated and rounds of no-good rows, wall seconds, status,
gap, the expected cost, VSS and EVPI; then min and median wall seconds per method.

Usage: ``python benchmarks/rollout.py [--repeat 2] [--budget MSEK] [--uncertain
[--branches N] [--method decomposition,extensive] [--workers N | --dask local]]
[--json FILE]``
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
    ap.add_argument(
        "--method",
        default="decomposition,extensive",
        help="how the tree is solved, comma-separated (each run beside the others)",
    )
    ap.add_argument("--workers", type=int, help="processes for the branch solves")
    ap.add_argument(
        "--cost-only", action="store_true", help="the tree's cost alone (no fewest moves)"
    )
    ap.add_argument("--dask", help='"local" or a scheduler address')
    args = ap.parse_args()
    ds = nisd.load()
    if args.uncertain:
        uncertain(
            ds,
            args.repeat,
            args.branches,
            args.json,
            args.method.split(","),
            args.workers,
            args.dask,
            args.cost_only,
        )
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
    2029 (none for k = 0) and grows loads by 15 % × k / (N − 1) a year; solved within 1 %."""
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
    # the target for the synthetic tree is within 1 %: every solve stops there
    return {
        "solver": {"gap": 0.01},
        "rollout": {"uncertainty": {"decision_year": 2029, "branches": branches}},
    }


def uncertain(
    ds: nisd.Dataset,
    repeat: int,
    branches: int | None,
    out: Path | None,
    methods: list[str],
    workers: int | None,
    dask: str | None,
    cost_only: bool = False,
) -> None:
    over = synthetic_tree(ds, branches) if branches else {}
    if cost_only:
        over.setdefault("rollout", {})["objective"] = ["cost"]
    base = load_plan_config(ROOT / "scenarios" / "rollout-uncertain.toml", over)
    assert base.rollout is not None and base.rollout.uncertainty is not None
    n = len(base.rollout.uncertainty.branches)
    runs: list[dict[str, Any]] = []
    print(
        f"{'method':<15}{'branches':>9}{'vars':>9}{'rows':>9}{'solves':>7}{'cands':>6}"
        f"{'rounds':>7}{'wall s':>8}  {'status':<9}{'gap':>7}{'expected':>10}{'VSS':>7}{'EVPI':>7}"
    )
    for _ in range(repeat):
        for method in methods:  # interleaved: each method's peer runs beside it
            u = base.rollout.uncertainty.model_copy(update={"method": method})
            cfg = base.model_copy(
                update={"rollout": base.rollout.model_copy(update={"uncertainty": u})}
            )
            t = time.perf_counter()
            try:
                ro = nisd.rollout(ds, cfg, workers=workers, dask=dask)
            except NisdError as exc:
                took = time.perf_counter() - t
                print(f"{method}: {type(exc).__name__} after {took:.1f} s: {exc}")
                continue
            wall = time.perf_counter() - t
            h = ro.hedge
            assert h is not None and ro.run.model is not None
            rec = {
                "method": h.method,
                "branches": n,
                "workers": workers,
                "dask": dask,
                "variables": ro.run.model.variables,
                "rows": ro.run.model.constraints,
                "branch_solves": h.branch_solves,
                "candidates": h.candidates,
                "rounds": h.rounds,
                "wall_seconds": round(wall, 1),
                "parts": h.seconds,
                "status": ro.status.value,
                "gap": ro.gap,
                "expected_msek": h.expected_cost_msek,
                "vss_msek": h.vss_msek,
                "evpi_msek": h.evpi_msek,
            }
            runs.append(rec)
            gap = "n/a" if ro.gap is None else f"{100 * ro.gap:.2f}%"
            print(
                f"{h.method:<15}{n:>9}{rec['variables']:>9,}{rec['rows']:>9,}"
                f"{h.branch_solves or 0:>7}{h.candidates or 0:>6}{h.rounds or 0:>7}{wall:>8.1f}"
                f"  {ro.status.value:<9}{gap:>7}{h.expected_cost_msek:>10.1f}"
                f"{h.vss_msek if h.vss_msek is not None else float('nan'):>7.1f}"
                f"{h.evpi_msek if h.evpi_msek is not None else float('nan'):>7.1f}",
                flush=True,
            )
    print(f"{'method':<15}{'min s':>8}{'median s':>10}")
    for method in sorted({r["method"] for r in runs}):
        walls = [float(r["wall_seconds"]) for r in runs if r["method"] == method]
        print(f"{method:<15}{min(walls):>8.1f}{statistics.median(walls):>10.1f}")
    if out:
        out.write_text(json.dumps({"runs": runs}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
