"""The crisis ladder: plans evaluated from peace through heightened alert to war.

Each rung is a scenario file: its crisis scenario sets and the criticality
levels that must stay served, and, when it has a ``[war]`` table, the worst
attack of its budget on each plan (found exactly by
:func:`nisd.optimise.war.attack`, not by listing attacks). A rung can also be
written ``attack:R`` (the worst attack on R opened sites, critical load
protected) or ``attack:R:sites+nodes+srlg``. For each plan and rung, the worst-case share of
the protected load served within the crisis bound and within the capacity of
the surviving sites (the evaluator of :mod:`nisd.topology.served`); a plan's
regret on a rung is the best share any plan reaches there minus its own; the recommended plan
has the smallest largest regret (ties: lower cost, then name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.optimise.war import attack
from nisd.records.plan import Plan
from nisd.topology import build_graph
from nisd.topology.resilience import evaluate
from nisd.topology.scenarios import scenario_sets


@dataclass(frozen=True)
class Rung:
    """One rung: scenario sets, the classes it protects, and an attack budget (0: none)."""

    name: str
    sets: list[str]
    levels: list[str]
    attacks: float = 0.0
    kinds: list[str] = field(default_factory=lambda: ["site"])


def rung_of(name: str, cfg: PlanConfig) -> Rung:
    """A rung from a scenario file: every scenario set of its service levels, the
    classes it serves in full and its ``[war]`` attack budget (``peace`` fails nothing)."""
    sets = cfg.crisis.set_names()
    levels: list[str] = []
    for sl in cfg.crisis.service_levels():
        levels += [c for c, v in sl.serve.items() if v >= 1.0 and c not in levels]
    if name == "peace":
        return Rung(name, [], levels)
    w = cfg.war
    if w.on:
        levels += [c for c, v in w.serve.items() if v >= 1.0 and c not in levels]
    return Rung(name, sets, levels, w.attacks if w.on else 0.0, list(w.targets))


def attack_rung(name: str, spec: str, protect: Sequence[str] = ("critical",)) -> Rung:
    """``attack:R`` or ``attack:R:sites+nodes+srlg``: the worst attack of budget R.

    Raises
    ------
    ValueError
        A budget that is not a positive number, or an unknown target kind.
    """
    parts = spec.split(":")
    try:
        r = float(parts[1]) if len(parts) > 1 else float("nan")
    except ValueError:
        r = float("nan")
    if not r > 0 or len(parts) > 3:
        raise ValueError(f"{spec!r}: expected attack:R or attack:R:KINDS with R > 0")
    plural = {"sites": "site", "nodes": "node", "srlgs": "srlg"}
    kinds = [plural.get(k, k) for k in (parts[2].split("+") if len(parts) > 2 else ["site"])]
    bad = [k for k in kinds if k not in ("site", "node", "srlg")]
    if bad:
        raise ValueError(f"{spec!r}: unknown target kind(s) {', '.join(bad)}")
    return Rung(name, [], list(protect), r, kinds)


def ladder(
    ds: Dataset,
    plans: Sequence[tuple[str, Plan]],
    rungs: Sequence[Rung],
) -> tuple[pd.DataFrame, str]:
    """Per plan and rung: worst-case protected share and regret; and the min-max-regret plan.

    A rung with no sets and no attacks is peace (nothing fails). A rung with an
    attack budget also counts the plan's worst attack (protected classes first).
    """
    g = build_graph(ds)
    class_load: dict[str, float] = {}
    for d in ds.demand:
        class_load[d.criticality] = class_load.get(d.criticality, 0.0) + d.load
    rows = []
    for pname, plan in plans:
        opened = dict(plan.sites)
        assignments = {d: list(v) for d, v in plan.assignments.items()} or None
        for rung in rungs:
            rname, sets, levels = rung.name, rung.sets, rung.levels
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
                    islands=plan.islands,
                )
                # served share of the protected classes' load (the evaluator's class shares)
                shares = [
                    sum((r.served(c) or 0.0) * class_load.get(c, 0.0) for c in levels) / total
                    for r in res.rows
                ]
                worst_i = int(np.argmin(shares))
                worst, name = shares[worst_i], res.rows[worst_i].scenario
            if rung.attacks > 0 and plan.split:
                # the worst attack for the protected classes: all load of them counts alike
                hit = attack(
                    ds,
                    g,
                    opened,
                    assignments,
                    budget=rung.attacks,
                    kinds=rung.kinds,
                    top=1,
                    islands=plan.islands,
                ).worst
                if hit is not None:
                    share = sum((hit.served(c) or 0.0) * class_load.get(c, 0.0) for c in levels)
                    if share / total < worst - 1e-12 or not scen:
                        worst, name = share / total, hit.scenario
            rows.append(
                {
                    "plan": pname,
                    "rung": rname,
                    "scenarios": len(scen) + (1 if rung.attacks > 0 else 0),
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
