"""The independent checker: every active constraint, recomputed from the data.

It does not read the MILP. Latency comes from the fibre graph, distances
from the metric CRS, failures from :mod:`nisd.topology.resilience`; a plan
that fails any check is an error, never a result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from nisd.optimise.problem import PlacementProblem

TOL = 1e-6
"""Absolute tolerance for latencies and costs; sums of load are checked to ``TOL`` relative
to the capacity (the solver's own feasibility tolerance is of that order, and a load
150.000001 on 150 racks is a rounding of the data, not an overload)."""


def check_plan(
    pp: PlacementProblem,
    sites: Mapping[str, str],
    assignments: Mapping[str, Sequence[str]],
) -> list[str]:
    """Violations of ``pp.config`` by a plan; an empty list means the plan is valid.

    Parameters
    ----------
    pp : PlacementProblem
    sites : mapping
        Opened site id → type id.
    assignments : mapping
        Demand id → ordered site ids (primary first).
    """
    cfg = pp.config
    out: list[str] = []
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    for s, t in sites.items():
        if s not in sidx:
            out.append(f"opened site {s!r} is not a candidate")
        elif t not in tidx or not np.isfinite(pp.cost[sidx[s], tidx[t]]):
            out.append(f"site {s}: type {t!r} is not allowed there")
        elif not pp.allowed[sidx[s]]:
            out.append(f"site {s} is forbidden, inside a hazard buffer or too near a land border")
    if out:
        return out
    opened = {sidx[s] for s in sites}
    n = len(opened)
    lo = cfg.p if cfg.p is not None else cfg.p_min
    hi = cfg.p if cfg.p is not None else cfg.p_max
    if lo is not None and n < lo:
        out.append(f"{n} sites opened, at least {lo} required")
    if hi is not None and n > hi:
        out.append(f"{n} sites opened, at most {hi} allowed")
    cost = pp.site_cost(sites)
    if cfg.budget_msek is not None and cost > cfg.budget_msek + TOL:
        out.append(f"cost {cost:.3f} MSEK exceeds the budget {cfg.budget_msek:g}")
    for j in np.nonzero(pp.required)[0]:
        if int(j) not in opened:
            out.append(f"required site {pp.site_ids[j]} is not opened")
    for group in pp.workload_groups():
        first = list(assignments.get(pp.demand_ids[group[0]], []))
        for b in group[1:]:
            other = list(assignments.get(pp.demand_ids[b], []))
            if other != first:
                out.append(
                    f"{pp.demand_ids[b]}: sites {other} differ from those of "
                    f"{pp.demand_ids[group[0]]} {first}, a user of the same workload "
                    f"{pp.workload[b]}"
                )
    conflict = pp.conflict()
    primary_load: Counter[int] = Counter()
    # dedicated (1+1) backup: a site holds its primary load and the protected share of
    # every user it backs up (the largest share any scenario asks of the user's class)
    dedicated = bool(pp.scenarios) and cfg.crisis.backup == "dedicated"
    reserved: Counter[int] = Counter()
    protect = pp.backup_share()
    for i, d in enumerate(pp.demand_ids):
        seq = list(assignments.get(d, []))
        if len(seq) != cfg.k:
            out.append(f"{d}: {len(seq)} assigned sites, {cfg.k} required")
            continue
        if len(set(seq)) != len(seq):
            out.append(f"{d}: assigned sites are not distinct")
        js = []
        for s in seq:
            if s not in sidx or sidx[s] not in opened:
                out.append(f"{d}: assigned site {s} is not opened")
            else:
                js.append(sidx[s])
        if len(js) != len(seq):
            continue
        primary_load[js[0]] += pp.load[i]
        reserved[js[0]] += pp.load[i]
        for jb in js[1:]:
            reserved[jb] += protect[i] * pp.load[i]
        if cfg.protection and len(pp.demand_protection) and pp.demand_protection[i] > 0:
            need = int(pp.demand_protection[i])
            for s in seq:
                have = int(pp.type_protection[tidx[sites[s]]])
                if have < need:
                    out.append(
                        f"{d}: needs protection level {need}, but {s} is built as "
                        f"{sites[s]} (level {have})"
                    )
        if pp.latency[i, js[0]] > pp.primary_ms[i] + TOL:
            out.append(
                f"{d}: primary {seq[0]} at {pp.latency[i, js[0]]:.2f} ms exceeds "
                f"{pp.primary_ms[i]:g} ms"
            )
        for r, jb in enumerate(js[1:], start=1):
            if pp.latency[i, jb] > pp.backup_ms[i] + TOL:
                out.append(
                    f"{d}: backup {r} {seq[r]} at {pp.latency[i, jb]:.2f} ms exceeds "
                    f"{pp.backup_ms[i]:g} ms"
                )
            if conflict[js[0], jb]:
                out.append(
                    f"{d}: primary {seq[0]} and backup {seq[r]} are too close "
                    f"({pp.distance_km[js[0], jb]:.0f} km) or share a county, zone or "
                    "hazard area"
                )
    if cfg.capacity:
        grow, util = 1.0 + cfg.growth, cfg.utilisation_cap
        for jj, used in primary_load.items():
            cap = pp.capacity[jj, tidx[sites[pp.site_ids[jj]]]]
            if used * grow > util * cap + TOL * max(1.0, cap):
                room = (
                    ""
                    if (grow, util) == (1.0, 1.0)
                    else (f" (with {cfg.growth:.0%} growth, at most {util:.0%} used)")
                )
                out.append(
                    f"site {pp.site_ids[jj]}: primary load {used:g} exceeds capacity {cap:g}" + room
                )
    if dedicated:
        for jj, used in sorted(reserved.items()):
            cap = pp.capacity[jj, tidx[sites[pp.site_ids[jj]]]]
            if used > cap + TOL * max(1.0, cap):
                out.append(
                    f"site {pp.site_ids[jj]}: primary and protected backed-up load {used:g} "
                    f"exceeds capacity {cap:g} (dedicated backup)"
                )
    ol = sorted(opened)
    for n, pr in enumerate(cfg.presence):
        inside = [j for j in pp.presence_sites(n) if j in opened]
        if len(inside) < pr.min:
            out.append(f"presence {pr.name}: {len(inside)} site(s) opened there, {pr.min} required")
        elif pr.partner_km is not None and not any(
            pp.distance_km[j, jj] <= pr.partner_km + TOL for j in inside for jj in ol if jj != j
        ):
            out.append(
                f"presence {pr.name}: no opened site there has another within {pr.partner_km:g} km"
            )
    if cfg.min_site_distance_km:
        for a in ol:
            for b in ol:
                if a < b and pp.distance_km[a, b] < cfg.min_site_distance_km:
                    out.append(
                        f"sites {pp.site_ids[a]} and {pp.site_ids[b]} are "
                        f"{pp.distance_km[a, b]:.0f} km apart, under "
                        f"{cfg.min_site_distance_km:g} km"
                    )
    for attr, bound, label in (
        (pp.macroregion, cfg.min_per_macroregion, "macroregion"),
        (pp.power_zone, cfg.min_per_power_zone, "power zone"),
    ):
        if bound:
            counts = Counter(attr[j] for j in ol)
            for v in sorted({x for x in attr if x is not None}):
                if counts[v] < bound:
                    out.append(f"{label} {v}: {counts[v]} sites, at least {bound} required")
    if cfg.max_per_county:
        per_county = Counter(pp.county[j] for j in ol)
        for cty, c in sorted(per_county.items(), key=lambda x: str(x[0])):
            if cty is not None and c > cfg.max_per_county:
                out.append(f"county {cty}: {c} sites, at most {cfg.max_per_county} allowed")
    if cfg.replication_ms is not None:
        for a in ol:
            if not any(b != a and pp.site_latency[a, b] <= cfg.replication_ms + TOL for b in ol):
                out.append(
                    f"site {pp.site_ids[a]} has no replication partner within "
                    f"{cfg.replication_ms:g} ms"
                )
    out.extend(_check_crisis(pp, opened, sites, tidx))
    return out


def _check_crisis(
    pp: PlacementProblem, opened: set[int], sites: Mapping[str, str], tidx: Mapping[str, int]
) -> list[str]:
    """After each scenario, every point of a class served in full reaches a surviving site.

    (Capacity is re-checked by the served-load evaluator, over the graph.)
    """
    out = []
    skip = set(pp.cut_off)
    for sc in pp.scenarios:
        lat = pp.crisis_latency[sc.name]
        up = pp.crisis_up[sc.name]
        full = pp.scenario_levels[sc.name][pp.rank] >= 1.0 - 1e-9
        usable = [j for j in sorted(opened) if up[j]]
        ok = (lat.columns(usable) <= pp.crisis_ms[:, None] + TOL).any(axis=1)
        for i in np.nonzero(full & ~ok)[0]:
            if (sc.name, pp.demand_ids[i]) not in skip:
                out.append(
                    f"{sc.name}: {pp.demand_ids[i]} ({pp.classes[pp.rank[i]]}, served in full) "
                    f"has no surviving site within {pp.crisis_ms[i]:g} ms"
                )
    return out
