"""Program 2032 over time: the multi-period placement model (a roll-out).

Dynamic facility location (Wesolowsky 1973; Van Roy & Erlenkotter 1982) in the
named-family style of :mod:`nisd.optimise.model`: each year u of the roll-out is
a whole placement model (built by :func:`nisd.optimise.model.build` into one
shared problem, names prefixed ``t<u>_``) over the users on board that year,
with that year's loads and the crisis sets its readiness requires. Families
that link the years:

* ``build_lead``: a new site of type t is not in service before
  ``first_year + lead_t`` (its construction starts in the first year at the
  earliest);
* ``stays_open``: ``y[u,j,t] ≥ y[u-1,j,t]`` (built sites stay open); an
  existing site is in service until its planned closure, and with
  ``may_close`` ``y[u,j,t] ≤ y[u-1,j,t]``;
* ``capital_budget``: the capital spent in year u, ``Σ_jt K_t / L_t ·
  (y[min(u+L_t, last),j,t] − y[u,j,t])`` (a site entering service in year v
  spends ``K_t / L_t`` in each of the L_t years before v; the sum telescopes),
  at most the year's budget; ``operating_budget``: the running cost;
* ``migration``: ``μ[u,i] ≥ x[u,i,j,1] − x[u-1,i,j,1]`` for every site j (the
  primary of a user already on board changed), at most
  ``max_migrations_per_year`` a year, costed at ``migration_cost_msek``.

Objective: the discounted total cost ``Σ_u (1+r)^-(u-u0) (running_u +
capital_u + migrations_u)``, or the fewest migrations, or both in order
(lexicographic). Capacity-true readiness is added lazily per (year, scenario)
as in a static plan: the served-load evaluator checks each year's plan and the
violated scenarios' flow rows join that year's model until none is violated.
Every year is then checked by :func:`nisd.optimise.check.check_plan` and the
evaluator over the fibre graph, and the links between years by
:func:`check_rollout`, neither of which reads the model.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.optimise.deadline import Deadline
from nisd.optimise.figures import kpis, plan_kpis
from nisd.optimise.problem import from_dataset
from nisd.optimise.rollout.check import (
    capital_by_year,
    check_rollout,
    migrations,
    running_cost,
    site_schedule,
)
from nisd.optimise.rollout.model import build_rollout
from nisd.optimise.rollout.solve import earliest_readiness, precheck, solve_rollout
from nisd.optimise.rollout.years import (
    END_STATE,
    Year,
    YearPlan,
    rollout_of,
    year_config,
    years_of,
)
from nisd.optimise.rounds import seconds
from nisd.optimise.verify import evaluate_plan, raise_violations, violations
from nisd.records.plan import ModelStats, ObjectiveValue, RunRecord
from nisd.records.rollout import (
    Move,
    Readiness,
    ReadinessStep,
    Rollout,
    Totals,
    YearBudget,
    YearCost,
    YearRow,
)
from nisd.topology import build_graph
from nisd.topology.scenarios import scenario_sets
from nisd.version import __version__


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
    running = running_cost(yr.pp, yp.sites, ro)
    disc = (1.0 + ro.discount_rate) ** -(yr.year - ro.first_year)
    total = running + capital + ro.migration_cost_msek * len(moved)
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
        cost_msek=YearCost(
            running=round(running, 6),
            capital=round(capital, 6),
            migration=round(ro.migration_cost_msek * len(moved), 6),
            total=round(total, 6),
            discounted=round(disc * total, 6),
        ),
        budget_msek=YearBudget(
            capital=(ro.per_year("capital_budget_msek") or {}).get(yr.year),
            operating=(ro.per_year("operating_budget_msek") or {}).get(yr.year),
        ),
        readiness=readiness(ds, cfg, yr, yp),
        kpis=kpis(yr.pp, yp.sites, yp.assign) if yp.sites else kpis(yr.pp, {}, {}),
    )


def rollout(ds: Dataset, cfg: PlanConfig, inputs: Mapping[str, object] | None = None) -> Rollout:
    """Build, solve, check and record the roll-out of ``cfg``.

    Raises
    ------
    ConfigError, InfeasibleError, NoSolutionError, PlanCheckError
    """
    t0 = time.perf_counter()
    asked = rollout_of(cfg)
    advanced: list[ReadinessStep] = []
    search = 0.0
    cap: float | None = None
    if "readiness" in asked.objective:
        cfg, advanced, cap = earliest_readiness(ds, cfg, t0)
        # the search had the time limit; the roll-out on the advanced ramp has it again
        search = time.perf_counter() - t0
        t0 = time.perf_counter()
    ro = rollout_of(cfg)
    years = years_of(ds, cfg, Deadline.of(cfg.solver, t0).checker("deriving each year's problem"))
    precheck(years, ro)
    rm = build_rollout(years, ro)
    if cap is not None:
        rm.prob += rm.goals["cost"] <= cap, "cost_cap"
    t_build = time.perf_counter() - t0
    res, plans, rounds, steps = solve_rollout(rm, cfg, t0)
    found = check_rollout(years, ro, plans)
    for yr, yp in zip(years, plans, strict=True):
        _rows, wrong = violations(yr.ds, yr.pp, yp.sites, yp.assign)
        found += [f"{yr.year}: {v}" for v in wrong]
    raise_violations(found, "roll-out")
    spend = capital_by_year(ro, plans)
    moved = migrations(plans)
    records = [
        year_record(ds, cfg, yr, yp, plans[n - 1] if n else None, spend[yr.year], moved[yr.year])
        for n, (yr, yp) in enumerate(zip(years, plans, strict=True))
    ]
    schedule = site_schedule(ro, plans, {s.site_id: s.name for s in ds.sites})
    totals = Totals(
        discounted_cost_msek=round(sum(r.cost_msek.discounted for r in records), 6),
        cost_msek=round(sum(r.cost_msek.total for r in records), 6),
        capital_msek=round(sum(r.cost_msek.capital for r in records), 6),
        running_msek=round(sum(r.cost_msek.running for r in records), 6),
        migrations=sum(len(r.migrations) for r in records),
    )
    run = RunRecord(
        nisd_version=__version__,
        solver=res.solver,
        solver_version=res.solver_version,
        hit_limit=res.hit_limit,
        build_seconds=round(t_build, 3),
        solve_seconds=round(seconds(steps), 3),
        wall_seconds=round(time.perf_counter() - t0 + search, 3),
        readiness_search_seconds=round(search, 3),
        parameters=cfg.model_dump(mode="json"),
        model=ModelStats(
            variables=len(rm.prob.variables()),
            constraints=len(rm.prob.constraints),
            families=dict(sorted(rm.families.items())),
            flow_scenarios={str(y): tuple(m.flow_scenarios) for y, m in rm.models.items()},
        ),
        rounds=tuple(rounds),
        **(inputs or {}),
    )
    return Rollout(
        status=res.status,
        objective=ObjectiveValue(name=">".join(asked.objective), value=res.objective),
        readiness_advanced=tuple(advanced),
        goals=tuple(rm.outcome),
        bound=res.bound,
        gap=res.gap,
        years=tuple(records),
        sites=tuple(schedule),
        totals=totals,
        run=run,
    )
