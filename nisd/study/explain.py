"""Why each site: its regret (forbid it and re-solve) and the cost of forcing in a rejected one.

Each row is one independent solve of the plan's own scenario with one site
forbidden (an opened site) or required (a rejected candidate); they run on the
same executors as sweeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from nisd.dataset import Dataset
from nisd.errors import ConfigError, Problem
from nisd.result import Plan
from nisd.study.runner import replan_params, solve_point, unproved
from nisd.topology.latency import distance_matrix_km


def nearest_rejected(ds: Dataset, opened: Sequence[str], n: int | None) -> list[str]:
    """The ``n`` rejected candidates nearest to an opened site (all of them for None),
    nearest first (ties by id)."""
    others = [s.site_id for s in ds.sites if s.site_id not in set(opened)]
    if n is None or not others or not opened:
        return others if n is None else others[:n]
    d = distance_matrix_km(ds, others, sorted(opened)).min(axis=1)
    return [s for _d, s in sorted(zip(d, others, strict=True))][:n]


@dataclass(frozen=True)
class Probe:
    """One re-solve of ``nisd explain``: an opened site forbidden or a rejected one required."""

    role: str  # "opened" or "rejected"
    site_id: str


def explain_tasks(
    plan: Plan, data_dir: str, candidates: Sequence[str], threads: int | None = None
) -> tuple[list[tuple[str, Callable[..., dict[str, Any]], tuple[Any, ...]]], dict[str, Probe]]:
    """The re-solves, keyed by an index-only task key, and what each key probes
    (``threads``: see :func:`nisd.study.runner.replan_params`)."""
    params = replan_params(plan, threads)
    opened = sorted(plan.sites)
    probes = [Probe("opened", s) for s in opened]
    probes += [Probe("rejected", s) for s in candidates if s not in opened]
    tasks = []
    meaning: dict[str, Probe] = {}
    for n, probe in enumerate(probes):
        s = probe.site_id
        if probe.role == "opened":
            cfg = {
                **params,
                "forbidden": sorted({*params.get("forbidden", []), s}),
                "required": [r for r in params.get("required", []) if r != s],
            }
        else:
            cfg = {
                **params,
                "required": sorted({*params.get("required", []), s}),
                "forbidden": [f for f in params.get("forbidden", []) if f != s],
            }
        key = f"probe-{n}"
        meaning[key] = probe
        start = None
        ds = plan.dataset
        if probe.role == "rejected" and ds is not None:
            # the plan with the rejected site added (its cheapest type) is often feasible:
            # a start that re-solves need not find again
            types = ds.allowed_types(ds.site_by_id[s])
            if types:
                cheapest = min(types, key=lambda t: (ds.type_by_id[t].cost_msek, t))
                start = (
                    {**plan.sites, s: cheapest},
                    {d: list(v) for d, v in plan.assignments.items()},
                )
        tasks.append((key, solve_point, (data_dir, cfg, start)))
    return tasks, meaning


def explain_plan(
    plan: Plan,
    data_dir: str,
    candidates: Sequence[str],
    runner: Callable[[list[Any]], Iterator[tuple[str, dict[str, Any]]]],
    threads: int | None = None,
) -> pd.DataFrame:
    """Regret of every opened site and cost of forcing each candidate, as a table."""
    if plan.value is None:
        raise ConfigError([Problem("plan", "objective.value is missing: the plan has no value")])
    base = float(plan.value)
    name = plan.objective
    rows = []
    tasks, meaning = explain_tasks(plan, data_dir, candidates, threads)
    for key, res in runner(tasks):
        probe = meaning[key]
        row: dict[str, Any] = {
            "site_id": probe.site_id,
            "role": probe.role,
            "objective": name,
            "base": base,
        }
        if res.get("ok"):
            new = float(res["plan"]["objective"]["value"])
            change = round(new - base, 6) + 0.0  # + 0.0 turns -0.0 into 0.0
            row.update(
                {
                    "value": new,
                    "change": change,
                    "status": res["plan"]["status"],
                    "note": unproved(res["plan"]),
                }
            )
        else:
            essential = res.get("error_type") == "InfeasibleError"
            row.update(
                {
                    "value": None,
                    "change": None,
                    "status": "infeasible" if essential else "error",
                    "note": (
                        "no plan without it: essential"
                        if probe.role == "opened"
                        else "cannot be forced in"
                    )
                    if essential
                    else str(res.get("error", ""))[:120],
                }
            )
        rows.append(row)
    df = pd.DataFrame(rows)
    if len(df):
        df = df.sort_values(
            ["role", "change", "site_id"], ascending=[True, False, True], na_position="first"
        ).reset_index(drop=True)
    return df
