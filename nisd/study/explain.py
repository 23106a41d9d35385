"""Why each site: its regret (forbid it and re-solve) and the cost of forcing in a rejected one.

Each row is one independent solve of the plan's own scenario with one site
forbidden (an opened site) or required (a rejected candidate); they run on the
same executors as sweeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from nisd.dataset import Dataset
from nisd.errors import ConfigError, Problem
from nisd.records.plan import Plan
from nisd.records.study import Explanation, Probe
from nisd.study.runner import PointResult, Task, replan_config, solve_point, unproved
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
class Question:
    """One re-solve of ``nisd explain``: an opened site forbidden or a rejected one required."""

    role: Literal["opened", "rejected"]
    site_id: str


def explain_tasks(
    plan: Plan,
    ds: Dataset,
    data_dir: str,
    candidates: Sequence[str],
    threads: int | None = None,
) -> tuple[list[Task], dict[str, Question]]:
    """The re-solves, keyed by an index-only task key, and what each key asks
    (``threads``: see :func:`nisd.study.runner.replan_config`)."""
    base = replan_config(plan, threads)
    opened = sorted(plan.sites)
    questions = [Question("opened", s) for s in opened]
    questions += [Question("rejected", s) for s in candidates if s not in opened]
    tasks: list[Task] = []
    meaning: dict[str, Question] = {}
    for n, q in enumerate(questions):
        s = q.site_id
        if q.role == "opened":
            cfg = base.model_copy(
                update={
                    "forbidden": sorted({*base.forbidden, s}),
                    "required": [r for r in base.required if r != s],
                }
            )
        else:
            cfg = base.model_copy(
                update={
                    "required": sorted({*base.required, s}),
                    "forbidden": [f for f in base.forbidden if f != s],
                }
            )
        key = f"probe-{n}"
        meaning[key] = q
        start = None
        if q.role == "rejected":
            # the plan with the rejected site added (its cheapest type) is often feasible:
            # a start that re-solves need not find again
            types = ds.allowed_types(ds.site_by_id[s])
            if types:
                cheapest = min(types, key=lambda t: (ds.type_by_id[t].cost_msek, t))
                start = (
                    {**plan.sites, s: cheapest},
                    {d: list(v) for d, v in plan.assignments.items()},
                )
        tasks.append((key, solve_point, (data_dir, cfg.model_dump(mode="json"), start)))
    return tasks, meaning


def explain_plan(
    plan: Plan,
    ds: Dataset,
    data_dir: str,
    candidates: Sequence[str],
    runner: Callable[[list[Task]], Iterator[tuple[str, Any]]],
    threads: int | None = None,
) -> Explanation:
    """Regret of every opened site and cost of forcing each candidate.

    Raises
    ------
    ConfigError
        The plan has no objective value, or no parameters to re-solve with.
    """
    if plan.value is None:
        raise ConfigError([Problem("plan", "objective.value is missing: the plan has no value")])
    base = float(plan.value)
    probes = []
    tasks, meaning = explain_tasks(plan, ds, data_dir, candidates, threads)
    for key, res in runner(tasks):
        assert isinstance(res, PointResult)
        q = meaning[key]
        if res.plan is not None and res.plan.value is not None:
            new = float(res.plan.value)
            probes.append(
                Probe(
                    site_id=q.site_id,
                    role=q.role,
                    objective=plan.objective.name,
                    base=base,
                    value=new,
                    change=round(new - base, 6) + 0.0,  # + 0.0 turns -0.0 into 0.0
                    status=res.plan.status.value,
                    note=unproved(res.plan),
                )
            )
            continue
        essential = res.infeasible
        probes.append(
            Probe(
                site_id=q.site_id,
                role=q.role,
                objective=plan.objective.name,
                base=base,
                status="infeasible" if essential else "error",
                note=(
                    "no plan without it: essential" if q.role == "opened" else "cannot be forced in"
                )
                if essential
                else res.error[:120],
            )
        )
    # opened first, then rejected; the largest change first (no plan at all before any)
    probes.sort(
        key=lambda p: (
            p.role,
            0 if p.change is None else 1,
            -(p.change or 0.0),
            p.site_id,
        )
    )
    return Explanation(probes=tuple(probes))
