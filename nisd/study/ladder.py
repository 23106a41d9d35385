"""The crisis ladder: plans evaluated from peace through heightened alert to war.

Each rung is a scenario file: its crisis scenario sets and the criticality
levels that must stay served. For each plan and rung, the worst-case share of
the protected load served within the crisis bound; a plan's regret on a rung
is the best share any plan reaches there minus its own; the recommended plan
has the smallest largest regret (ties: lower cost, then name).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from nisd.dataset import Dataset
from nisd.topology import build_graph
from nisd.topology.resilience import evaluate
from nisd.topology.scenarios import scenario_sets


def ladder(
    ds: Dataset,
    plans: Sequence[tuple[str, dict[str, Any]]],
    rungs: Sequence[tuple[str, list[str], list[str]]],
) -> tuple[pd.DataFrame, str]:
    """Per plan and rung: worst-case protected share and regret; and the min-max-regret plan.

    ``rungs`` are ``(name, scenario sets, criticality levels protected)``; a
    rung with no sets is peace (nothing fails).
    """
    g = build_graph(ds)
    load = {d.demand_id: d.load for d in ds.demand}
    rows = []
    for pname, doc in plans:
        opened = [s["site_id"] for s in doc["sites"]]
        for rname, sets, levels in rungs:
            protected = [d.demand_id for d in ds.demand if d.criticality in levels]
            total = sum(load[d] for d in protected) or 1.0
            scen = scenario_sets(ds, g, sets, opened) if sets else []
            if scen:
                res = evaluate(ds, g, opened, scen, check_two_routes=False)
                shares = [
                    1.0 - sum(load[d] for d in u if d in set(protected)) / total
                    for u in res.table.unserved
                ]
                worst_i = int(np.argmin(shares))
                worst, name = shares[worst_i], str(res.table.scenario.iloc[worst_i])
            else:
                res = evaluate(ds, g, opened, [], check_two_routes=False)
                worst, name = 1.0, "nothing fails"
            rows.append(
                {
                    "plan": pname,
                    "rung": rname,
                    "scenarios": len(scen),
                    "worst_share": round(worst, 6),
                    "worst_scenario": name,
                    "cost_msek": (doc.get("kpis") or {}).get("cost_msek"),
                }
            )
    df = pd.DataFrame(rows)
    best = df.groupby("rung").worst_share.transform("max")
    df["regret"] = (best - df.worst_share).round(6)
    summary = df.groupby("plan").agg(max_regret=("regret", "max"), cost=("cost_msek", "first"))
    summary = summary.reset_index().sort_values(["max_regret", "cost", "plan"])
    return df, str(summary.iloc[0]["plan"])
