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
from collections.abc import Mapping

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.optimise.deadline import Deadline
from nisd.optimise.rollout.assemble import assemble, checked
from nisd.optimise.rollout.model import build_rollout
from nisd.optimise.rollout.solve import earliest_readiness, precheck, solve_rollout
from nisd.optimise.rollout.twostage import Runner, rollout_tree
from nisd.optimise.rollout.years import (
    rollout_of,
    years_of,
)
from nisd.optimise.rounds import seconds
from nisd.optimise.verify import raise_violations
from nisd.records.plan import ModelStats, ObjectiveValue, RunRecord
from nisd.records.rollout import (
    ReadinessStep,
    Rollout,
)
from nisd.version import __version__


def rollout(
    ds: Dataset,
    cfg: PlanConfig,
    inputs: Mapping[str, object] | None = None,
    runner: Runner | None = None,
    width: int = 1,
) -> Rollout:
    """Build, solve, check and record the roll-out of ``cfg`` (over its branches with
    ``[rollout.uncertainty]``, each branch alone through ``runner`` when given: worker
    processes or a Dask cluster, :func:`nisd.study.workers.run_tasks`, ``width`` of them
    side by side).

    Raises
    ------
    ConfigError, InfeasibleError, NoSolutionError, PlanCheckError
    """
    if rollout_of(cfg).uncertainty is not None:
        return rollout_tree(ds, cfg, inputs, runner, width)
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
    raise_violations(checked(years, ro, plans), "roll-out")
    records, schedule, totals = assemble(ds, cfg, years, plans)
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
