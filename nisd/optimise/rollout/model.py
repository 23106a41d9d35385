"""The roll-out model: every year's placement model in one problem, and the families
that link the years."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulp

from nisd.config import RolloutConfig
from nisd.errors import ConfigError, Problem
from nisd.optimise.model import Model, build, cost_expr
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.rollout.years import Year
from nisd.records.rollout import Goal


@dataclass
class RolloutModel:
    """Every year's model in one problem (names prefixed ``t<year>_``), the linking rows'
    families, and the goals' expressions."""

    prob: pulp.LpProblem
    years: list[Year]
    models: dict[int, Model]
    capital: dict[int, pulp.LpAffineExpression]
    running: dict[int, pulp.LpAffineExpression]
    moves: dict[int, pulp.LpAffineExpression]
    goals: dict[str, pulp.LpAffineExpression]
    families: dict[str, int] = field(default_factory=dict)
    rows: dict[str, tuple[str, int]] = field(default_factory=dict)  # name → (family, year)
    outcome: list[Goal] = field(default_factory=list)  # per goal: status, value
    prefix: str = ""  # of every name, when several roll-outs share one problem (branches)

    def add(self, family: str, row: pulp.LpConstraint, year: int) -> None:
        n = self.families.get(family, 0)
        name = f"{self.prefix}{family}_{n}"
        self.prob += row, name
        self.families[family] = n + 1
        self.rows[name] = (family, year)


def _existing(pp: PlacementProblem, ro: RolloutConfig) -> dict[int, tuple[int, int | None, bool]]:
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    return {sidx[s]: (tidx[e.type], e.close, e.may_close) for s, e in ro.existing.items()}


def build_rollout(
    years: list[Year], ro: RolloutConfig, prob: pulp.LpProblem | None = None, prefix: str = ""
) -> RolloutModel:
    """Every year's placement model in one problem, and the families that link them.

    With ``prob`` the roll-out goes into that problem, every name starting ``prefix``
    (the branches of a roll-out under uncertainty share one problem).

    Raises
    ------
    ConfigError
        An existing site that the year's rules forbid (hazard buffer, forbidden).
    """
    prob = pulp.LpProblem("nisd_rollout", pulp.LpMinimize) if prob is None else prob
    models = {yr.year: build(yr.pp, prob, prefix=f"{prefix}t{yr.year}_") for yr in years}
    rm = RolloutModel(prob, years, models, {}, {}, {}, {}, prefix=prefix)
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
            mu = pulp.LpVariable(f"{prefix}mu_{yr.year}_{i}", lowBound=0, upBound=1)
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
