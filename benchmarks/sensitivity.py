"""How long the sensitivity run takes on the Swedish default (target: under 5 minutes).

Plans ``scenarios/baseline.toml`` once, then re-plans it with every labelled
assumption low and high (:mod:`nisd.study.sensitivity`) serially and on a process
pool of ``--workers``, ``--repeat`` times each (interleaved); prints min and median
seconds per mode, the speed-up, and the table (the same in every mode).

Usage: ``python benchmarks/sensitivity.py [--workers 2] [--repeat 2] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import nisd
from nisd.study.sensitivity import sensitivity_table
from nisd.study.workers import run_tasks

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    ds = nisd.load()
    plan = nisd.plan(ds, ROOT / "scenarios" / "baseline.toml")
    print(f"plan: {plan.kpis.cost_msek:g} MSEK/yr, sites {', '.join(sorted(plan.sites))}")
    seconds: dict[str, list[float]] = {"serial": [], "pool": []}
    tables: dict[str, list[tuple[str, str, float | None]]] = {}
    rows: list[dict[str, Any]] = []
    for _ in range(args.repeat):
        for mode, workers in (("serial", 1), ("pool", args.workers)):
            with tempfile.TemporaryDirectory() as work:
                t = time.perf_counter()
                table = sensitivity_table(
                    plan,
                    ds,
                    str(ds.path.resolve()),
                    lambda tasks, w=workers: run_tasks(tasks, workers=w),
                    Path(work),
                    threads=1 if workers > 1 else None,
                )
                rows = [v.to_json() for v in table.variants]
                seconds[mode].append(time.perf_counter() - t)
            tables[mode] = sorted((str(r["assumption"]), str(r["side"]), r["cost"]) for r in rows)  # type: ignore[misc]
    print(f"{len(rows)} re-plans")
    print(f"{'mode':<8}{'min s':>8}{'median s':>10}{'speed-up':>10}")
    for mode in seconds:
        lo = min(seconds[mode])
        print(
            f"{mode:<8}{lo:>8.1f}{statistics.median(seconds[mode]):>10.1f}"
            f"{min(seconds['serial']) / lo:>10.2f}"
        )
    print(f"same table in both modes: {tables['serial'] == tables['pool']}")
    for r in rows:
        cost = "no plan" if r["cost"] is None else f"{r['cost']:g} ({r['change']:+g})"
        moved = "sites change" if r["changes_sites"] else ""
        print(f"  {r['assumption']:<32} {r['side']:<5} {r['value']!s:<26} {cost:<18} {moved}")
    if args.json:
        args.json.write_text(
            json.dumps({"seconds": seconds, "rows": rows}, indent=1) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
