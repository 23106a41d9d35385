"""Evaluating plans: resilience, attacks, fees, the crisis ladder."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import pandas as pd

from nisd.config import FeesConfig, SolverOptions
from nisd.dataset import Dataset
from nisd.errors import ConfigError, InputError, Problem
from nisd.io.results import (
    dataset_of,
)
from nisd.io.scenario import load_plan_config
from nisd.optimise.fortify import check_harden
from nisd.optimise.fortify import fortify as _fortify
from nisd.optimise.interdict import TARGET_KINDS
from nisd.optimise.war import attack as _attack
from nisd.optimise.war import check_keep
from nisd.records import (
    AttackResult,
    Fees,
    Plan,
    Rollout,
)
from nisd.settings import parse_model
from nisd.study.choices import decline as _decline
from nisd.study.choices import join as _join
from nisd.study.fees import METHODS, plan_fees, rollout_fees
from nisd.study.ladder import Rung, attack_rung, rung_of
from nisd.study.ladder import ladder as _ladder
from nisd.study.payers import resolve as resolve_payers
from nisd.topology import build_graph
from nisd.topology.resilience import Bound, ResilienceResult, check_opened, evaluate
from nisd.topology.scenarios import count_scenarios, parse_sets, scenario_sets, sets_help

SETS_HELP = sets_help()  # the scenario sets a command accepts, in words


def resilience(
    ds: Dataset,
    plan: Plan | Mapping[str, str] | Sequence[str],
    sets: Sequence[str] | str = ("single-site", "srlg", "county", "power-zone"),
    *,
    bound: Bound = "crisis",
    max_scenarios: int | None = None,
    check_two_routes: bool = False,
) -> ResilienceResult:
    """The capacity-true evaluation of a plan (or of opened sites: id → type, or ids, each
    taking its largest allowed type) under the scenario sets; ``.rows`` are the records
    every page shows, ``.table`` the whole table.

    Raises
    ------
    InputError
        An unknown site or type, a site, type or user the plan names that ``ds`` does
        not have, or more scenarios than ``max_scenarios``.
    """
    set_list = parse_sets(sets) if isinstance(sets, str) else list(sets)
    g = build_graph(ds)
    record = plan if isinstance(plan, Plan) else None
    if record is not None:
        dataset_of(record, ds)
        opened = check_opened(ds, dict(record.sites))
    else:
        opened = check_opened(ds, plan)  # type: ignore[arg-type]
    if max_scenarios is not None:
        n = count_scenarios(ds, g, set_list, opened)
        if n > max_scenarios:
            raise InputError(
                [
                    Problem(
                        "--scenarios",
                        f"{n} scenarios exceed --max-scenarios {max_scenarios}; raise it to "
                        "run them",
                    )
                ]
            )
    classes = list(ds.config.criticality.levels)
    return evaluate(
        ds,
        g,
        opened,
        scenario_sets(ds, g, set_list, opened),
        assignments={d: list(v) for d, v in record.assignments.items()} or None
        if record is not None
        else None,
        levels=record.levels(classes) or None if record is not None else None,
        bound=bound,
        check_two_routes=check_two_routes,
        split=record.split if record is not None else True,
        islands=record.islands if record is not None else False,
    )


def opened_types(ds: Dataset, sites: Mapping[str, str] | Sequence[str]) -> dict[str, str]:
    """Opened site id → type (a site without a type takes its largest allowed type);
    an unknown site or type is an InputError."""
    return check_opened(ds, sites)


def count(ds: Dataset, sites: Mapping[str, str] | Sequence[str], sets: Sequence[str]) -> int:
    """How many scenarios the sets give for these opened sites."""
    return count_scenarios(ds, build_graph(ds), list(sets), check_opened(ds, sites))


def attack(
    ds: Dataset,
    plan: Plan,
    r: float = 2,
    *,
    targets: Sequence[str] = ("site",),
    cost: Mapping[str, float] | None = None,
    top: int = 5,
    objective: str = "critical-first",
    keep: Mapping[str, float] | None = None,
    fortify: bool = False,
    harden_cost: Mapping[str, float] | None = None,
    solver: str = "auto",
    method: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> AttackResult:
    """The ``top`` worst attacks of budget ``r`` on ``plan``, worst first (exact).

    ``targets``: "site" (the plan's opened sites), "node" (backbone nodes), "srlg"
    (shared-risk groups of fibre); each costs 1 unless ``cost`` says otherwise.
    ``objective``: "critical-first" (class by class) or "total" (all load alike).
    ``keep`` (class → share) marks each attack's row with whether those levels
    still hold (default: the plan's ``[war]`` levels when it has them). With
    ``fortify=True`` the result also holds the cheapest opened sites to harden
    (``harden_cost``: MSEK per site type; default the plan's ``war.harden_cost_msek``)
    so that no attack breaks ``keep``. ``method``: "enumerate" lists every attack within
    the budget (scored in batches, those near the top evaluated again), "milp" searches
    with the interdiction programme, "auto" (default) lists them when that is estimated to
    take at most ``nisd.optimise.war.LIST_SECONDS`` or when the plan leaves islanded
    users unserved (``crisis.islands = "skip"``, which the programme does not model),
    else searches (both exact, same order). Users an attack leaves on an island are
    treated as the plan's ``crisis.islands`` says. ``progress(done, total)`` is called
    as attacks are listed. Every input is checked before any search runs.

    Raises
    ------
    InputError, ConfigError, InfeasibleError, SolverError
    """
    dataset_of(plan, ds)
    problems = []
    if not plan.split:
        problems.append(
            Problem(
                "plan",
                "the plan serves each user whole (crisis.split = false): "
                "the worst attack is exact for split load only",
            )
        )
    if objective not in ("critical-first", "total"):
        problems.append(Problem("objective", f"{objective!r}: critical-first or total"))
    if method not in ("auto", "milp", "enumerate"):
        problems.append(Problem("method", f"{method!r}: auto, milp or enumerate"))
    for where, kinds in (("targets", targets), ("cost", cost or {})):
        bad = sorted(set(kinds) - set(TARGET_KINDS))
        if bad:
            problems.append(Problem(where, f"unknown target kind(s) {', '.join(bad)}"))
    if problems:
        raise InputError(problems)
    war = plan.config.war if plan.config is not None and plan.config.war.on else None
    keep = dict(keep) if keep is not None else dict(war.serve if war else {})
    check_keep(ds, keep, "keep")
    costs_h: dict[str, float] = {}
    if fortify:
        if not keep:
            raise InputError([Problem("keep", "fortify needs service levels to keep")])
        costs_h = dict(harden_cost or (war.harden_cost_msek if war else {}))
        check_harden(plan.sites.values(), costs_h, "harden_cost")
    classes = list(ds.config.criticality.levels)
    opts = SolverOptions(name=solver)
    g = build_graph(ds)
    sites = dict(plan.sites)
    assign = {d: list(v) for d, v in plan.assignments.items()} or None
    res = _attack(
        ds,
        g,
        sites,
        assign,
        budget=r,
        kinds=targets,
        costs=cost,
        top=top,
        objective="total" if objective == "total" else "critical-first",
        levels=[float(keep.get(c, 0.0)) for c in classes] if keep else None,
        opts=opts,
        method=cast(Literal["auto", "milp", "enumerate"], method),
        islands=plan.islands,
        progress=progress,
    )
    if fortify:
        res = res.model_copy(
            update={
                "fortify": _fortify(
                    ds,
                    g,
                    sites,
                    assign,
                    budget=r,
                    levels=keep,
                    harden_cost=costs_h,
                    kinds=targets,
                    costs=cost,
                    opts=opts,
                    islands=plan.islands,
                )
            }
        )
    return res


def fees(
    ds: Dataset,
    source: Plan | Rollout,
    method: str = "load",
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    decline: Sequence[str] = (),
    join: Mapping[str, int] | None = None,
    premium: bool = True,
    **settings: Any,
) -> Fees:
    """What each paying agency pays for a plan or a roll-out (see :mod:`nisd.study.fees`),
    year by year for a roll-out: ``method`` is ``load``, ``reserved`` or ``shapley``; fees
    sum to the cost. ``settings`` override the scenario's ``[fees]`` table
    (``financing="recover"``, ``interest_rate=0.03``, ``precision=0.02``,
    ``time_budget_s=30``...), validated like the file. ``premium`` shows a plan's
    protection premium apart. ``decline`` (agencies, as the data names its payers) plans
    again without their users; ``join`` ({agency: year}, a roll-out only) moves their
    onboarding: the record's ``changes`` hold every other agency's fee before and after.
    ``progress(done, total)`` follows Shapley's coalitions (or its precision, sampled).

    Raises
    ------
    ConfigError
        An unknown method or setting, an agency the data has no payer of, a year outside
        the roll-out, or a plan or roll-out without the parameters it was made with.
    """
    if method not in METHODS:
        raise ConfigError([Problem("method", f"{method!r} is not one of {', '.join(METHODS)}")])
    m = cast(Literal["load", "reserved", "shapley"], method)
    name = "rollout" if isinstance(source, Rollout) else "plan"
    cfg = source.run.config(name)
    if settings:
        problems: list[Problem] = []
        fc = parse_model(FeesConfig, {**cfg.fees.model_dump(), **settings}, "fees", problems)
        if fc is None:  # each problem named by its setting (the CLI names its option)
            raise ConfigError([Problem(p.column or "fees", p.message) for p in problems])
        cfg = cfg.model_copy(update={"fees": fc})
    dataset_of(source, ds)
    declined = resolve_payers(ds, list(decline), "decline")
    joins = {resolve_payers(ds, [a], "join")[0]: int(y) for a, y in (join or {}).items()}
    if joins and not isinstance(source, Rollout):
        raise ConfigError([Problem("join", "moves an agency's onboarding: give a roll-out")])
    if isinstance(source, Rollout):
        out = rollout_fees(ds, cfg, source, m, seed=seed, progress=progress)
    else:
        out = plan_fees(
            ds,
            cfg,
            source.sites,
            source.assignments,
            float(source.kpis.cost_msek or 0.0),
            m,
            seed=seed,
            progress=progress,
            premium=premium,
        )
    changes = []
    if declined:
        changes.append(_decline(ds, cfg, source, out, declined, m, seed=seed)[0])
    for agency, year in joins.items():
        assert isinstance(source, Rollout)
        changes.append(_join(ds, cfg, source, out, agency, year, m, seed=seed)[0])
    return out.model_copy(update={"changes": tuple(changes)}) if changes else out


def rungs(spec: str) -> list[Rung]:
    """The rungs of a crisis ladder: ``NAME=SCENARIO,...`` (a scenario file or a library
    name), ``NAME=attack:R`` or ``NAME=attack:R:sites+nodes+srlg``.

    Raises
    ------
    InputError
        An item that is not ``NAME=...``, or a bad attack rung.
    ConfigError
        A scenario that is not valid.
    """
    out = []
    for item in spec.split(","):
        if "=" not in item:
            raise InputError([Problem("--rungs", f"{item!r}: expected NAME=SCENARIO")])
        name, what = item.split("=", 1)
        if what.startswith("attack:"):
            try:
                out.append(attack_rung(name, what))
            except ValueError as exc:
                raise InputError([Problem("--rungs", str(exc))]) from None
            continue
        out.append(rung_of(name, load_plan_config(Path(what))))
    return out


DEFAULT_RUNGS = "peace=baseline,alert=heightened-alert,war=war"


def ladder(
    ds: Dataset, plans: Sequence[tuple[str, Plan]], rung_spec: str = DEFAULT_RUNGS
) -> tuple[pd.DataFrame, str]:
    """Per plan and rung (peace, heightened alert, war, attacks): the worst-case share of
    the protected load served and the regret; and the plan with the smallest largest
    regret."""
    for name, p in plans:
        dataset_of(p, ds, name)
    return _ladder(ds, plans, rungs(rung_spec))
