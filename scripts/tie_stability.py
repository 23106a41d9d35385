"""Whether the baseline's towns stay when one small agency is left out, with ties broken by
the stated rule (``[objective] ties = "rule"``, the default) and by the solver's order
(``ties = "solver"``).

Leaving out a small agency changes the load by well under 1 % and should not move the
sites a steering group reads. For each of the ``--count`` smallest agencies (by load;
platform services and the county boards excluded), the baseline is planned without it
(:func:`nisd.drop_workload`) both ways. Prints one JSON line per plan and a Markdown table::

    python scripts/tie_stability.py --count 6 --json ties.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import nisd
from nisd.errors import NisdError

ROOT = Path(__file__).resolve().parent.parent


def towns(ds: nisd.Dataset, plan: nisd.Plan) -> str:
    names = {s.site_id: s.name for s in ds.sites}
    return ", ".join(f"{names[s]} ({t})" for s, t in sorted(plan.sites.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "sites")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    base = nisd.load(args.data)
    load: dict[str, float] = defaultdict(float)
    for d in base.demand:
        if d.kind != "platform" and d.workload_id != "d-lansstyrelserna":
            load[d.workload_id] += d.load
    small = sorted(load, key=lambda w: (load[w], w))[: args.count]
    rows: list[dict[str, object]] = []
    for left_out in [None, *small]:
        ds = base if left_out is None else nisd.drop_workload(base, left_out)
        for ties in ("rule", "solver"):
            t = time.perf_counter()
            row: dict[str, object] = {"left_out": left_out or "(none)", "ties": ties}
            try:
                plan = nisd.plan(
                    ds,
                    args.scenario,
                    objective={"ties": ties},
                    solver={"time_limit": args.time_limit},
                )
                row |= {
                    "status": plan.status.value,
                    "cost_msek": plan.kpis.cost_msek,
                    "sites": towns(ds, plan),
                }
            except NisdError as exc:
                row |= {"status": type(exc).__name__, "sites": str(exc).splitlines()[0]}
            row["seconds"] = round(time.perf_counter() - t, 1)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    print("\n| left out | ties | status | cost (MSEK/yr) | sites | same towns | seconds |")
    print("|---|---|---|---|---|---|---|")
    first = {r["ties"]: r["sites"] for r in rows if r["left_out"] == "(none)"}
    for r in rows:
        same = "yes" if r["sites"] == first[r["ties"]] else "no"
        print(
            f"| {r['left_out']} | {r['ties']} | {r['status']} | {r.get('cost_msek', '-')} | "
            f"{r['sites']} | {same} | {r['seconds']} |"
        )
    for ties in ("rule", "solver"):
        mine = [r for r in rows if r["ties"] == ties and r["left_out"] != "(none)"]
        kept = sum(r["sites"] == first[ties] for r in mine)
        print(f"ties = {ties!r}: the default's towns kept in {kept} of {len(mine)} variants")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
