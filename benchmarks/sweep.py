"""Plans per minute for a sweep on the Swedish default: serial, process pool, Dask LocalCluster.

The same points run five ways in one process; the tables must agree. Targets
(from the scenarios issue): with 2 workers on 2 cores at least 1.7 times the
serial rate; Dask's overhead over the process pool under 10 %.

"cold" modes start their workers for the sweep and stop them after it (one ``nisd
sweep`` command); "warm" modes use one :class:`nisd.study.runner.Workers` started
before the first timed run and kept for all of them (a notebook session, or ``nisd
sweep --dask tcp://…`` on ``nisd workers --scenario baseline``): its workers have done
their imports, read the dataset and derived the baseline's problem.

Each mode runs ``--repeat`` times (interleaved: serial, pool, Dask, serial, ...), so a
noisy spell of the shared machine hits every mode alike; min and median are printed,
and Dask's overhead over the pool is given on both, cold against cold and warm
against warm.

Usage: ``python benchmarks/sweep.py [--solver highs] [--vary p=3..5]
[--vary separation_km=100,200] [--time-limit 120] [--repeat 3] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from nisd.io import default_data_dir
from nisd.io.scenario import load_plan_config
from nisd.optimise.solve import available
from nisd.study.sweep import grid, parse_vary, run_sweep
from nisd.study.workers import Workers, run_tasks

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--solver", default="highs" if "highs" in available() else "cbc")
    ap.add_argument("--vary", action="append", default=None)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    vary = parse_vary(args.vary or ["p=3..5", "separation_km=100,200"])
    base = load_plan_config(
        ROOT / "scenarios" / "baseline.toml",
        {"solver": {"name": args.solver, "time_limit": args.time_limit, "threads": 1}},
    )
    points = grid(base.model_dump(mode="json"), vary)
    data = default_data_dir()
    # warm: started, the data read and the baseline's problem derived in every worker
    # before the first timed run (``nisd workers --scenario baseline``)
    warm_pool = Workers(args.workers, data=data, scenario=base)
    warm_dask = Workers(args.workers, dask="local", data=data, scenario=base)
    modes: list[tuple[str, dict[str, Any]]] = [
        ("serial", {"workers": 1}),
        ("pool, cold", {"workers": args.workers}),
        ("dask, cold", {"workers": args.workers, "dask": "local"}),
        ("pool, warm", {"workers": warm_pool}),
        ("dask, warm", {"workers": warm_dask}),
    ]
    records = []
    tables = {}
    print(f"{len(points)} points, solver {args.solver}, {args.workers} workers")
    seconds: dict[str, list[float]] = {name: [] for name, _kw in modes}
    for _ in range(args.repeat):
        for name, kw in modes:
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                df = run_sweep(points, Path(tmp), data, lambda tasks, kw=kw: run_tasks(tasks, **kw))
                seconds[name].append(time.perf_counter() - t)
            tables[name] = (
                df[["point", "status", "objective"]].sort_values("point").to_dict("records")
            )
    print(f"{'mode':<20}{'min s':>8}{'median s':>10}{'plans/min':>11}{'speed-up':>10}")
    serial_min = min(seconds["serial"])
    for name, _kw in modes:
        lo, med = min(seconds[name]), statistics.median(seconds[name])
        rate = len(points) / lo * 60
        records.append(
            {
                "mode": name,
                "seconds": [round(x, 2) for x in seconds[name]],
                "min_seconds": round(lo, 2),
                "median_seconds": round(med, 2),
                "plans_per_minute": round(rate, 3),
                "speedup": round(serial_min / lo, 3),
                "points": len(points),
            }
        )
        print(f"{name:<20}{lo:>8.1f}{med:>10.1f}{rate:>11.2f}{serial_min / lo:>10.2f}")
    warm_pool.close()
    warm_dask.close()
    same = all(t == tables["serial"] for t in tables.values())
    print(f"same table in every mode: {same}")
    overhead = {}
    for how in ("cold", "warm"):
        pool, dask = seconds[f"pool, {how}"], seconds[f"dask, {how}"]
        lo = min(dask) / min(pool) - 1
        med = statistics.median(dask) / statistics.median(pool) - 1
        overhead[how] = {"min": round(lo, 4), "median": round(med, 4)}
        print(f"Dask overhead over the pool, {how}: min {lo:+.1%}, median {med:+.1%}")
    if args.json:
        doc = {"records": records, "same_table": same, "dask_overhead": overhead}
        args.json.write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
