"""Why no roll-out exists: which year, which requirement, by how much.

Each year's data-visible reasons first (:func:`nisd.optimise.explain.precheck`),
then an elastic re-solve of the whole roll-out: a non-negative slack on every
year's soft rows (those of a static plan, :data:`nisd.optimise.explain.ELASTIC`)
and on the rows that link the years (capital and operating budgets, migrations
per year), minimising the total slack. A row with positive slack is what must
give, in that year, by that much (MSEK for a budget).
"""

from __future__ import annotations

from collections import defaultdict

import pulp

from nisd.config import PlanConfig
from nisd.optimise.explain import (
    ELASTIC,
    WEIGHT,
    _describe,
    add_slacks,
    elastic_options,
    precheck,
)
from nisd.optimise.rollout.model import RolloutModel
from nisd.optimise.solve import Status, solve

LINKING = {
    "capital_budget": "capital budget short by {v:g} MSEK",
    "operating_budget": "operating budget short by {v:g} MSEK",
    "migration_cap": "{v:g} more migration(s) than the yearly limit",
}


def explain_rollout(rm: RolloutModel, cfg: PlanConfig) -> list[str]:
    """Every reason found, each naming its year."""
    out: list[str] = []
    for yr in rm.years:
        out += [f"{yr.year}: {r}" for r in precheck(yr.pp)[:5]]
    owner: dict[str, tuple[int, str, tuple[str, ...]]] = {}
    for name, (family, year) in rm.rows.items():
        if family in LINKING:
            owner[name] = (year, family, ())
    for year, m in rm.models.items():
        for name, info in m.rows.items():
            if info.family in ELASTIC or info.family == "cover_cut":
                owner[name] = (year, info.family, info.what)
    sides = add_slacks(rm.prob, list(owner), "rs")
    # first: with every requirement held, by how much must the budgets and the limit on
    # moves give (a steering group's question: how much more money, in which year)?
    money = {n for n in sides if owner[n][1] in LINKING}
    budget_lines = _phase(rm, cfg, sides, owner, money)
    # then: with the budgets held, which requirements must give, in which year
    need_lines = _phase(rm, cfg, sides, owner, set(sides) - money)
    if budget_lines is not None:
        out += ["with every requirement kept, the budget must grow:", *budget_lines]
    if need_lines is not None:
        out += ["with the budget kept, these requirements must give:", *need_lines]
    if budget_lines is None and need_lines is None:
        out.append("neither the budgets alone nor the requirements alone can give way")
    return out


def _phase(
    rm: RolloutModel,
    cfg: PlanConfig,
    sides: dict[str, list[pulp.LpVariable]],
    owner: dict[str, tuple[int, str, tuple[str, ...]]],
    free: set[str],
) -> list[str] | None:
    """Minimise the slack of the rows ``free`` (the others' slack held at 0); the rows
    that give, by year; None when even that finds no answer."""
    for name, vs in sides.items():
        for v in vs:
            v.upBound = None if name in free else 0.0
    rm.prob.setObjective(
        pulp.lpSum(
            WEIGHT.get(owner[n][1], 1.0) * v for n, vs in sides.items() if n in free for v in vs
        )
    )
    opts, limit = elastic_options(cfg.solver)
    res = solve(rm.prob, opts)
    if res.status not in (Status.OPTIMAL, Status.FEASIBLE):
        return None
    out: list[str] = []
    if res.status is Status.FEASIBLE:
        out.append(f"  (the least change found in {limit:g} s, not proved the least)")
    found: dict[tuple[int, str], list[str]] = defaultdict(list)
    for name, vs in sides.items():
        if name not in free:
            continue
        v = sum(x.value() or 0.0 for x in vs)
        if v <= 1e-6:
            continue
        year, family, what = owner[name]
        text = LINKING[family].format(v=v) if family in LINKING else _describe(family, what, v)
        found[year, family].append(text)
    for (year, family), items in sorted(found.items()):
        more = f" (and {len(items) - 6} more)" if len(items) > 6 else ""
        out.append(f"  {year}: {family}: " + "; ".join(sorted(items)[:6]) + more)
    return out
