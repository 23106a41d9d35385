"""How the baseline answers when the agencies' loads are other than the default's.

Every row of ``demand.csv`` whose kind is not ``platform`` is scaled by each factor
(:func:`nisd.scale_demand`) (the
load rule's constant is a judgement, data/sites/SOURCES.md "Demand"), and the baseline is
planned on the scaled copy with a time limit. Prints a Markdown table (and ``--json``)::

    python scripts/load_sensitivity.py --factors 0.5,1,2,4 --time-limit 300
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import nisd
from nisd.errors import NisdError

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "sites")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--factors", default="0.5,1,2,4")
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    results = []
    base = nisd.load(args.data)
    kinds = sorted({d.kind for d in base.demand} - {"platform"})
    for f in (float(x) for x in args.factors.split(",")):
        ds = nisd.scale_demand(base, f, kinds)
        total = sum(d.load for d in ds.demand)
        t = time.perf_counter()
        row: dict[str, object] = {"factor": f, "racks": round(total, 1)}
        try:
            plan = nisd.plan(ds, args.scenario, solver={"time_limit": args.time_limit})
            names = {s.site_id: s.name for s in ds.sites}
            row |= {
                "status": plan.status.value,
                "cost_msek": plan.kpis.cost_msek,
                "gap": plan.gap,
                "sites": ", ".join(f"{names[s]} ({t_})" for s, t_ in sorted(plan.sites.items())),
            }
        except NisdError as exc:
            row |= {"status": type(exc).__name__, "detail": str(exc).splitlines()[0]}
        row["seconds"] = round(time.perf_counter() - t, 1)
        results.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    print("\n| load × | racks | status | cost (MSEK/yr) | sites | seconds |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['factor']:g} | {r['racks']} | {r['status']} | {r.get('cost_msek', '-')} | "
            f"{r.get('sites', r.get('detail', ''))} | {r['seconds']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
