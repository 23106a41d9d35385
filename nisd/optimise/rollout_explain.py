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
from typing import TYPE_CHECKING

import pulp

from nisd.optimise.config import PlanConfig
from nisd.optimise.explain import ELASTIC, _describe, precheck
from nisd.optimise.solve import Status, solve

if TYPE_CHECKING:
    from nisd.optimise.rollout import RolloutModel

LINKING = {
    "capital_budget": "capital budget exceeded by {v:g} MSEK",
    "operating_budget": "operating budget exceeded by {v:g} MSEK",
    "migration_cap": "{v:g} more migration(s) than the yearly limit",
}
# dropping a user or a crisis requirement is the last resort (as for a static plan)
WEIGHT = {"assign": 10.0, "crisis": 10.0, "crisis_level": 10.0, "crisis_data": 10.0}


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
    slacks: dict[str, pulp.LpVariable] = {}
    sides: dict[str, list[pulp.LpVariable]] = {}
    for k, (name, con) in enumerate(list(rm.prob.constraints.items())):
        if name not in owner:
            continue
        if con.sense == pulp.LpConstraintEQ:
            sp = pulp.LpVariable(f"rsp_{k}", lowBound=0)
            sm = pulp.LpVariable(f"rsm_{k}", lowBound=0)
            con.expr.addterm(sp, 1.0)
            con.expr.addterm(sm, -1.0)
            sides[name] = [sp, sm]
        else:
            s = pulp.LpVariable(f"rs_{k}", lowBound=0)
            con.expr.addterm(s, 1.0 if con.sense == pulp.LpConstraintGE else -1.0)
            sides[name] = [s]
    for name, vs in sides.items():
        slacks[name] = vs[0]
    rm.prob.setObjective(
        pulp.lpSum(WEIGHT.get(owner[n][1], 1.0) * v for n, vs in sides.items() for v in vs)
    )
    res = solve(rm.prob, cfg.solver)
    if res.status not in (Status.OPTIMAL, Status.FEASIBLE):
        return [*out, f"the elastic re-solve found no answer ({res.status.value})"]
    found: dict[tuple[int, str], list[str]] = defaultdict(list)
    for name, vs in sides.items():
        v = sum(x.value() or 0.0 for x in vs)
        if v <= 1e-6:
            continue
        year, family, what = owner[name]
        text = LINKING[family].format(v=v) if family in LINKING else _describe(family, what, v)
        found[year, family].append(text)
    for (year, family), items in sorted(found.items()):
        more = f" (and {len(items) - 6} more)" if len(items) > 6 else ""
        out.append(f"{year}: {family}: " + "; ".join(sorted(items)[:6]) + more)
    return out
