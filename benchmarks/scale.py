"""How nisd's placement model grows with the size of the country.

Cases: the Swedish default (``sweden``: 70 candidates, 441 user points of 41
workloads and county boards) and its point form (``sweden-points``), the
municipality-resolution Swedish dataset (``municipalities``: every municipality a
candidate and a place where every agency's services are used, 5,821 user points)
and its point form (``municipality-points``: agencies at their head offices,
citizens one point per municipality), and synthetic countries
(:func:`nisd.io.synthetic.write_country`) of N candidates × N demand points. Each
is planned with ``scenarios/baseline.toml`` (k = 2, 200 km separation, separate
power zones) without crisis sets and with the baseline's capacity-true crisis
sets, by each ``--methods`` entry (``sites-first``: :mod:`nisd.optimise.decompose`,
what ``auto`` runs for the cost objective; ``full``: the one model of sites and
assignments, the peer). Every run is a fresh process, so its peak memory is its own.

Printed per run: candidates, demand points, variables, rows and nonzeros of the
model solved last (for sites first: the check of the best plan), the master's
rows and the number of master solves (sites first), build seconds (problem +
rows), solve seconds, wall seconds (min and median over ``--repeat``), status,
gap, cost and peak memory (MB). A full-model run estimated too large for the
machine (``--max-x``, assignment pairs) is skipped and says so; a run stopped at
the time limit prints its gap or that it has no plan.

Usage: ``python benchmarks/scale.py
[--cases sweden,municipalities,municipality-points,250,500,1000,2000]
[--methods sites-first,full] [--time-limit 120] [--crisis both|on|off] [--repeat 1]
[--json FILE]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
NO_CRISIS = {"crisis": {"sets": [], "tiers": []}}


def one(spec: dict[str, Any]) -> dict[str, Any]:
    """Plan one case in this process and return its figures."""
    from nisd.errors import NisdError
    from nisd.io import load_dataset
    from nisd.io.scenario import load_plan_config
    from nisd.optimise import from_dataset, optimise

    over: dict[str, Any] = {
        "solver": {"name": "highs", "time_limit": spec["time_limit"], "method": spec["method"]}
    }
    if not spec["crisis"]:
        over.update(NO_CRISIS)
    cfg = load_plan_config(BASELINE, over)
    ds = load_dataset(spec["data"])
    t = time.perf_counter()
    out: dict[str, Any] = {}
    try:
        t_problem = time.perf_counter()
        pp = from_dataset(ds, cfg)
        t_problem = time.perf_counter() - t_problem
        plan = optimise(ds, pp).to_json()
    except NisdError as exc:
        out = {"status": "no plan", "error": str(exc).splitlines()[0]}
    else:
        run = plan["run"]
        out = {
            "status": plan["status"],
            "gap": plan["gap"],
            "cost": plan["kpis"]["cost_msek"],
            "variables": run["model"]["variables"],
            "rows": run["model"]["constraints"],
            "nonzeros": run["model"].get("nonzeros"),
            "build_s": round(t_problem + run["build_seconds"], 2),
            "solve_s": run["solve_seconds"],
            "rounds": len(run["rounds"]),
        }
        dec = run.get("decomposition")
        if dec:
            out["master_rows"] = dec["master"]["constraints"]
            out["iterations"] = len(dec["iterations"])
            out["cuts"] = dec["cuts"]
    out["wall_s"] = round(time.perf_counter() - t, 2)
    out["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


NAMED = {
    "sweden": ROOT / "data" / "sites",
    "sweden-points": ROOT / "data" / "points",
    "municipalities": ROOT / "data" / "municipalities",
    "municipality-points": ROOT / "data" / "municipalities-points",
}


def _data(case: str, tmp: Path) -> tuple[Path, int, int, int]:
    """Data directory, candidates, demand points and assignment leads (a workload's
    users share one set of assignment variables) of a case."""
    if case in NAMED:
        path = NAMED[case]
    else:
        from nisd.io.synthetic import write_country

        n = int(case)
        path = write_country(tmp / f"synthetic-{n}", n, n, seed=0)
    from nisd.io import load_dataset

    ds = load_dataset(path)
    leads = len({d.workload or d.demand_id for d in ds.demand})
    return path, len(ds.sites), len(ds.demand), leads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--cases", default="sweden,municipalities,municipality-points,250,500,1000,2000"
    )
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--crisis", choices=("both", "on", "off"), default="both")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument(
        "--methods",
        default="sites-first,full",
        help="comma-separated [solver] methods, each run on every case (the peer in the same run)",
    )
    ap.add_argument(
        "--max-x",
        type=int,
        default=400_000,
        help="skip a full-model run with more candidate × demand × k assignment pairs than "
        "this (PuLP's build would not fit in memory or time)",
    )
    ap.add_argument("--json", type=Path)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one))))
        return
    crisis = {"both": [False, True], "on": [True], "off": [False]}[args.crisis]
    head = (
        f"{'case':<20}{'method':>12}{'crisis':>7}{'sites':>6}{'users':>6}{'vars':>9}{'rows':>9}"
        f"{'nnz':>10}{'master':>8}{'iters':>6}{'build s':>8}{'solve s':>8}{'min s':>8}"
        f"{'med s':>8}{'status':>10}{'gap':>9}{'cost':>9}{'MB':>7}"
    )
    print(head)
    results = []
    with tempfile.TemporaryDirectory(prefix="nisd-scale-") as tmp:
        for case in args.cases.split(","):
            data, n_s, n_d, n_lead = _data(case, Path(tmp))
            for on, method in itertools.product(crisis, args.methods.split(",")):
                row: dict[str, Any] = {
                    "case": case,
                    "method": method,
                    "crisis": on,
                    "sites": n_s,
                    "users": n_d,
                }
                label = f"{case:<20}{method:>12}{'on' if on else 'off':>7}{n_s:>6}{n_d:>6}"
                if method == "full" and n_s * n_lead * 2 > args.max_x:
                    row["status"] = f"skipped: {n_s * n_lead * 2:,} assignment pairs > --max-x"
                    print(f"{label}  {row['status']}")
                    results.append(row)
                    continue
                spec = {
                    "data": str(data),
                    "crisis": on,
                    "time_limit": args.time_limit,
                    "method": method,
                }
                runs = []
                for _ in range(args.repeat):
                    p = subprocess.run(
                        [sys.executable, __file__, "--one", json.dumps(spec)],
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    if p.returncode != 0:
                        runs.append({"status": "failed", "error": p.stderr.strip()[-300:]})
                        break
                    runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
                last = runs[-1]
                walls = [r["wall_s"] for r in runs if "wall_s" in r]
                row.update(last)
                row["wall_min_s"] = min(walls) if walls else None
                row["wall_median_s"] = statistics.median(walls) if walls else None
                results.append(row)

                def f(key: str, fmt: str, width: int, r: dict[str, Any] = row) -> str:
                    v = r.get(key)
                    return f"{'' if v is None else format(v, fmt):>{width}}"

                print(
                    label
                    + f("variables", ",", 9)
                    + f("rows", ",", 9)
                    + f("nonzeros", ",", 10)
                    + f("master_rows", ",", 8)
                    + f("iterations", "d", 6)
                    + f("build_s", ".1f", 8)
                    + f("solve_s", ".1f", 8)
                    + f("wall_min_s", ".1f", 8)
                    + f("wall_median_s", ".1f", 8)
                    + f"{row['status']:>10}"
                    + f"{'' if row.get('gap') is None else format(row['gap'], '.2%'):>9}"
                    + f("cost", ".2f", 9)
                    + f("peak_mb", ".0f", 7),
                    flush=True,
                )
                if row.get("error"):
                    print(f"{'':<15}{row['error']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
