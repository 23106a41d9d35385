"""Verify a plan without trusting the solver: the checker, constraint by constraint, and
the served-load evaluator over the surviving fibre graph, scenario by scenario.

Every plan, roll-out year and alternative passes :func:`verify` before it is returned;
the scenario rows it gives are the ones its record carries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import networkx as nx

from nisd.dataset import Dataset
from nisd.errors import PlanCheckError
from nisd.optimise.check import check_plan
from nisd.optimise.problem import PlacementProblem
from nisd.records.plan import ScenarioRow
from nisd.topology import build_graph
from nisd.topology.resilience import evaluate


def evaluate_plan(
    ds: Dataset,
    pp: PlacementProblem,
    sites: Mapping[str, str],
    assign: Mapping[str, Sequence[str]],
    g: nx.MultiGraph | None = None,
) -> tuple[ScenarioRow, ...]:
    """The plan under every crisis scenario of ``pp``, by the served-load evaluator."""
    if not pp.scenarios:
        return ()
    return evaluate(
        ds,
        g if g is not None else build_graph(ds),
        dict(sites),
        list(pp.scenarios),
        assignments={d: list(v) for d, v in assign.items()},
        levels={k: v.tolist() for k, v in pp.scenario_levels.items()},
        check_two_routes=False,
        split=pp.config.crisis.split,
        islands=pp.config.crisis.islands == "skip",
    ).rows


def violations(
    ds: Dataset,
    pp: PlacementProblem,
    sites: Mapping[str, str],
    assign: Mapping[str, Sequence[str]],
    g: nx.MultiGraph | None = None,
) -> tuple[tuple[ScenarioRow, ...], list[str]]:
    """The plan's scenario rows, and every constraint it breaks (checker, then the
    service levels the evaluator finds missed)."""
    rows = evaluate_plan(ds, pp, sites, assign, g)
    found = check_plan(pp, dict(sites), {d: list(v) for d, v in assign.items()})
    found += [
        f"{r.scenario}: service levels {r.levels} not met on re-check (served {r.served_by_class})"
        for r in rows
        if r.levels_met is False
    ]
    return rows, found


def raise_violations(found: Sequence[str], what: str = "plan") -> None:
    """Refuse a result that breaks a constraint.

    Raises
    ------
    PlanCheckError
    """
    if found:
        raise PlanCheckError(
            f"the solver's {what} failed the independent check:\n  " + "\n  ".join(found[:20])
        )


def verify(
    ds: Dataset,
    pp: PlacementProblem,
    sites: Mapping[str, str],
    assign: Mapping[str, Sequence[str]],
    g: nx.MultiGraph | None = None,
) -> tuple[ScenarioRow, ...]:
    """The plan's scenario rows, once the checker and the evaluator both pass it.

    Raises
    ------
    PlanCheckError
        The plan breaks a constraint (never returned as a result).
    """
    rows, found = violations(ds, pp, sites, assign, g)
    raise_violations(found)
    return rows
