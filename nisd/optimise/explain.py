"""Why no plan exists: exact pre-checks, then an elastic re-solve, in the user's terms.

1. Pre-checks read the data directly: a demand point with no allowed site
   within its primary bound, or too few within its backup bound far enough
   from every primary candidate; a crisis scenario leaving a critical demand
   point with no surviving site in time. Each names the nearest alternative
   and how far off it is.
2. The elastic re-solve adds a non-negative slack to every soft row
   (assignment, count, budget, capacity, per-region minimum and maximum,
   replication, crisis) and minimises the total slack, a user left unserved
   weighing ten times a unit of the others: the rows whose slack is positive
   are what must give, and the slack is by how much.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pulp

from nisd.config import SolverOptions
from nisd.optimise.model import add_crisis_flow, build
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.solve import Status, solve
from nisd.topology.latency import in_time

# the elastic re-solve's time limit: an explanation should not take longer than a plan
ELASTIC_SECONDS = 60.0
# Dropping a user's service is the last resort: its slack weighs more than relaxing a
# count, budget or capacity by one unit, so those are proposed first.
WEIGHT = {"assign": 10.0, "crisis": 10.0, "crisis_level": 10.0, "crisis_data": 10.0}

ELASTIC = (
    "assign",
    "count_exact",
    "count_min",
    "count_max",
    "budget",
    "capacity",
    "min_per_macroregion",
    "min_per_power_zone",
    "max_per_county",
    "replication",
    "crisis",
    "crisis_level",
    "crisis_data",
    "dedicated_backup",
    "required",
    "presence",
    "presence_partner",
)


def precheck(pp: PlacementProblem) -> list[str]:
    """Reasons visible without a solver, nearest alternatives named."""
    out: list[str] = []
    cfg = pp.config
    ok_sites = np.nonzero(pp.allowed & np.isfinite(pp.cost).any(axis=1))[0]
    if len(ok_sites) == 0:
        return ["no candidate site may be built (all forbidden or inside hazard buffers)"]
    conflict = pp.conflict()
    names = pp.site_names
    for i, d in enumerate(pp.demand_ids):
        types = pp.protected_types(i)
        if not any(np.isfinite(pp.cost[j, t]) for j in ok_sites for t in types):
            out.append(
                f"{pp.demand_names[i]} ({d}): needs protection level "
                f"{int(pp.demand_protection[i])}; no allowed site may be built as a type "
                "that protected"
            )
            continue
        lat = pp.latency[i, ok_sites]
        order = ok_sites[np.argsort(lat, kind="stable")]
        prim = [j for j in order if in_time(pp.latency[i, j], pp.primary_ms[i])]
        if not prim:
            j = order[0]
            out.append(
                f"{pp.demand_names[i]} ({d}): no site within {pp.primary_ms[i]:g} ms; "
                f"the nearest is {names[j]} at {pp.latency[i, j]:.2f} ms"
            )
            continue
        if cfg.k >= 2:
            back = [j for j in order if in_time(pp.latency[i, j], pp.backup_ms[i])]
            pairs = [(a, b) for a in prim for b in back if b != a and not conflict[a, b]]
            if len(back) < cfg.k or not pairs:
                far = [
                    j for j in order if all(not conflict[a, j] for a in prim[:1]) and j != prim[0]
                ]
                alt = (
                    f"; the nearest site far enough from {names[prim[0]]} is {names[far[0]]}"
                    f" at {pp.latency[i, far[0]]:.2f} ms "
                    f"({pp.distance_km[prim[0], far[0]]:.0f} km)"
                    if far
                    else ""
                )
                out.append(
                    f"{pp.demand_names[i]} ({d}): no second site within "
                    f"{pp.backup_ms[i]:g} ms that is at least "
                    f"{cfg.separation_km or 0:g} km from a primary candidate{alt}"
                )
    for row in pp.crisis_rows:
        if not row.sites:
            i = row.demand
            lat = pp.crisis_latency[row.scenario].row(i)
            up = np.nonzero(pp.crisis_up[row.scenario] & pp.allowed)[0]
            near = up[np.argmin(lat[up])] if len(up) and np.isfinite(lat[up]).any() else None
            alt = (
                ""
                if near is None
                else (f"; the nearest surviving site is {names[near]} at {lat[near]:.2f} ms")
            )
            out.append(
                f"{row.scenario}: critical {pp.demand_names[i]} ({pp.demand_ids[i]}) "
                f"has no surviving site within {pp.crisis_ms[i]:g} ms{alt}"
            )
    return out


def elastic(pp: PlacementProblem, flow_scenarios: Sequence[str] = ()) -> list[str]:
    """Minimum total slack over the soft rows; the rows that must give, grouped by family.

    ``flow_scenarios``: the scenarios whose capacity-true rows were in the model
    that was proved infeasible.
    """
    m = build(pp)
    add_crisis_flow(m, pp, list(flow_scenarios))
    names = [n for n, info in m.rows.items() if info.family in ELASTIC]
    slacks = add_slacks(m.prob, names, "s")
    m.prob.setObjective(
        pulp.lpSum(WEIGHT.get(m.rows[n].family, 1.0) * v for n, vs in slacks.items() for v in vs)
    )
    opts, limit = elastic_options(pp.config.solver)
    res = solve(m.prob, opts)
    if res.status not in (Status.OPTIMAL, Status.FEASIBLE):
        return [f"the elastic re-solve found no answer in {limit:g} s ({res.status.value})"]
    by_family: dict[str, list[str]] = defaultdict(list)
    for name, vs in slacks.items():
        v = sum(x.value() or 0.0 for x in vs)
        if v <= 1e-6:
            continue
        info = m.rows[name]
        by_family[info.family].append(_describe(info.family, info.what or (name,), v))
    out = []
    if res.status is Status.FEASIBLE:
        out.append(f"(the least slack found in {limit:g} s, not proved the least)")
    for family in sorted(by_family):
        items = sorted(by_family[family])
        more = f" (and {len(items) - 8} more)" if len(items) > 8 else ""
        out.append(f"{family}: " + "; ".join(items[:8]) + more)
    return out


def add_slacks(
    prob: pulp.LpProblem, names: Sequence[str], tag: str
) -> dict[str, list[pulp.LpVariable]]:
    """Make the rows ``names`` of ``prob`` elastic: a non-negative slack on the side that
    relaxes an inequality, one on each side of an equation. Row name → its slacks."""
    keep = set(names)
    out: dict[str, list[pulp.LpVariable]] = {}
    for k, (name, con) in enumerate(list(prob.constraints.items())):
        if name not in keep:
            continue
        if con.sense == pulp.LpConstraintEQ:
            sp = pulp.LpVariable(f"{tag}p_{k}", lowBound=0)
            sm = pulp.LpVariable(f"{tag}m_{k}", lowBound=0)
            con.expr.addterm(sp, 1.0)
            con.expr.addterm(sm, -1.0)
            out[name] = [sp, sm]
        else:
            sv = pulp.LpVariable(f"{tag}_{k}", lowBound=0)
            con.expr.addterm(sv, 1.0 if con.sense == pulp.LpConstraintGE else -1.0)
            out[name] = [sv]
    return out


def elastic_options(opts: SolverOptions) -> tuple[SolverOptions, float]:
    """The solver options of an elastic re-solve: at most :data:`ELASTIC_SECONDS`."""
    limit = min(opts.time_limit or ELASTIC_SECONDS, ELASTIC_SECONDS)
    return opts.model_copy(update={"time_limit": limit}), limit


def _describe(family: str, what: tuple[str, ...], v: float) -> str:
    if family == "assign" and len(what) == 2:
        d, r = what
        rank = "primary" if r == "0" else f"backup {r}"
        return f"{d} gets no {rank} site"
    if family == "crisis" and len(what) == 2:
        return f"{what[0]}: {what[1]} unserved"
    if family == "crisis_level" and len(what) == 2:
        return f"{what[0]}: {what[1]} load short by {v:g} racks"
    label = " ".join(what)
    if family == "capacity":
        return f"{label} short by {v:g} racks"
    if family == "budget":
        return f"{label} exceeded by {v:g} MSEK"
    return f"{label} missed by {v:g}"


def explain(pp: PlacementProblem, flow_scenarios: Sequence[str] = ()) -> list[str]:
    """Every reason found: pre-checks first, then the elastic re-solve's."""
    pre = precheck(pp)
    if len(pre) > 15:
        pre = [*pre[:15], f"... and {len(pre) - 15} more demand points or scenarios like these"]
    return pre + [f"elastic re-solve: {x}" for x in elastic(pp, flow_scenarios)]


def what_must_give(reasons: Sequence[str]) -> str:
    """The reasons as the tail of an infeasibility message (empty when there are none)."""
    return "" if not reasons else " What must give:\n  " + "\n  ".join(reasons)
