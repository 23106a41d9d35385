"""Near-optimal alternatives: plans within a slack of the optimum that differ most.

Modelling to generate alternatives (as PyPSA does): hold the objective within
``(1 + slack)`` of the optimal value, then minimise the number of sites that
earlier plans opened, so each new plan moves as far as it can from all of
them. Every alternative is capacity-true like any plan (its crisis service levels are
added round by round) and passes the same independent check.
"""

from __future__ import annotations

from typing import Any

import pulp

from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, NoSolutionError, PlanCheckError
from nisd.optimise.check import check_plan
from nisd.optimise.model import build, objective_names
from nisd.optimise.plan import (
    Plan,
    crisis_evaluation,
    plan_kpis,
    scenario_rows,
    solve_rounds,
    start_of,
)
from nisd.optimise.problem import PlacementProblem


def alternatives(
    ds: Dataset,
    pp: PlacementProblem,
    optimum: float,
    opened: list[str],
    *,
    slack: float,
    count: int = 3,
    start: tuple[dict[str, str], dict[str, list[str]]] | None = None,
) -> list[Plan]:
    """Up to ``count`` plans within ``slack`` (e.g. 0.05) of ``optimum``, each as different
    as possible from the optimal plan (``opened``) and from the ones before it.

    ``start`` (the optimal plan's sites and assignments) is handed to the first
    solve; each later solve starts from the alternative before it (both lie within
    the slack)."""
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
        try:
            solved = solve_rounds(
                pp,
                m,
                objective=pulp.lpSum(m.open[sid[s]] for prev in previous for s in prev),
                start=start_of(m, pp, *start) if start is not None else None,
            )
        except (InfeasibleError, NoSolutionError):
            break
        sites, assign, res = solved.sites, solved.assign, solved.result
        start = (sites, assign)
        grown = solved.pp  # with the attacks found, when robust to attacks
        problems = check_plan(grown, sites, assign)
        scen: list[dict[str, Any]] = []
        if grown.scenarios:
            scen = scenario_rows(grown, crisis_evaluation(ds, grown, sites, assign))
            problems += [
                f"{r['scenario']}: service levels not met" for r in scen if r["levels_met"] is False
            ]
        if problems:
            raise PlanCheckError("an alternative failed the check:\n  " + "\n  ".join(problems))
        value = pulp.value(term)
        overlap = sum(len(set(sites) & prev) for prev in previous)
        k, use = plan_kpis(grown, sites, assign, scen)
        out.append(
            Plan(
                res.status.value,
                name,
                float(value) if value is not None else None,
                None,
                None,
                sites,
                assign,
                k,
                scen,
                run={
                    "mga": {
                        "slack": slack,
                        "optimum": optimum,
                        "overlap_with_previous": overlap,
                        "shared_with_optimum": sorted(set(sites) & set(opened)),
                    },
                    "solver": res.solver,
                    "solve_seconds": round(sum(x.seconds for x in solved.steps), 3),
                    "rounds": solved.rounds,
                    "war": solved.war,
                },
                site_use=use,
            )
        )
        if set(sites) in previous:
            break
        previous.append(set(sites))
    if not out:
        raise NoSolutionError("no alternative found within the slack")
    return out
