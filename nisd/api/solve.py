"""Solving: a scenario's parameters, plans, roll-outs, alternatives."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import ConfigError, Problem
from nisd.io.paths import run_inputs
from nisd.io.results import (
    dataset_of,
)
from nisd.io.scenario import load_plan_config
from nisd.optimise import from_dataset, optimise
from nisd.optimise.alternatives import alternatives as _alternatives
from nisd.optimise.deadline import Deadline
from nisd.optimise.problem import check_config
from nisd.optimise.rollout import rollout as _rollout
from nisd.records import (
    Plan,
    Rollout,
)
from nisd.study.workers import Workers


def config(scenario: str | Path | PlanConfig | None = "baseline", **overrides: Any) -> PlanConfig:
    """A scenario's parameters (a library name, a file or a PlanConfig; None: the
    defaults) with overrides validated exactly like the file (``separation_km=50`` is
    refused as it is in a file); nested tables are dicts
    (``crisis={"serve": {"critical": 1.0}}``)."""
    if isinstance(scenario, PlanConfig):
        return load_plan_config(None, {**scenario.model_dump(), **overrides})
    return load_plan_config(None if scenario is None else Path(scenario), dict(overrides))


def _scenario_file(scenario: str | Path | PlanConfig | None) -> str | None:
    return None if scenario is None or isinstance(scenario, PlanConfig) else str(scenario)


def plan(
    ds: Dataset, scenario: str | Path | PlanConfig | None = "baseline", **overrides: Any
) -> Plan:
    """Solve a scenario on ``ds`` (see :func:`config` for ``scenario`` and overrides).

    Raises
    ------
    ConfigError, InfeasibleError, NoSolutionError, SolverError, PlanCheckError
    """
    cfg = config(scenario, **overrides)
    t0 = time.perf_counter()  # the time limit covers deriving and building, not only solving
    check = Deadline.of(cfg.solver, t0).checker("deriving the crisis scenarios")
    pp = from_dataset(ds, cfg, check)
    return optimise(ds, pp, run_inputs(ds, _scenario_file(scenario)), t0=t0)


def rollout(
    ds: Dataset,
    scenario: str | Path | PlanConfig = "rollout-2032",
    *,
    workers: int | None = None,
    dask: str | None = None,
    **overrides: Any,
) -> Rollout:
    """Plan a roll-out year by year: a scenario with a ``[rollout]`` table, with overrides
    validated like the file (``rollout={"capital_budget_msek": 800}``). With
    ``[rollout.uncertainty]`` it plans over the branches; ``workers`` (processes) or
    ``dask`` ("local" or a scheduler address) plan each branch alone side by side.

    Raises
    ------
    ConfigError, InfeasibleError, NoSolutionError, SolverError, PlanCheckError
    """
    cfg = config(scenario, **overrides)
    inputs = run_inputs(ds, _scenario_file(scenario))
    if (workers is not None and workers > 1) or dask:
        # one pool for every batch of branch solves (the decomposition runs several)
        with Workers(workers, dask=dask) as pool:
            return _rollout(ds, cfg, inputs, pool.run, pool.n)
    return _rollout(ds, cfg, inputs, None)


def alternatives(ds: Dataset, plan: Plan, *, slack: float = 0.05, count: int = 3) -> list[Plan]:
    """Up to ``count`` plans within ``slack`` of ``plan``'s value that differ most from it
    and from each other (modelling to generate alternatives).

    Raises
    ------
    ConfigError
        The plan has no parameters or no value.
    InfeasibleError, NoSolutionError
    """
    cfg = plan.run.config()
    value = plan_value(plan)
    dataset_of(plan, ds)
    return _alternatives(
        ds,
        from_dataset(ds, cfg),
        value,
        sorted(plan.sites),
        slack=slack,
        count=count,
        start=(dict(plan.sites), {d: list(v) for d, v in plan.assignments.items()}),
        run=plan.run.model_copy(update={"parameters": cfg.model_dump(mode="json")}),
    )


def plan_value(plan: Plan) -> float:
    if plan.value is None:
        raise ConfigError([Problem("plan", "objective.value is missing: the plan has no value")])
    return float(plan.value)


def check_scenario(ds: Dataset, scenario: str | Path | PlanConfig, **overrides: Any) -> PlanConfig:
    """A scenario's parameters checked against ``ds`` (what deriving its problem would
    refuse), without deriving it."""
    cfg = config(scenario, **overrides)
    check_config(ds, cfg)
    return cfg
