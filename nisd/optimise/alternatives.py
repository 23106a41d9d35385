"""Near-optimal alternatives: plans within a slack of the optimum that differ most.

Modelling to generate alternatives (as PyPSA does): hold the objective within
``(1 + slack)`` of the optimal value, then minimise the number of sites that
earlier plans opened, so each new plan moves as far as it can from all of
them. Every alternative is capacity-true like any plan (its crisis service levels are
added round by round) and passes the same independent check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulp

from nisd.dataset import Dataset
from nisd.errors import ConfigError, InfeasibleError, NoSolutionError
from nisd.optimise.extract import start_of
from nisd.optimise.figures import plan_kpis
from nisd.optimise.model import build, objective_names
from nisd.optimise.placement import solve_rounds
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.rounds import seconds
from nisd.optimise.verify import verify
from nisd.records.plan import AlternativeOf, ObjectiveValue, Plan, RunRecord


def alternatives(
    ds: Dataset,
    pp: PlacementProblem,
    optimum: float,
    opened: Sequence[str],
    *,
    slack: float,
    count: int = 3,
    start: tuple[Mapping[str, str], Mapping[str, Sequence[str]]] | None = None,
    run: RunRecord | None = None,
) -> list[Plan]:
    """Up to ``count`` plans within ``slack`` (e.g. 0.05) of ``optimum``, each as different
    as possible from the optimal plan (``opened``) and from the ones before it.

    ``start`` (the optimal plan's sites and assignments) is handed to the first
    solve; each later solve starts from the alternative before it (both lie within
    the slack). ``run`` is the optimal plan's run record: each alternative keeps its
    inputs and parameters.

    Raises
    ------
    ConfigError
        The scenario has several objectives (weighted or lexicographic).
    NoSolutionError
        No alternative within the slack.
    """
    names = objective_names(pp)
    if len(names) != 1:
        raise ConfigError(
            "alternatives need a single objective (not weighted or lexicographic): "
            "set objective to one goal"
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
        rows = verify(ds, grown, sites, assign)
        value = pulp.value(term)
        overlap = sum(len(set(sites) & prev) for prev in previous)
        kpis, use = plan_kpis(grown, sites, assign, rows)
        base = run or RunRecord()
        out.append(
            Plan(
                status=res.status,
                objective=ObjectiveValue(
                    name=name, value=float(value) if value is not None else None
                ),
                sites=sites,
                assignments={d: tuple(v) for d, v in sorted(assign.items())},
                kpis=kpis,
                scenarios=rows,
                site_use=use,
                run=base.model_copy(
                    update={
                        "mga": AlternativeOf(
                            slack=slack,
                            optimum=optimum,
                            overlap_with_previous=overlap,
                            shared_with_optimum=tuple(sorted(set(sites) & set(opened))),
                        ),
                        "solver": res.solver,
                        "solver_version": res.solver_version,
                        "solve_seconds": round(seconds(solved.steps), 3),
                        "rounds": tuple(solved.rounds),
                        "war": solved.war,
                        "decomposition": None,
                        "model": None,
                    }
                ),
            )
        )
        if set(sites) in previous:
            break
        previous.append(set(sites))
    if not out:
        raise NoSolutionError("no alternative found within the slack")
    return out
