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

import itertools
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pulp

from nisd.version import __version__
from nisd.dataset import Dataset
from nisd.errors import ConfigError, InfeasibleError, NoSolutionError, PlanCheckError, Problem
from nisd.optimise.check import check_plan
from nisd.optimise.config import Crisis, PlanConfig, Rollout, ServiceLevel
from nisd.optimise.model import Model, add_crisis_flow, build, cost_expr
from nisd.optimise.plan import (
    MAX_NEW_SCENARIOS,
    _extract,
    crisis_evaluation,
    kpis,
    plan_kpis,
    problem_flows,
    scenario_rows,
    violated,
)
from nisd.optimise.problem import PlacementProblem, from_dataset
from nisd.optimise.solve import (
    ABS_GAP,
    SolveResult,
    Start,
    Status,
    current_values,
    solve,
    weakest,
)
from nisd.topology import build_graph
from nisd.topology.scenarios import scenario_sets

log = logging.getLogger(__name__)

TOL = 1e-6
# families that describe the programme's end state: they bind in the last year only
END_STATE: dict[str, Any] = {
    "p": None,
    "p_min": None,
    "budget_msek": None,
    "required": [],
    "require_existing": False,
    "presence": [],
    "min_per_macroregion": None,
    "min_per_power_zone": None,
    "replication_ms": None,
}


@dataclass(frozen=True)
class Year:
    """One year of a roll-out: its users (loads grown), configuration and problem."""

    year: int
    ds: Dataset
    cfg: PlanConfig
    pp: PlacementProblem
    sets: tuple[str, ...]  # the crisis sets that must hold this year


@dataclass
class RolloutModel:
    prob: pulp.LpProblem
    years: list[Year]
    models: dict[int, Model]
    capital: dict[int, pulp.LpAffineExpression]
    running: dict[int, pulp.LpAffineExpression]
    moves: dict[int, pulp.LpAffineExpression]
    goals: dict[str, pulp.LpAffineExpression]
    families: dict[str, int] = field(default_factory=dict)
    rows: dict[str, tuple[str, int]] = field(default_factory=dict)  # name → (family, year)
    outcome: list[dict[str, Any]] = field(default_factory=list)  # per goal: status, value

    def add(self, family: str, row: pulp.LpConstraint, year: int) -> None:
        n = self.families.get(family, 0)
        name = f"{family}_{n}"
        self.prob += row, name
        self.families[family] = n + 1
        self.rows[name] = (family, year)


# ---- inputs -----------------------------------------------------------------------------


def onboarding_year(ro: Rollout, demand_id: str, kind: str, workload: str | None = None) -> int:
    """The year a demand point joins: by id, else by its workload, else by kind, else
    ``onboarding_default``."""
    if demand_id in ro.onboarding:
        return ro.onboarding[demand_id]
    if workload and workload in ro.onboarding:
        return ro.onboarding[workload]
    if kind in ro.onboarding:
        return ro.onboarding[kind]
    return ro.onboarding_default if ro.onboarding_default is not None else ro.last_year


def ramp_of(cfg: PlanConfig) -> dict[int, list[str]]:
    """The crisis sets that must hold each year (default: all of them in the last year)."""
    ro = _rollout(cfg)
    if ro.readiness:
        return ro.ramp()
    every = cfg.crisis.set_names()
    return {y: (every if y == ro.last_year else []) for y in ro.years}


def _rollout(cfg: PlanConfig) -> Rollout:
    if cfg.rollout is None:
        raise ConfigError(
            [Problem("scenario", "has no [rollout] table: a roll-out needs its years and rules")]
        )
    return cfg.rollout


def validate(ds: Dataset, cfg: PlanConfig) -> None:
    """Refuse a roll-out the data cannot support, naming the key and why.

    Raises
    ------
    ConfigError
    """
    ro = _rollout(cfg)
    problems: list[Problem] = []

    def bad(column: str, text: str) -> None:
        problems.append(Problem("scenario", text, column=f"rollout.{column}", unit="key"))

    types = {t.type_id for t in ds.site_types}
    for key in ("lead_time_years", "capital_cost_msek", "asset_life_years"):
        for t in getattr(ro, key):
            if t not in types:
                bad(key, f"{t!r} is not a site type ({', '.join(sorted(types))})")
    low = min((s.cost_factor for s in ds.sites), default=1.0)
    for ty in ds.site_types:
        a = ro.annuity(ty.type_id)
        if a > ty.cost_msek * low + 1e-9:
            bad(
                f"asset_life_years.{ty.type_id}",
                f"the build's annuity ({a:.1f} MSEK/year) exceeds the type's annual cost "
                f"({ty.cost_msek:g} MSEK × cost factor {low:g}): the capital cost is too "
                "high or the life too short",
            )
    kinds = {d.kind for d in ds.demand} | {d.workload for d in ds.demand if d.workload}
    for key in ro.onboarding:
        if key not in ds.demand_ids and key not in kinds:
            bad("onboarding", f"{key!r} is neither a demand id nor a demand kind")
    for s, ex in ro.existing.items():
        if s not in ds.site_by_id:
            bad(f"existing.{s}", f"{s!r} is not a candidate site")
        elif ex.type not in types:
            bad(f"existing.{s}.type", f"{ex.type!r} is not a site type")
        elif ex.type not in ds.allowed_types(ds.site_by_id[s]):
            bad(f"existing.{s}.type", f"type {ex.type!r} is not allowed at {s}")
    known = cfg.crisis.set_names()
    for year, sets in ro.readiness.items():
        for s in sets:
            if s not in known:
                bad(
                    f"readiness.{year}",
                    f"{s!r} is not one of the crisis sets of [crisis] "
                    f"({', '.join(known) or 'none'})",
                )
    if cfg.war.on:
        bad("", "a roll-out with [war] attacks is not supported; plan the end state with it")
    if cfg.objective.name != "cost":
        bad("", f"a roll-out minimises cost or moves, not objective.name = {cfg.objective.name!r}")
    if problems:
        raise ConfigError(problems)


def year_config(cfg: PlanConfig, year: int, sets: Sequence[str]) -> PlanConfig:
    """The static configuration of one year: the crisis sets its readiness requires; the
    end-state families (counts, required sites, presence, minimum per region,
    replication) only in the last year."""
    ro = _rollout(cfg)
    levels = []
    for sl in cfg.crisis.service_levels():
        keep = [s for s in sl.sets if s in sets]
        if keep:
            levels.append(ServiceLevel(sets=keep, serve=sl.serve))
    crisis = Crisis(
        sets=levels[0].sets if levels else [],
        serve=levels[0].serve if levels else {},
        levels=cfg.crisis.levels,
        tiers=levels[1:],
        backup=cfg.crisis.backup,
        split=cfg.crisis.split,
        cut_off=cfg.crisis.cut_off,
        islands=cfg.crisis.islands,
    )
    update: dict[str, Any] = {"crisis": crisis, "rollout": None}
    if year != ro.last_year:
        update.update(END_STATE)
    return cfg.model_copy(update=update)


def year_dataset(ds: Dataset, ro: Rollout, year: int) -> Dataset:
    """The users on board in ``year``, each load grown from ``first_year``."""
    grow = (1.0 + ro.growth_per_year) ** (year - ro.first_year)
    demand = tuple(
        replace(d, load=d.load * grow)
        for d in ds.demand
        if onboarding_year(ro, d.demand_id, d.kind, d.workload) <= year
    )
    return replace(ds, demand=demand)


def years_of(ds: Dataset, cfg: PlanConfig) -> list[Year]:
    """Every year's users, configuration and placement problem."""
    validate(ds, cfg)
    ro = _rollout(cfg)
    ramp = ramp_of(cfg)
    out = []
    for y in ro.years:
        dy = year_dataset(ds, ro, y)
        cy = year_config(cfg, y, ramp[y])
        out.append(Year(y, dy, cy, from_dataset(dy, cy), tuple(ramp[y])))
    return out


# ---- the model --------------------------------------------------------------------------


def _existing(pp: PlacementProblem, ro: Rollout) -> dict[int, tuple[int, int | None, bool]]:
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    return {sidx[s]: (tidx[e.type], e.close, e.may_close) for s, e in ro.existing.items()}


def build_rollout(years: list[Year], ro: Rollout) -> RolloutModel:
    """Every year's placement model in one problem, and the families that link them.

    Raises
    ------
    ConfigError
        An existing site that the year's rules forbid (hazard buffer, forbidden).
    """
    prob = pulp.LpProblem("nisd_rollout", pulp.LpMinimize)
    models = {yr.year: build(yr.pp, prob, prefix=f"t{yr.year}_") for yr in years}
    rm = RolloutModel(prob, years, models, {}, {}, {}, {})
    pp0 = years[0].pp
    ex = _existing(pp0, ro)
    for j, (t, _close, _may) in ex.items():
        if (j, t) not in models[years[0].year].y:
            raise ConfigError(
                [
                    Problem(
                        "scenario",
                        f"existing site {pp0.site_ids[j]} cannot be kept as {pp0.type_ids[t]}: "
                        "the scenario forbids it there (forbidden, hazard buffer, land "
                        "border or staff)",
                        column=f"rollout.existing.{pp0.site_ids[j]}",
                        unit="key",
                    )
                ]
            )
    lead = [ro.lead_time_years.get(t, 0) for t in pp0.type_ids]
    capex = [ro.capital_cost_msek.get(t, 0.0) for t in pp0.type_ids]
    annuity = [ro.annuity(t) for t in pp0.type_ids]
    keys = sorted({key for m in models.values() for key in m.y})
    first, last = ro.first_year, ro.last_year
    for j, t in keys:
        prev: pulp.LpVariable | None = None
        for yr in years:
            v = models[yr.year].y.get((j, t))
            if v is None:
                continue
            if j in ex:
                ext, close, may = ex[j]
                if t != ext or (close is not None and yr.year >= close):
                    v.upBound = 0
                elif not may:
                    v.lowBound = 1
                elif prev is not None:
                    rm.add("stays_open", v <= prev, yr.year)
            else:
                if yr.year < first + lead[t]:
                    v.upBound = 0
                if prev is not None:
                    rm.add("stays_open", v >= prev, yr.year)
            prev = v
    for n, yr in enumerate(years):
        u = yr.year
        m = models[u]
        rm.running[u] = cost_expr(m, yr.pp) - pulp.lpSum(
            annuity[t] * v for (_j, t), v in m.y.items() if annuity[t]
        )
        spend = []
        for j, t in keys:
            if j in ex or capex[t] == 0 or (j, t) not in m.y:
                continue
            if lead[t] == 0:
                before = models[years[n - 1].year].y.get((j, t)) if n > 0 else None
                spend.append(capex[t] * (m.y[j, t] - (before if before is not None else 0)))
            else:
                later = models[min(u + lead[t], last)].y.get((j, t))
                if later is not None:
                    spend.append(capex[t] / lead[t] * (later - m.y[j, t]))
        rm.capital[u] = pulp.lpSum(spend)
    cap = ro.per_year("capital_budget_msek")
    ope = ro.per_year("operating_budget_msek")
    for yr in years:
        if cap is not None:
            rm.add("capital_budget", rm.capital[yr.year] <= cap[yr.year], yr.year)
        if ope is not None:
            rm.add("operating_budget", rm.running[yr.year] <= ope[yr.year], yr.year)
    need_moves = (
        ro.max_migrations_per_year is not None
        or ro.migration_cost_msek > 0
        or "moves" in ro.objective
    )
    for n, yr in enumerate(years):
        rm.moves[yr.year] = pulp.lpSum([])
        if n == 0 or not need_moves:
            continue
        before = years[n - 1]
        mb, mc = models[before.year], models[yr.year]
        iprev = {d: i for i, d in enumerate(before.pp.demand_ids)}
        mus = []
        for i, d in enumerate(yr.pp.demand_ids):
            if d not in iprev:
                continue  # joins this year: onboarding, not a migration
            ip = iprev[d]
            mu = pulp.LpVariable(f"mu_{yr.year}_{i}", lowBound=0, upBound=1)
            mus.append(mu)
            for j in range(yr.pp.n_sites):
                if (i, j, 0) in mc.x:
                    old = mb.x.get((ip, j, 0))
                    rm.add(
                        "migration", mu >= mc.x[i, j, 0] - (old if old is not None else 0), yr.year
                    )
        rm.moves[yr.year] = pulp.lpSum(mus)
        if ro.max_migrations_per_year is not None:
            rm.add("migration_cap", rm.moves[yr.year] <= ro.max_migrations_per_year, yr.year)
    cost = []
    for yr in years:
        u = yr.year
        disc = (1.0 + ro.discount_rate) ** -(u - first)
        cost.append(disc * (rm.running[u] + rm.capital[u] + ro.migration_cost_msek * rm.moves[u]))
    rm.goals = {"cost": pulp.lpSum(cost), "moves": pulp.lpSum(rm.moves.values())}
    return rm


# ---- solving ----------------------------------------------------------------------------


@dataclass
class YearPlan:
    """One year's placement as the roll-out chose it."""

    year: int
    sites: dict[str, str]
    assign: dict[str, list[str]]


SECONDARY_SECONDS = 60.0  # each solve of a goal after the first (fewest moves): at most


def _solve(
    rm: RolloutModel, cfg: PlanConfig, t0: float, goal: str, start: Start | None = None
) -> SolveResult:
    """One solve of ``goal`` within what is left of the time limit (a goal after the first
    gets at most :data:`SECONDARY_SECONDS`: its answer is kept, with its gap, either way)."""
    opts = cfg.solver
    left = None
    if cfg.solver.time_limit is not None:
        left = cfg.solver.time_limit - (time.perf_counter() - t0)
        if left <= 0:
            raise NoSolutionError(
                f"time limit {cfg.solver.time_limit:g} s reached before the roll-out "
                "met every year's requirements"
            )
    goals = [g for g in _rollout(cfg).objective if g != "readiness"]
    if goal != goals[0]:
        left = SECONDARY_SECONDS if left is None else min(left, SECONDARY_SECONDS)
    if left is not None:
        opts = cfg.solver.model_copy(update={"time_limit": left})
    rm.prob.setObjective(rm.goals[goal])
    return solve(rm.prob, opts, start)


def _keep_sites(
    rm: RolloutModel, cfg: PlanConfig, t0: float, goal: str, last: dict[str, Any] | None
) -> tuple[SolveResult | None, list[SolveResult], Start | None] | None:
    """Try the last round's sites (every year) again with only the assignments free.

    The last round's bound is valid for the full model; when those sites, re-assigned
    under the scenarios added since, reach it, the round is optimal without a search
    over the sites. Otherwise what the attempt found is a start for the full solve.
    """
    if last is None or last["status"] != Status.OPTIMAL.value or last["bound"] is None:
        return None
    ys = [v for m in rm.models.values() for v in m.y.values()]
    saved = [(v.lowBound, v.upBound) for v in ys]
    for v in ys:
        v.lowBound = v.upBound = round(v.value() or 0.0)
    try:
        res = _solve(rm, cfg, t0, goal)
    finally:
        for v, (lo, hi) in zip(ys, saved, strict=True):
            v.lowBound, v.upBound = lo, hi
    if res.status not in (Status.OPTIMAL, Status.FEASIBLE) or res.objective is None:
        return None, [res], None
    bound = float(last["bound"])
    if res.objective > bound + max(ABS_GAP, 1e-9 * abs(bound)):
        return None, [res], current_values(rm.prob)
    gap = abs(res.objective - bound) / max(abs(res.objective), 1e-9)
    kept = SolveResult(
        Status.OPTIMAL, res.objective, bound, gap, 0.0, res.solver, res.solver_version, False
    )
    return kept, [res], None


def _extract_years(rm: RolloutModel) -> list[YearPlan]:
    out = []
    for yr in rm.years:
        sites, assign = _extract(yr.pp, rm.models[yr.year])
        out.append(YearPlan(yr.year, sites, assign))
    return out


def _add_violated(rm: RolloutModel, plans: list[YearPlan]) -> int:
    """Add the flow rows of every (year, scenario) the plans miss; how many were added.

    A scenario one year misses is likely to bind in the later years too (more users,
    more load): it joins every year from the first that misses it.

    Raises
    ------
    PlanCheckError
        A scenario already in a year's model is missed (model and evaluator disagree).
    """
    added = 0
    again: list[str] = []
    found: list[str] = []
    for yr, yp in zip(rm.years, plans, strict=True):
        if not yr.pp.scenarios:
            continue
        short = violated(yr.pp, problem_flows(yr.pp, yp.sites, yp.assign))
        m = rm.models[yr.year]
        again += [f"{yr.year} {n}" for _v, n in short if n in m.flow_scenarios]
        found += [n for _v, n in short if n not in found][:MAX_NEW_SCENARIOS]
        active = {sc.name for sc in yr.pp.scenarios}
        new = [n for n in found if n in active and n not in m.flow_scenarios]
        add_crisis_flow(m, yr.pp, new)
        added += len(new)
    if again:
        raise PlanCheckError(
            "the model and the served-load evaluator disagree: the roll-out violates "
            f"scenario(s) already in the model: {', '.join(again[:5])}"
        )
    return added


def _converge(
    rm: RolloutModel,
    cfg: PlanConfig,
    t0: float,
    goal: str,
    start: Start | None,
    rounds: list[dict[str, Any]],
    steps: list[SolveResult],
    explain: bool = True,
) -> tuple[SolveResult, list[YearPlan]]:
    """Solve ``goal``, adding violated scenarios, until every year meets its readiness."""
    last: dict[str, Any] | None = None
    while True:
        t_round = time.perf_counter()
        kept = _keep_sites(rm, cfg, t0, goal, last)
        res: SolveResult | None = None
        if kept is not None:
            res, done, found = kept
            steps += done
            start = found or start
        if res is None:
            res = _solve(rm, cfg, t0, goal, start)
            steps.append(res)
        if res.status is Status.INFEASIBLE:
            raise InfeasibleError(
                f"no roll-out meets the requirements (proved by {res.solver} in "
                f"{sum(s.seconds for s in steps):.1f} s)." + (_why(rm, cfg) if explain else "")
            )
        if res.status is Status.UNKNOWN or res.objective is None:
            raise NoSolutionError(
                f"{res.solver} stopped after {res.seconds:.1f} s without a roll-out "
                "and without a proof of infeasibility"
                + (" (time limit reached)" if res.hit_limit else "")
            )
        plans = _extract_years(rm)
        start = current_values(rm.prob)
        added = _add_violated(rm, plans)
        last = {
            "round": len(rounds) + 1,
            "goal": goal,
            "objective": res.objective,
            "bound": res.bound,
            "status": res.status.value,
            "violated": added,
            "wall_seconds": round(time.perf_counter() - t_round, 3),
        }
        rounds.append(last)
        log.info(
            "roll-out round %d (%s): %s %.6g, %d scenario(s) added",
            len(rounds),
            goal,
            res.status.value,
            res.objective,
            added,
        )
        if not added:
            return res, plans


def solve_rollout(
    rm: RolloutModel, cfg: PlanConfig, t0: float, explain: bool = True
) -> tuple[SolveResult, list[YearPlan], list[dict[str, Any]], list[SolveResult]]:
    """Solve the goals in order, each to convergence over the scenarios, each earlier goal
    held within ``tolerance`` of its optimum while the next is minimised.

    Raises
    ------
    InfeasibleError, NoSolutionError, PlanCheckError
    """
    ro = _rollout(cfg)
    rounds: list[dict[str, Any]] = []
    steps: list[SolveResult] = []
    results: list[SolveResult] = []
    held: list[str] = []
    start: Start | None = None
    ys = [v for m in rm.models.values() for v in m.y.values()]
    saved = [(v.lowBound, v.upBound) for v in ys]
    try:
        goals = [g for g in ro.objective if g != "readiness"]
        for n, goal in enumerate(goals):
            res, plans = _converge(rm, cfg, t0, goal, start, rounds, steps, explain)
            results.append(res)
            start = current_values(rm.prob)
            if n == len(goals) - 1:
                break
            assert res.objective is not None
            name = f"hold_{goal}"
            slack = ro.tolerance * abs(res.objective) + 1e-6
            rm.prob += rm.goals[goal] <= res.objective + slack, name
            held.append(name)
            if goal == "cost":
                # the fewest moves over the cheapest roll-out's sites (its schedule kept):
                # moves over every equally cheap schedule is a far harder search
                for v in ys:
                    v.lowBound = v.upBound = round(v.value() or 0.0)
    finally:
        for name in held:
            rm.prob.constraints.pop(name, None)
        for v, (lo, hi) in zip(ys, saved, strict=True):
            v.lowBound, v.upBound = lo, hi
    final = weakest(results, results[0], steps)
    rm.outcome = [
        {
            "goal": g,
            "status": r.status.value,
            "value": r.objective,
            "bound": r.bound,
            "gap": r.gap,
        }
        for g, r in zip(goals, results, strict=True)
    ]
    return final, plans, rounds, steps


def _why(rm: RolloutModel, cfg: PlanConfig) -> str:
    """Which year and which requirement make the roll-out impossible, and by how much."""
    from nisd.optimise.explain import what_must_give
    from nisd.optimise.rollout_explain import explain_rollout

    return what_must_give(explain_rollout(rm, cfg))


# ---- the result -------------------------------------------------------------------------


def service_years(ro: Rollout, plans: Sequence[YearPlan]) -> dict[str, dict[str, Any]]:
    """Per site ever in service: its type, first and last year in service, and whether it
    existed before the roll-out."""
    out: dict[str, dict[str, Any]] = {}
    for yp in plans:
        for s, t in yp.sites.items():
            rec = out.setdefault(s, {"type": t, "from": yp.year, "to": yp.year})
            rec["to"] = yp.year
    for s, rec in out.items():
        rec["existing"] = s in ro.existing
    return out


def site_schedule(
    ro: Rollout, plans: Sequence[YearPlan], cost_factor: Mapping[str, float] | None = None
) -> list[dict[str, Any]]:
    """Per site: type, construction years, in service from/to, capital (from the plan alone)."""
    out = []
    for s, rec in sorted(service_years(ro, plans).items()):
        t = rec["type"]
        lead = 0 if rec["existing"] else ro.lead_time_years.get(t, 0)
        start = rec["from"] - lead
        out.append(
            {
                "site_id": s,
                "type": t,
                "existing": rec["existing"],
                "construction_from": None if rec["existing"] else start,
                "in_service_from": rec["from"] if not rec["existing"] else ro.first_year,
                "in_service_to": rec["to"],
                "closes": rec["to"] + 1 if rec["to"] < ro.last_year else None,
                "capital_msek": 0.0 if rec["existing"] else ro.capital_cost_msek.get(t, 0.0),
            }
        )
    return out


def capital_by_year(ro: Rollout, plans: Sequence[YearPlan]) -> dict[int, float]:
    """Capital spent each year, from the plan's service years alone (the checker's sum)."""
    spend = {y: 0.0 for y in ro.years}
    for s in site_schedule(ro, plans):
        if s["existing"]:
            continue
        k = s["capital_msek"]
        lead = ro.lead_time_years.get(s["type"], 0)
        if lead == 0:
            spend[s["in_service_from"]] += k
        else:
            for y in range(s["in_service_from"] - lead, s["in_service_from"]):
                spend[y] += k / lead
    return spend


def migrations(plans: Sequence[YearPlan]) -> dict[int, list[dict[str, str]]]:
    """Per year, the users on board the year before whose primary site changed."""
    out: dict[int, list[dict[str, str]]] = {plans[0].year: []} if plans else {}
    for before, now in itertools.pairwise(plans):
        moved = []
        for d, seq in sorted(now.assign.items()):
            old = before.assign.get(d)
            if old and seq and old[0] != seq[0]:
                moved.append({"demand_id": d, "from": old[0], "to": seq[0]})
        out[now.year] = moved
    return out


def check_rollout(years: Sequence[Year], ro: Rollout, plans: Sequence[YearPlan]) -> list[str]:
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
        if rec["existing"]:
            continue
        lead = ro.lead_time_years.get(rec["type"], 0)
        if rec["in_service_from"] < first + lead:
            out.append(
                f"{rec['site_id']} in service from {rec['in_service_from']}, before its "
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


def running_cost(pp: PlacementProblem, sites: Mapping[str, str], ro: Rollout) -> float:
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


def readiness(ds: Dataset, cfg: PlanConfig, yr: Year, yp: YearPlan) -> dict[str, Any]:
    """Which of the scenario's crisis sets hold in a year, and the worst served share by
    class: every set evaluated (not only the required ones), by the served-load
    evaluator over the surviving fibre graph."""
    every = cfg.crisis.set_names()
    full = year_config(cfg, yr.year, every).model_copy(update=END_STATE)
    if not every or not yr.ds.demand:
        return {"required": list(yr.sets), "holds": {}, "worst_by_class": {}}
    pp = from_dataset(yr.ds, full)
    g = build_graph(yr.ds)
    rows = scenario_rows(pp, crisis_evaluation(yr.ds, pp, yp.sites, yp.assign, g))
    met = {r["scenario"]: r["levels_met"] is not False for r in rows}
    holds = {}
    for s in every:
        names = [sc.name for sc in scenario_sets(yr.ds, g, [s])]
        holds[s] = all(met.get(n, True) for n in names)
    _k, _use = plan_kpis(pp, yp.sites, yp.assign, rows)
    return {
        "required": list(yr.sets),
        "holds": holds,
        "worst_by_class": _k.get("worst_case_by_class", {}),
        "worst_share_served": _k.get("worst_case_share_served"),
    }


def year_record(
    ds: Dataset,
    cfg: PlanConfig,
    yr: Year,
    yp: YearPlan,
    before: YearPlan | None,
    capital: float,
    moved: list[dict[str, str]],
) -> dict[str, Any]:
    """Everything a steering group reads about one year (every figure from the plan)."""
    ro = _rollout(cfg)
    running = running_cost(yr.pp, yp.sites, ro)
    disc = (1.0 + ro.discount_rate) ** -(yr.year - ro.first_year)
    total = running + capital + ro.migration_cost_msek * len(moved)
    new = sorted(d for d in yp.assign if before is None or d not in before.assign)
    return {
        "year": yr.year,
        "sites": dict(sorted(yp.sites.items())),
        "opened": sorted(s for s in yp.sites if before is None or s not in before.sites),
        "closed": sorted(s for s in (before.sites if before else {}) if s not in yp.sites),
        "assignments": {d: list(v) for d, v in sorted(yp.assign.items())},
        "onboarded": new,
        "migrations": moved,
        "load_racks": round(float(yr.pp.load.sum()), 6),
        "capacity_racks": round(
            float(
                sum(
                    yr.pp.capacity[yr.pp.site_ids.index(s), yr.pp.type_ids.index(t)]
                    for s, t in yp.sites.items()
                )
            ),
            6,
        ),
        "cost_msek": {
            "running": round(running, 6),
            "capital": round(capital, 6),
            "migration": round(ro.migration_cost_msek * len(moved), 6),
            "total": round(total, 6),
            "discounted": round(disc * total, 6),
        },
        "budget_msek": {
            "capital": (ro.per_year("capital_budget_msek") or {}).get(yr.year),
            "operating": (ro.per_year("operating_budget_msek") or {}).get(yr.year),
        },
        "readiness": readiness(ds, cfg, yr, yp),
        "kpis": kpis(yr.pp, yp.sites, yp.assign) if yp.sites else {},
    }


def rollout(ds: Dataset, cfg: PlanConfig, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build, solve, check and describe the roll-out of ``cfg`` (the ``rollout.json`` doc).

    Raises
    ------
    ConfigError, InfeasibleError, NoSolutionError, PlanCheckError
    """
    t0 = time.perf_counter()
    asked = _rollout(cfg)
    advanced: list[dict[str, Any]] = []
    search = 0.0
    cap: float | None = None
    if "readiness" in asked.objective:
        cfg, advanced, cap = earliest_readiness(ds, cfg, t0)
        # the search had the time limit; the roll-out on the advanced ramp has it again
        search = time.perf_counter() - t0
        t0 = time.perf_counter()
    ro = _rollout(cfg)
    years = years_of(ds, cfg)
    _precheck(years, ro)
    rm = build_rollout(years, ro)
    if cap is not None:
        rm.prob += rm.goals["cost"] <= cap, "cost_cap"
    t_build = time.perf_counter() - t0
    res, plans, rounds, steps = solve_rollout(rm, cfg, t0)
    violations = check_rollout(years, ro, plans)
    for yr, yp in zip(years, plans, strict=True):
        for v in check_plan(yr.pp, yp.sites, yp.assign):
            violations.append(f"{yr.year}: {v}")
        if yr.pp.scenarios:
            rows = scenario_rows(yr.pp, crisis_evaluation(yr.ds, yr.pp, yp.sites, yp.assign))
            for row in rows:
                if row["levels_met"] is False:
                    violations.append(
                        f"{yr.year}: {row['scenario']}: service levels {row['levels']} not met "
                        f"on re-check (served {row['served_by_class']})"
                    )
    if violations:
        raise PlanCheckError(
            "the solver's roll-out failed the independent check:\n  " + "\n  ".join(violations[:20])
        )
    spend = capital_by_year(ro, plans)
    moved = migrations(plans)
    records = []
    for n, (yr, yp) in enumerate(zip(years, plans, strict=True)):
        records.append(
            year_record(
                ds, cfg, yr, yp, plans[n - 1] if n else None, spend[yr.year], moved[yr.year]
            )
        )
    names = {s.site_id: s.name for s in ds.sites}
    schedule = site_schedule(ro, plans)
    for s in schedule:
        s["name"] = names.get(s["site_id"], s["site_id"])
    totals = {
        "discounted_cost_msek": round(sum(r["cost_msek"]["discounted"] for r in records), 6),
        "cost_msek": round(sum(r["cost_msek"]["total"] for r in records), 6),
        "capital_msek": round(sum(r["cost_msek"]["capital"] for r in records), 6),
        "running_msek": round(sum(r["cost_msek"]["running"] for r in records), 6),
        "migrations": sum(len(r["migrations"]) for r in records),
    }
    total = time.perf_counter() - t0
    return {
        "kind": "rollout",
        "status": res.status.value,
        "objective": {"name": ">".join(asked.objective), "value": res.objective},
        "readiness_advanced": advanced,
        "goals": rm.outcome,
        "bound": res.bound,
        "gap": res.gap,
        "years": records,
        "sites": schedule,
        "totals": totals,
        "run": {
            "nisd_version": __version__,
            "solver": res.solver,
            "solver_version": res.solver_version,
            "hit_limit": res.hit_limit,
            "build_seconds": round(t_build, 3),
            "solve_seconds": round(sum(s.seconds for s in steps), 3),
            "wall_seconds": round(total + search, 3),
            "readiness_search_seconds": round(search, 3),
            "parameters": cfg.model_dump(mode="json"),
            "model": {
                "variables": len(rm.prob.variables()),
                "constraints": len(rm.prob.constraints),
                "families": dict(sorted(rm.families.items())),
                "flow_scenarios": {str(y): list(m.flow_scenarios) for y, m in rm.models.items()},
            },
            "rounds": rounds,
            **(inputs or {}),
        },
    }


def _with_step(ro: Rollout, name: str, year: int) -> dict[str, list[str]]:
    """``ro``'s readiness (or its default) with the crisis set ``name`` required from
    ``year`` on."""
    steps = {str(y): list(v) for y, v in ro.readiness.items()}
    for v in steps.values():
        if name in v:
            v.remove(name)
    steps.setdefault(str(year), []).append(name)
    return {y: v for y, v in steps.items() if v}


def _cheapest(
    ds: Dataset, cfg: PlanConfig, t0: float, cap: float | None
) -> tuple[float | None, bool]:
    """The cheapest roll-out's discounted cost under ``cfg`` (only the cost goal), None
    when none exists within ``cap``; and whether that answer is proved (False when the
    time limit stopped the solver without a roll-out or a proof)."""
    ro = _rollout(cfg).model_copy(update={"objective": ["cost"]})
    c = cfg.model_copy(update={"rollout": ro})
    years = years_of(ds, c)
    try:
        _precheck(years, ro)
        rm = build_rollout(years, ro)
        if cap is not None:
            rm.prob += rm.goals["cost"] <= cap, "cost_cap"
        res, _plans, _rounds, _steps = solve_rollout(rm, c, t0, explain=False)
    except InfeasibleError:
        return None, True
    except NoSolutionError:
        return None, False
    return res.objective, res.status is Status.OPTIMAL


def earliest_readiness(
    ds: Dataset, cfg: PlanConfig, t0: float
) -> tuple[PlanConfig, list[dict[str, Any]], float]:
    """Each readiness step as early as the cost allows (the ``readiness`` goal).

    The cheapest roll-out's cost C is found first; then, for each crisis set in the order
    the ramp asks for them, the earliest year (from the first year with users on board:
    before it every set holds trivially) from which it can hold in a roll-out costing
    at most ``C (1 + tolerance)`` with the earlier sets' years already advanced (a binary
    search: holding a set from a later year is always easier). Returns the configuration
    with the advanced ramp, one record per set (asked, advanced to, proved or not), and
    the cost cap (a valid row for the roll-out on the advanced ramp: one was found under it).

    Raises
    ------
    InfeasibleError
        No roll-out meets the ramp as asked.
    """
    ro = _rollout(cfg)
    base, _proved = _cheapest(ds, cfg, t0, None)
    if base is None:
        raise InfeasibleError(
            "no roll-out meets the readiness ramp as asked (run without the readiness "
            "goal for the explanation)"
        )
    cap = base * (1.0 + ro.tolerance) + 1e-6
    ramp = ramp_of(cfg)
    order: list[tuple[str, int]] = []
    for y in ro.years:
        order += [(s, y) for s in ramp[y] if s not in {n for n, _y in order}]
    readiness = {str(y): [s for s in ramp[y] if (s, y) in order] for y in ro.years}
    readiness = {y: v for y, v in readiness.items() if v}
    current = ro.model_copy(update={"readiness": readiness})
    out = []
    # before the first user joins every set holds trivially: readiness starts with users
    joined = [y for y in ro.years if year_dataset(ds, ro, y).demand]
    floor = joined[0] if joined else ro.last_year
    for name, asked in order:
        lo, hi = min(floor, asked), asked
        proved = True
        while lo < hi:
            mid = (lo + hi) // 2
            trial = current.model_copy(update={"readiness": _with_step(current, name, mid)})
            value, sure = _cheapest(ds, cfg.model_copy(update={"rollout": trial}), t0, cap)
            proved &= sure
            if value is not None:
                hi = mid
            else:
                lo = mid + 1
        current = current.model_copy(update={"readiness": _with_step(current, name, hi)})
        out.append({"set": name, "asked_from": asked, "holds_from": hi, "proved": proved})
        log.info("readiness: %s from %d (asked from %d)", name, hi, asked)
    update = {
        "readiness": current.readiness,
        "objective": [g for g in ro.objective if g != "readiness"],
    }
    return cfg.model_copy(update={"rollout": ro.model_copy(update=update)}), out, cap


def _precheck(years: Sequence[Year], ro: Rollout) -> None:
    """Users on board in a year when fewer than k sites can be in service: impossible,
    say so first (which year, who, and when enough sites could be ready).

    Raises
    ------
    InfeasibleError
    """
    pp = years[0].pp
    k = years[0].cfg.k

    def available(year: int) -> int:
        n = 0
        for j, s in enumerate(pp.site_ids):
            if not pp.allowed[j]:
                continue
            ex = ro.existing.get(s)
            if ex is not None:
                n += ex.close is None or year < ex.close
            elif any(
                np.isfinite(pp.cost[j, t])
                and year >= ro.first_year + ro.lead_time_years.get(tid, 0)
                for t, tid in enumerate(pp.type_ids)
            ):
                n += 1
        return n

    for yr in years:
        have = available(yr.year)
        if yr.ds.demand and have < k:
            later = [y.year for y in years if available(y.year) >= k]
            users = ", ".join(d.demand_id for d in yr.ds.demand[:3])
            more = ", …" if len(yr.ds.demand) > 3 else ""
            raise InfeasibleError(
                f"{yr.year}: {len(yr.ds.demand)} user(s) are on board ({users}{more}) but "
                f"only {have} site(s) can be in service that year and each user needs {k}"
                + (
                    f"; no site can be in service before {later[0]}"
                    if have == 0 and later
                    else f"; {k} sites can be in service from {later[0]}"
                    if later
                    else ""
                )
                + " (construction lead times, existing sites): move their onboarding "
                "(rollout.onboarding) or shorten rollout.lead_time_years"
            )


__all__ = [
    "Year",
    "YearPlan",
    "build_rollout",
    "capital_by_year",
    "check_rollout",
    "migrations",
    "rollout",
    "site_schedule",
    "years_of",
]
