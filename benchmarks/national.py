"""The Swedish default with crisis scenario sets of growing size.

For each case: number of scenarios, crisis rows before and after reduction,
model size, build and solve time, status, objective and gap. Both solvers
run when HiGHS is installed. ``--json FILE`` writes the records.

Usage: ``python benchmarks/national.py [--solvers cbc,highs] [--time-limit 120] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from nisd.io import default_data_dir, load_dataset
from nisd.optimise import from_dataset, load_plan_config, optimise
from nisd.optimise.solve import available

ROOT = Path(__file__).resolve().parent.parent
CASES = [
    ("none", []),
    ("county+zone", ["county", "power-zone"]),
    ("site+srlg+county+zone", ["single-site", "srlg", "county", "power-zone"]),
    (
        "+regions 50 km+presets",
        [
            "single-site",
            "srlg",
            "county",
            "power-zone",
            "region:50km",
            "region-sites:50km",
            "presets",
        ],
    ),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--solvers", default=",".join(available()))
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    ds = load_dataset(default_data_dir())
    print(
        f"{'case':<26}{'solver':>7}{'scen':>6}{'rows':>7}{'kept':>6}{'vars':>7}{'cons':>7}"
        f"{'prep s':>8}{'build s':>8}{'solve s':>8}{'status':>10}{'objective':>11}{'gap':>8}"
    )
    records: list[dict[str, Any]] = []
    for solver in args.solvers.split(","):
        for name, sets in CASES:
            cfg = load_plan_config(
                ROOT / "scenarios" / "baseline.toml",
                {
                    "crisis": {"sets": sets},
                    "solver": {"name": solver, "time_limit": args.time_limit},
                },
            )
            t = time.perf_counter()
            pp = from_dataset(ds, cfg)
            prep = time.perf_counter() - t
            try:
                plan = optimise(ds, pp)
            except Exception as exc:  # report and go on: a benchmark row, not a crash
                print(f"{name:<26}{solver:>7}  {type(exc).__name__}: {str(exc)[:60]}")
                continue
            run = plan.run
            gap = "" if plan.gap is None else f"{plan.gap:.2%}"
            rec = {
                "case": name,
                "solver": solver,
                "scenarios": len(pp.scenarios),
                "crisis_rows": len(pp.crisis_rows),
                "crisis_rows_kept": run["model"]["families"].get("crisis", 0),
                "variables": run["model"]["variables"],
                "constraints": run["model"]["constraints"],
                "prepare_seconds": round(prep, 3),
                "build_seconds": run["build_seconds"],
                "solve_seconds": run["solve_seconds"],
                "status": plan.status,
                "objective": plan.objective_value,
                "gap": plan.gap,
            }
            records.append(rec)
            print(
                f"{name:<26}{solver:>7}{rec['scenarios']:>6}{rec['crisis_rows']:>7}"
                f"{rec['crisis_rows_kept']:>6}{rec['variables']:>7}{rec['constraints']:>7}"
                f"{prep:>8.2f}{run['build_seconds']:>8.2f}{run['solve_seconds']:>8.1f}"
                f"{plan.status:>10}{plan.objective_value:>11g}{gap:>8}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(records, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
