"""Why each site: its regret (forbid it and re-solve) and the cost of forcing in a rejected one.

Each row is one independent solve of the plan's own scenario with one site
forbidden (an opened site) or required (a rejected candidate); they run on the
same executors as sweeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pandas as pd

from nisd.study.runner import solve_point


def explain_tasks(
    plan: dict[str, Any], data_dir: str, candidates: Sequence[str]
) -> list[tuple[str, Callable[..., dict[str, Any]], tuple[Any, ...]]]:
    params = dict((plan.get("run") or {}).get("parameters") or {})
    params.pop("extends", None)
    opened = [s["site_id"] for s in plan["sites"]]
    tasks = []
    for s in opened:
        cfg = {
            **params,
            "forbidden": sorted({*params.get("forbidden", []), s}),
            "required": [r for r in params.get("required", []) if r != s],
        }
        tasks.append((f"open:{s}", solve_point, (data_dir, cfg)))
    for s in candidates:
        if s in opened:
            continue
        cfg = {
            **params,
            "required": sorted({*params.get("required", []), s}),
            "forbidden": [f for f in params.get("forbidden", []) if f != s],
        }
        tasks.append((f"rejected:{s}", solve_point, (data_dir, cfg)))
    return tasks


def explain_plan(
    plan: dict[str, Any],
    data_dir: str,
    candidates: Sequence[str],
    runner: Callable[[list[Any]], Iterator[tuple[str, dict[str, Any]]]],
) -> pd.DataFrame:
    """Regret of every opened site and cost of forcing each candidate, as a table."""
    base = float(plan["objective"]["value"])
    name = plan["objective"]["name"]
    rows = []
    for key, res in runner(explain_tasks(plan, data_dir, candidates)):
        kind, site = key.split(":", 1)
        row: dict[str, Any] = {
            "site_id": site,
            "role": "opened" if kind == "open" else "rejected",
            "objective": name,
            "base": base,
        }
        if res.get("ok"):
            new = float(res["plan"]["objective"]["value"])
            change = round(new - base, 6) + 0.0  # + 0.0 turns -0.0 into 0.0
            row.update(
                {"value": new, "change": change, "status": res["plan"]["status"], "note": ""}
            )
        else:
            essential = res.get("error_type") == "InfeasibleError"
            row.update(
                {
                    "value": None,
                    "change": None,
                    "status": "infeasible" if essential else "error",
                    "note": (
                        "no plan without it: essential" if kind == "open" else "cannot be forced in"
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
