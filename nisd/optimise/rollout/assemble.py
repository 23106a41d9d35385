"""A checked roll-out's records: each year's readiness and figures, the site schedule and
the totals, computed from the plans alone (the one computation every command, page and
file reads), and the checks that do not read the model."""

from __future__ import annotations

from collections.abc import Sequence

from nisd.config import PlanConfig, RolloutConfig
from nisd.dataset import Dataset
from nisd.optimise.figures import kpis, plan_kpis
from nisd.optimise.problem import from_dataset
from nisd.optimise.rollout.check import (
    capital_by_year,
    check_rollout,
    migrations,
    running_cost,
    site_schedule,
)
from nisd.optimise.rollout.years import END_STATE, Year, YearPlan, rollout_of, year_config
from nisd.optimise.verify import evaluate_plan, violations
from nisd.records.rollout import (
    Move,
    Readiness,
    ScheduleRow,
    Totals,
    YearBudget,
    YearCost,
    YearRow,
)
from nisd.topology import build_graph
from nisd.topology.scenarios import scenario_sets


def readiness(ds: Dataset, cfg: PlanConfig, yr: Year, yp: YearPlan) -> Readiness:
    """Which of the scenario's crisis sets hold in a year, and the worst served share by
    class: every set evaluated (not only the required ones), by the served-load
    evaluator over the surviving fibre graph."""
    every = cfg.crisis.set_names()
    if not every or not yr.ds.demand:
        return Readiness(required=yr.sets)
    full = year_config(cfg, yr.year, every).model_copy(update=END_STATE)
    pp = from_dataset(yr.ds, full)
    g = build_graph(yr.ds)
    rows = evaluate_plan(yr.ds, pp, yp.sites, yp.assign, g)
    met = {r.scenario: r.levels_met is not False for r in rows}
    holds = {}
    for s in every:
        names = [sc.name for sc in scenario_sets(yr.ds, g, [s])]
        holds[s] = all(met.get(n, True) for n in names)
    k, _use = plan_kpis(pp, yp.sites, yp.assign, rows)
    return Readiness(
        required=yr.sets,
        holds=holds,
        worst_by_class=k.worst_case_by_class,
        worst_share_served=k.worst_case_share_served,
    )


def year_cost(ro: RolloutConfig, yr: Year, yp: YearPlan, capital: float, moves: int) -> YearCost:
    """One year's cost from its plan: running (the sites in service), capital (spent on
    construction that year) and migration, and the total discounted to the first year."""
    running = running_cost(yr.pp, yp.sites, ro)
    disc = (1.0 + ro.discount_rate) ** -(yr.year - ro.first_year)
    total = running + capital + ro.migration_cost_msek * moves
    return YearCost(
        running=round(running, 6),
        capital=round(capital, 6),
        migration=round(ro.migration_cost_msek * moves, 6),
        total=round(total, 6),
        discounted=round(disc * total, 6),
    )


def discounted_cost(ro: RolloutConfig, years: Sequence[Year], plans: Sequence[YearPlan]) -> float:
    """A roll-out's discounted cost from its plans: the ``totals.discounted_cost_msek``
    that :func:`assemble` records, without the readiness and figures of every year."""
    spend = capital_by_year(ro, list(plans))
    moved = migrations(list(plans))
    return round(
        sum(
            year_cost(ro, yr, yp, spend[yr.year], len(moved[yr.year])).discounted
            for yr, yp in zip(years, plans, strict=True)
        ),
        6,
    )


def year_record(
    ds: Dataset,
    cfg: PlanConfig,
    yr: Year,
    yp: YearPlan,
    before: YearPlan | None,
    capital: float,
    moved: Sequence[Move],
) -> YearRow:
    """Everything a steering group reads about one year (every figure from the plan)."""
    ro = rollout_of(cfg)
    sidx = {s: j for j, s in enumerate(yr.pp.site_ids)}
    tidx = {t: k for k, t in enumerate(yr.pp.type_ids)}
    return YearRow(
        year=yr.year,
        sites=dict(sorted(yp.sites.items())),
        opened=tuple(sorted(s for s in yp.sites if before is None or s not in before.sites)),
        closed=tuple(sorted(s for s in (before.sites if before else {}) if s not in yp.sites)),
        assignments={d: tuple(v) for d, v in sorted(yp.assign.items())},
        onboarded=tuple(sorted(d for d in yp.assign if before is None or d not in before.assign)),
        migrations=tuple(moved),
        load_racks=round(float(yr.pp.load.sum()), 6),
        capacity_racks=round(
            float(sum(yr.pp.capacity[sidx[s], tidx[t]] for s, t in yp.sites.items())), 6
        ),
        cost_msek=year_cost(ro, yr, yp, capital, len(moved)),
        budget_msek=YearBudget(
            capital=(ro.per_year("capital_budget_msek") or {}).get(yr.year),
            operating=(ro.per_year("operating_budget_msek") or {}).get(yr.year),
        ),
        readiness=readiness(ds, cfg, yr, yp),
        kpis=kpis(yr.pp, yp.sites, yp.assign) if yp.sites else kpis(yr.pp, {}, {}),
    )


def checked(years: Sequence[Year], ro: RolloutConfig, plans: Sequence[YearPlan]) -> list[str]:
    """What is wrong with a roll-out's plans, by code that does not read the model: the
    links between years (:func:`check_rollout`) and each year by the checker and the
    served-load evaluator."""
    found = check_rollout(list(years), ro, list(plans))
    for yr, yp in zip(years, plans, strict=True):
        _rows, wrong = violations(yr.ds, yr.pp, yp.sites, yp.assign)
        found += [f"{yr.year}: {v}" for v in wrong]
    return found


def assemble(
    ds: Dataset, cfg: PlanConfig, years: Sequence[Year], plans: Sequence[YearPlan]
) -> tuple[list[YearRow], list[ScheduleRow], Totals]:
    """A checked roll-out's year records, site schedule and totals (every figure from the
    plans: the one computation every command, page and file reads)."""
    ro = rollout_of(cfg)
    spend = capital_by_year(ro, list(plans))
    moved = migrations(list(plans))
    records = [
        year_record(ds, cfg, yr, yp, plans[n - 1] if n else None, spend[yr.year], moved[yr.year])
        for n, (yr, yp) in enumerate(zip(years, plans, strict=True))
    ]
    schedule = site_schedule(ro, list(plans), {s.site_id: s.name for s in ds.sites})
    totals = Totals(
        discounted_cost_msek=round(sum(r.cost_msek.discounted for r in records), 6),
        cost_msek=round(sum(r.cost_msek.total for r in records), 6),
        capital_msek=round(sum(r.cost_msek.capital for r in records), 6),
        running_msek=round(sum(r.cost_msek.running for r in records), 6),
        migrations=sum(len(r.migrations) for r in records),
    )
    return records, schedule, totals
