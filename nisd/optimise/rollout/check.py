"""The links between a roll-out's years, recomputed from its plans alone (not from the
model): schedules, capital per year, migrations, and the checker of them all."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nisd.config import RolloutConfig
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.rollout.years import Year, YearPlan
from nisd.records.rollout import Move, ScheduleRow

TOL = 1e-6


@dataclass(frozen=True)
class Service:
    """A site's type, first and last year in service, and whether it existed before."""

    type: str
    first: int
    last: int
    existing: bool


def service_years(ro: RolloutConfig, plans: Sequence[YearPlan]) -> dict[str, Service]:
    """Per site ever in service: its type, first and last year in service, and whether it
    existed before the roll-out."""
    seen: dict[str, tuple[str, int, int]] = {}
    for yp in plans:
        for s, t in yp.sites.items():
            typ, first, _last = seen.get(s, (t, yp.year, yp.year))
            seen[s] = (typ, first, yp.year)
    return {s: Service(t, a, b, s in ro.existing) for s, (t, a, b) in seen.items()}


def site_schedule(
    ro: RolloutConfig, plans: Sequence[YearPlan], names: Mapping[str, str] | None = None
) -> list[ScheduleRow]:
    """Per site: type, construction years, in service from/to, capital (from the plan alone)."""
    names = names or {}
    out = []
    for s, sv in sorted(service_years(ro, plans).items()):
        lead = 0 if sv.existing else ro.lead_time_years.get(sv.type, 0)
        out.append(
            ScheduleRow(
                site_id=s,
                name=names.get(s, s),
                type=sv.type,
                existing=sv.existing,
                construction_from=None if sv.existing else sv.first - lead,
                in_service_from=ro.first_year if sv.existing else sv.first,
                in_service_to=sv.last,
                closes=sv.last + 1 if sv.last < ro.last_year else None,
                capital_msek=0.0 if sv.existing else ro.capital_cost_msek.get(sv.type, 0.0),
            )
        )
    return out


def capital_by_year(ro: RolloutConfig, plans: Sequence[YearPlan]) -> dict[int, float]:
    """Capital spent each year, from the plan's service years alone (the checker's sum)."""
    spend = {y: 0.0 for y in ro.years}
    for s in site_schedule(ro, plans):
        if s.existing:
            continue
        lead = ro.lead_time_years.get(s.type, 0)
        if lead == 0:
            spend[s.in_service_from] += s.capital_msek
        else:
            for y in range(s.in_service_from - lead, s.in_service_from):
                spend[y] += s.capital_msek / lead
    return spend


def migrations(plans: Sequence[YearPlan]) -> dict[int, list[Move]]:
    """Per year, the users on board the year before whose primary site changed."""
    out: dict[int, list[Move]] = {plans[0].year: []} if plans else {}
    for before, now in itertools.pairwise(plans):
        moved = []
        for d, seq in sorted(now.assign.items()):
            old = before.assign.get(d)
            if old and seq and old[0] != seq[0]:
                moved.append(Move(demand_id=d, from_site=old[0], to_site=seq[0]))
        out[now.year] = moved
    return out


def running_cost(pp: PlacementProblem, sites: Mapping[str, str], ro: RolloutConfig) -> float:
    """A year's running cost: each site's annual cost (with its hazard penalty), less the
    build's annuity that a roll-out pays as capital instead."""
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    return float(
        sum(
            pp.cost[sidx[s], tidx[t]] + pp.hazard_penalty[sidx[s]] - ro.annuity(t)
            for s, t in sites.items()
        )
    )


def check_rollout(years: Sequence[Year], ro: RolloutConfig, plans: Sequence[YearPlan]) -> list[str]:
    """The links between years, recomputed from the plans alone (not from the model):
    lead times, built sites stay open, existing sites and closures, who is on board,
    capital and operating budgets, migrations per year."""
    out: list[str] = []
    first = ro.first_year
    by_year = {yp.year: yp for yp in plans}
    for before, now in itertools.pairwise(plans):
        for s, t in before.sites.items():
            if s in ro.existing:
                continue
            if now.sites.get(s) != t:
                out.append(f"{now.year}: {s} ({t}) was in service in {before.year} and is not")
    for s, ex in ro.existing.items():
        for yp in plans:
            due = ex.close is not None and yp.year >= ex.close
            got = yp.sites.get(s)
            if due and got is not None:
                out.append(f"{yp.year}: existing site {s} should be closed from {ex.close}")
            if got is not None and got != ex.type:
                out.append(f"{yp.year}: existing site {s} runs as {got}, not {ex.type}")
            if not due and not ex.may_close and got is None:
                out.append(f"{yp.year}: existing site {s} may not close before {ex.close}")
    for rec in site_schedule(ro, plans):
        if rec.existing:
            continue
        lead = ro.lead_time_years.get(rec.type, 0)
        if rec.in_service_from < first + lead:
            out.append(
                f"{rec.site_id} in service from {rec.in_service_from}, before its "
                f"{lead}-year construction from {first} could end"
            )
    for yr in years:
        yp = by_year[yr.year]
        ids = {d.demand_id for d in yr.ds.demand}
        if set(yp.assign) != ids:
            out.append(f"{yr.year}: users served {sorted(set(yp.assign) ^ ids)[:5]} differ")
    cap = ro.per_year("capital_budget_msek")
    spend = capital_by_year(ro, plans)
    if cap is not None:
        for y, v in spend.items():
            if v > cap[y] + TOL:
                out.append(f"{y}: capital {v:.3f} MSEK exceeds the budget {cap[y]:g}")
    ope = ro.per_year("operating_budget_msek")
    if ope is not None:
        for yr in years:
            run = running_cost(yr.pp, by_year[yr.year].sites, ro)
            if run > ope[yr.year] + TOL:
                out.append(
                    f"{yr.year}: running cost {run:.3f} MSEK exceeds the budget {ope[yr.year]:g}"
                )
    if ro.max_migrations_per_year is not None:
        for y, moved in migrations(plans).items():
            if len(moved) > ro.max_migrations_per_year:
                out.append(
                    f"{y}: {len(moved)} migrations, at most {ro.max_migrations_per_year} allowed"
                )
    return out
