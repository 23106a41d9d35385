"""The crisis ladder: plans evaluated from peace through heightened alert to war.

Each rung is a scenario file: its crisis scenario sets and the criticality
levels that must stay served. For each plan and rung, the worst-case share of
the protected load served within the crisis bound and within the capacity of
the surviving sites (the evaluator of :mod:`nisd.topology.served`); a plan's
regret on a rung is the best share any plan reaches there minus its own; the recommended plan
has the smallest largest regret (ties: lower cost, then name).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nisd.dataset import Dataset
from nisd.optimise.config import PlanConfig
from nisd.result import Plan
from nisd.topology import build_graph
from nisd.topology.resilience import evaluate
from nisd.topology.scenarios import scenario_sets


def rung_of(name: str, cfg: PlanConfig) -> tuple[str, list[str], list[str]]:
    """A rung from a scenario file: every scenario set of its service levels, and the
    classes it serves in full (``peace`` fails nothing)."""
    sets: list[str] = []
    levels: list[str] = []
    for sl in cfg.crisis.service_levels():
        sets += [s for s in sl.sets if s not in sets]
        levels += [c for c, v in sl.serve.items() if v >= 1.0 and c not in levels]
    return name, ([] if name == "peace" else sets), levels


def ladder(
    ds: Dataset,
    plans: Sequence[tuple[str, Plan]],
    rungs: Sequence[tuple[str, list[str], list[str]]],
) -> tuple[pd.DataFrame, str]:
    """Per plan and rung: worst-case protected share and regret; and the min-max-regret plan.

    ``rungs`` are ``(name, scenario sets, criticality levels protected)``; a
    rung with no sets is peace (nothing fails).
    """
    g = build_graph(ds)
    class_load: dict[str, float] = {}
    for d in ds.demand:
        class_load[d.criticality] = class_load.get(d.criticality, 0.0) + d.load
    rows = []
    for pname, plan in plans:
        opened = dict(plan.sites)
        assignments = {d: list(v) for d, v in plan.assignments.items()} or None
        for rname, sets, levels in rungs:
            total = sum(class_load.get(c, 0.0) for c in levels) or 1.0
            scen = scenario_sets(ds, g, sets, sorted(opened)) if sets else []
            worst, name = 1.0, "nothing fails"
            if scen:
                res = evaluate(
                    ds,
                    g,
                    opened,
                    scen,
                    assignments=assignments,
                    check_two_routes=False,
                    split=plan.split,
                )
                # served share of the protected classes' load (the evaluator's class shares)
                shares = [
                    sum((by.get(c) or 0.0) * class_load.get(c, 0.0) for c in levels) / total
                    for by in res.table.served_by_class
                ]
                worst_i = int(np.argmin(shares))
                worst, name = shares[worst_i], str(res.table.scenario.iloc[worst_i])
            rows.append(
                {
                    "plan": pname,
                    "rung": rname,
                    "scenarios": len(scen),
                    "worst_share": round(worst, 6),
                    "worst_scenario": name,
                    "cost_msek": plan.kpis.cost_msek,
                }
            )
    df = pd.DataFrame(rows)
    best = df.groupby("rung").worst_share.transform("max")
    df["regret"] = (best - df.worst_share).round(6)
    summary = df.groupby("plan").agg(max_regret=("regret", "max"), cost=("cost_msek", "first"))
    summary = summary.reset_index().sort_values(["max_regret", "cost", "plan"])
    return df, str(summary.iloc[0]["plan"])
