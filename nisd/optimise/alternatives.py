"""Near-optimal alternatives: plans within a slack of the optimum that differ most.

Modelling to generate alternatives (as PyPSA does): hold the objective within
``(1 + slack)`` of the optimal value, then minimise the number of sites that
earlier plans opened, so each new plan moves as far as it can from all of
them. Every alternative passes the same independent check as any plan.
"""

from __future__ import annotations

import pulp

from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, NoSolutionError, PlanCheckError
from nisd.optimise.check import check_plan
from nisd.optimise.model import build, objective_names
from nisd.optimise.plan import Plan, _extract, kpis
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.solve import Status, solve


def alternatives(
    ds: Dataset,
    pp: PlacementProblem,
    optimum: float,
    opened: list[str],
    *,
    slack: float,
    count: int = 3,
) -> list[Plan]:
    """Up to ``count`` plans within ``slack`` (e.g. 0.05) of ``optimum``, each as different
    as possible from the optimal plan (``opened``) and from the ones before it."""
    names = objective_names(pp)
    if len(names) != 1:
        raise InfeasibleError(
            "alternatives need a single objective (not weighted or lexicographic)"
        )
    name = names[0]
    sid = {s: j for j, s in enumerate(pp.site_ids)}
    previous = [set(opened)]
    out: list[Plan] = []
    for _ in range(count):
        m = build(pp)
        term = m.terms[name]
        bound = optimum + slack * abs(optimum) + 1e-6
        m.add("mga_slack", term <= bound, f"objective within {slack:.1%} of {optimum:g}")
        m.prob.setObjective(pulp.lpSum(m.open[sid[s]] for prev in previous for s in prev))
        res = solve(m.prob, pp.config.solver)
        if res.status is Status.INFEASIBLE or res.status is Status.UNKNOWN:
            break
        sites, assign = _extract(pp, m)
        problems = check_plan(pp, sites, assign)
        if problems:
            raise PlanCheckError("an alternative failed the check:\n  " + "\n  ".join(problems))
        value = pulp.value(term)
        overlap = sum(len(set(sites) & prev) for prev in previous)
        out.append(
            Plan(
                res.status.value,
                name,
                float(value) if value is not None else None,
                None,
                None,
                sites,
                assign,
                kpis(pp, sites, assign),
                run={
                    "mga": {
                        "slack": slack,
                        "optimum": optimum,
                        "overlap_with_previous": overlap,
                        "shared_with_optimum": sorted(set(sites) & set(opened)),
                    },
                    "solver": res.solver,
                    "solve_seconds": round(res.seconds, 3),
                },
            )
        )
        if set(sites) in previous:
            break
        previous.append(set(sites))
    if not out:
        raise NoSolutionError("no alternative found within the slack")
    return out
