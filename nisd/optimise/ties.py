"""Ties broken by a stated rule, not by the solver's search order.

Plans of the least cost are often many: two towns in one power zone cost the same, and
which of them the solver returns depends on the order it happened to search in, so the
towns a steering group reads could change when an unrelated agency is added. Once the
cost is proved (status optimal), nisd solves once more, holding the cost at the proved
plan's and minimising, in this order:

1. the number of **new** sites (sites that are not existing today);
2. minus the number of **existing** sites kept (keep the estate where it costs nothing);
3. the load-weighted primary latency (normalised below 1, so it only breaks what 1 and 2
   leave equal).

The three are one weighted sum whose weights keep the order strict: a new site weighs
more than every existing site and the latency together. The second solve starts from
the proved plan (a feasible start), runs the same rounds of crisis scenarios as the first
and is checked the same way; if it stops without a better plan, the proved plan stays.
The cost never changes: the rule only chooses among plans of the proved cost.

Applies to static plans of the cost objective without attacks (a robust plan's rounds
search attacks on every plan; their ties stay the solver's); ``[objective] ties =
"solver"`` switches it off. Studies that read only costs (fees, the protection premium)
skip it.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pulp

from nisd.errors import NoSolutionError
from nisd.optimise.extract import start_of
from nisd.optimise.model import build
from nisd.optimise.placement import Solved, solve_rounds
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.solve import ABS_GAP, Status
from nisd.records.plan import TieBreak

RULE = "fewer new sites, then more existing sites, then lower load-weighted latency"


def applies(pp: PlacementProblem, solved: Solved) -> bool:
    """Whether the rule runs after ``solved``: the cost objective, proved optimal, no war."""
    cfg = pp.config
    return (
        cfg.objective.ties == "rule"
        and cfg.objective.name == "cost"
        and not cfg.war.on
        and solved.result.status is Status.OPTIMAL
        and solved.result.objective is not None
    )


def tie_objective(
    m_y: dict[tuple[int, int], pulp.LpVariable],
    median: pulp.LpAffineExpression,
    pp: PlacementProblem,
    existing: np.ndarray,
) -> pulp.LpAffineExpression:
    """The rule as one weighted sum (see the module's docstring): ``(E + 2) × new −
    existing kept + median / (Σ load × max latency + 1)``, E the existing sites."""
    n_existing = int(existing.sum())
    scale = float(pp.load.sum() * (pp.latency.max() if pp.latency.size else 0.0)) + 1.0
    terms = [(v, float(-1 if existing[j] else n_existing + 2)) for (j, _t), v in m_y.items()]
    return pulp.LpAffineExpression(terms) + median * (1.0 / scale)


def counts(sites: dict[str, str], existing_ids: set[str]) -> tuple[int, int]:
    """(new sites, existing sites) of a plan."""
    kept = sum(1 for s in sites if s in existing_ids)
    return len(sites) - kept, kept


def existing_mask(pp: PlacementProblem) -> np.ndarray:
    """(J,) the sites that exist today (none when the problem does not say)."""
    if len(pp.existing) == pp.n_sites:
        return pp.existing.astype(bool)
    return np.zeros(pp.n_sites, dtype=bool)


def break_ties(pp: PlacementProblem, solved: Solved, t0: float) -> tuple[Solved, TieBreak]:
    """Among the plans of ``solved``'s proved cost, the first by :data:`RULE`.

    Returns the chosen plan (``solved`` itself when no other is better or the second
    solve stops without one) and the record of the step. The returned plan's result keeps
    the first solve's status, bound and gap (the cost's proof) with its own cost.
    """
    t_start = time.perf_counter()
    existing = existing_mask(pp)
    existing_ids = {s for s, e in zip(pp.site_ids, existing.tolist(), strict=True) if e}
    cost_star = float(solved.result.objective or 0.0)
    before = tuple(sorted(solved.sites))
    m = build(pp)
    m.add("tie_cost", m.terms["cost"] <= cost_star + max(ABS_GAP, 1e-9 * abs(cost_star)))
    objective = tie_objective(m.y, m.terms["median"], pp, existing)
    start = start_of(m, pp, solved.sites, solved.assign)
    try:
        out = solve_rounds(pp, m, t0, objective=objective, start=start, explain_infeasible=False)
    except NoSolutionError as exc:
        return solved, _record(
            before, before, solved, existing_ids, "kept", time.perf_counter() - t_start, str(exc)
        )
    if out.result.objective is None or _rank(out, existing_ids, pp) >= _rank(
        solved, existing_ids, pp
    ):
        status = "proved" if out.result.status is Status.OPTIMAL else "kept"
        return solved, _record(
            before, before, solved, existing_ids, status, time.perf_counter() - t_start
        )
    res = solved.result
    chosen = dataclasses.replace(
        solved,
        result=dataclasses.replace(
            res,
            objective=pp.site_cost(out.sites),
            seconds=res.seconds + sum(s.seconds for s in out.steps),
        ),
        sites=out.sites,
        assign=out.assign,
        model=out.model,
        steps=[*solved.steps, *out.steps],
        pp=pp,
    )
    status = "proved" if out.result.status is Status.OPTIMAL else "improved"
    return chosen, _record(
        before,
        tuple(sorted(out.sites)),
        chosen,
        existing_ids,
        status,
        time.perf_counter() - t_start,
    )


def _rank(s: Solved, existing_ids: set[str], pp: PlacementProblem) -> tuple[float, float, float]:
    """A plan's place under the rule (smaller first)."""
    new, kept = counts(s.sites, existing_ids)
    idx = {d: i for i, d in enumerate(pp.demand_ids)}
    sidx = {x: j for j, x in enumerate(pp.site_ids)}
    lat = sum(
        float(pp.load[idx[d]] * pp.latency[idx[d], sidx[v[0]]]) for d, v in s.assign.items() if v
    )
    return float(new), float(-kept), round(lat, 6)


def _record(
    before: tuple[str, ...],
    after: tuple[str, ...],
    chosen: Solved,
    existing_ids: set[str],
    status: str,
    seconds: float,
    note: str | None = None,
) -> TieBreak:
    new, kept = counts(chosen.sites, existing_ids)
    return TieBreak(
        rule=RULE,
        status=status,
        changed=before != after,
        sites_before=before,
        sites_after=after,
        new_sites=new,
        existing_sites=kept,
        seconds=round(seconds, 3),
        note=note,
    )
