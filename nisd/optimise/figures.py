"""A plan's key figures and the use of each site: one function for every plan, roll-out
year and alternative, so that a figure means the same wherever it is read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nisd.optimise.problem import PlacementProblem
from nisd.records.plan import ClassShare, Kpis, ScenarioRow, SiteUse


def kpis(
    pp: PlacementProblem, sites: Mapping[str, str], assign: Mapping[str, Sequence[str]]
) -> Kpis:
    """Cost, sites by type, users' latency to their primary site (load-weighted mean and
    max), and the smallest separations (of any two opened sites; of a user's primary and
    backup)."""
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    cost = sum(pp.cost[sidx[s], tidx[t]] for s, t in sites.items())
    on = [(i, d) for i, d in enumerate(pp.demand_ids) if assign.get(d)]
    prim = np.array([pp.latency[i, sidx[assign[d][0]]] for i, d in on])
    load = np.array([pp.load[i] for i, _d in on])
    js = sorted(sidx[s] for s in sites)
    seps = [pp.distance_km[a, b] for a in js for b in js if a < b]
    types: dict[str, int] = {}
    for t in sites.values():
        types[t] = types.get(t, 0) + 1
    return Kpis(
        sites=len(sites),
        cost_msek=round(float(cost), 6),
        mean_latency_ms=round(float((prim * load).sum() / max(load.sum(), 1e-12)), 6)
        if len(prim)
        else None,
        max_latency_ms=round(float(prim.max()), 6) if len(prim) else None,
        min_separation_km=round(float(min(seps)), 3) if seps else None,
        min_backup_separation_km=_backup_separation(pp, assign, sidx),
        types=dict(sorted(types.items())),
    )


def _backup_separation(
    pp: PlacementProblem, assign: Mapping[str, Sequence[str]], sidx: Mapping[str, int]
) -> float | None:
    """Smallest distance between a user's primary site and one of its backups (what
    ``separation_km`` binds; two opened sites that no user pairs may stand closer)."""
    best: float | None = None
    for seq in assign.values():
        js = [sidx[s] for s in seq if s in sidx]
        for b in js[1:]:
            d = float(pp.distance_km[js[0], b])
            best = d if best is None else min(best, d)
    return None if best is None else round(best, 3)


def site_use(
    pp: PlacementProblem,
    sites: Mapping[str, str],
    assign: Mapping[str, Sequence[str]],
    scen: Sequence[ScenarioRow],
) -> tuple[SiteUse, ...]:
    """Per opened site: capacity, primary load, backed-up load, busiest scenario."""
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    load = dict(zip(pp.demand_ids, pp.load, strict=True))
    out = []
    for s, t in sorted(sites.items()):
        prim = sum(load[d] for d, seq in assign.items() if seq and seq[0] == s)
        back = sum(load[d] for d, seq in assign.items() if s in seq[1:])
        peak, peak_name = prim, ""
        for row in scen:
            v = row.site_load.get(s)
            if v is not None and v > peak + 1e-6:
                peak, peak_name = v, row.scenario
        out.append(
            SiteUse(
                site_id=s,
                type=t,
                capacity=round(float(pp.capacity[sidx[s], tidx[t]]), 6),
                primary_load=round(float(prim), 6),
                backup_load=round(float(back), 6),
                peak_load=round(float(peak), 6),
                peak_scenario=peak_name,
            )
        )
    return tuple(out)


def worst_case(
    rows: Sequence[ScenarioRow], classes: Sequence[str]
) -> dict[str, float | str | bool | dict[str, ClassShare]]:
    """Worst served share over the scenarios: of all load, and per class (with the
    scenario); and whether every scenario's service levels hold."""
    worst = min(rows, key=lambda r: (r.demand_served_share, r.scenario))
    by_class: dict[str, ClassShare] = {}
    for c in classes:
        vals = [(r.served(c), r.scenario) for r in rows if r.served(c) is not None]
        if vals:
            v, n = min(vals)
            by_class[c] = ClassShare(share=float(v), scenario=n)  # type: ignore[arg-type]
    return {
        "worst_case_share_served": worst.demand_served_share,
        "worst_case_scenario": worst.scenario,
        "worst_case_by_class": by_class,
        "service_levels_met": all(r.levels_met is not False for r in rows),
    }


def plan_kpis(
    pp: PlacementProblem,
    sites: Mapping[str, str],
    assign: Mapping[str, Sequence[str]],
    rows: Sequence[ScenarioRow],
) -> tuple[Kpis, tuple[SiteUse, ...]]:
    """Every key figure of a plan, and the use of each site."""
    use = site_use(pp, sites, assign, rows)
    # what dedicated (1+1) backup would reserve: the protected part of every backed-up load
    protect = pp.backup_share()
    backups = np.array([max(0, len(assign.get(d, [])) - 1) for d in pp.demand_ids])
    update: dict[str, object] = {
        "capacity_racks": round(sum(u.capacity for u in use), 6),
        "primary_load_racks": round(sum(u.primary_load for u in use), 6),
        "dedicated_backup_racks": round(float((protect * pp.load * backups).sum()), 6),
    }
    if rows:
        update.update(worst_case(rows, pp.classes))
    return kpis(pp, sites, assign).model_copy(update=update), use
