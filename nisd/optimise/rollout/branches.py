"""The futures of a roll-out under uncertainty (``[rollout.uncertainty]``): each branch's
users, loads, readiness and budget, the years every branch shares before the decision
year, and the "average future" the value of the stochastic solution is measured against.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from nisd.config import Branch, PlanConfig, RolloutConfig, Uncertainty
from nisd.dataset import Dataset, DemandPoint
from nisd.errors import ConfigError, Problem
from nisd.optimise.deadline import Check, no_check
from nisd.optimise.problem import from_dataset
from nisd.optimise.rollout.years import (
    Year,
    onboarding_keys,
    onboarding_year,
    ramp_of,
    rollout_of,
    unknown_sets,
    validate,
    year_config,
    year_dataset,
)


@dataclass(frozen=True)
class Future:
    """One branch as the model sees it: its name, probability, roll-out rules and years
    (the shared years first, the same objects in every branch)."""

    name: str
    probability: float
    ro: RolloutConfig
    cfg: PlanConfig
    years: list[Year]


def tree_of(cfg: PlanConfig) -> Uncertainty:
    """The scenario's ``[rollout.uncertainty]`` table.

    Raises
    ------
    ConfigError
        There is none.
    """
    u = rollout_of(cfg).uncertainty
    if u is None:
        raise ConfigError([Problem("scenario", "has no [rollout.uncertainty] table")])
    return u


def declines(b: Branch, d: DemandPoint) -> bool:
    """Whether the user ``d`` never joins in branch ``b`` (by id, workload or kind)."""
    return d.demand_id in b.decline or (d.workload or "") in b.decline or d.kind in b.decline


def validate_tree(ds: Dataset, cfg: PlanConfig) -> None:
    """Refuse a tree the data cannot support, naming the key and why (unknown agencies, a
    decline of a user on board before the decision year or of a workload others depend on,
    unknown crisis sets, a branch budget without a roll-out budget).

    Raises
    ------
    ConfigError
    """
    validate(ds, cfg)
    ro = rollout_of(cfg)
    u = tree_of(cfg)
    problems: list[Problem] = []
    keys = onboarding_keys(ds)
    known = cfg.crisis.set_names()
    for n, b in enumerate(u.branches):
        where = f"rollout.uncertainty.branches[{n}]"

        def bad(column: str, text: str, where: str = where) -> None:
            problems.append(Problem("scenario", text, column=f"{where}.{column}", unit="key"))

        for key in [*b.decline, *b.onboarding]:
            if key not in keys:
                col = "decline" if key in b.decline else f"onboarding.{key}"
                bad(col, f"{key!r} is neither a demand id, a workload nor a demand kind")
        gone = [d for d in ds.demand if declines(b, d)]
        early = sorted(
            {
                d.workload_id
                for d in gone
                if onboarding_year(ro, d.demand_id, d.kind, d.workload) < u.decision_year
            }
        )
        if early:
            bad(
                "decline",
                f"{', '.join(early[:5])} join(s) before the decision year {u.decision_year}: "
                "a branch changes only what happens from the decision year on",
            )
        for key in b.onboarding:
            rows = [d for d in ds.demand if key in (d.demand_id, d.workload, d.kind)]
            if any(onboarding_year(ro, d.demand_id, d.kind, d.workload) < u.decision_year
                   for d in rows):  # fmt: skip
                bad(
                    f"onboarding.{key}",
                    f"{key!r} joins before the decision year {u.decision_year} in the "
                    "roll-out as written: a branch cannot move it",
                )
        gone_ids = {d.workload_id for d in gone}
        needed = sorted(
            {
                f"{d.workload_id} depends on {w}"
                for d in ds.demand
                if d.workload_id not in gone_ids
                for w in d.depends_on
                if w in gone_ids
            }
        )
        if needed:
            bad(
                "decline",
                f"a declined workload is needed by others: {'; '.join(needed[:3])}"
                + (" …" if len(needed) > 3 else ""),
            )
        for step, text in unknown_sets(b.readiness, known):
            bad(f"readiness.{step}", text)
        if b.capital_budget_msek is not None and ro.capital_budget_msek is None:
            bad(
                "capital_budget_msek",
                "a branch's capital budget needs rollout.capital_budget_msek for the years "
                "before the decision year",
            )
    if u.method == "decomposition" and not separable(ro):
        problems.append(
            Problem(
                "scenario",
                "the decomposition needs years linked only through the sites: drop "
                "migration_cost_msek and max_migrations_per_year, or use "
                'method = "extensive"',
                column="rollout.uncertainty.method",
                unit="key",
            )
        )
    if problems:
        raise ConfigError(problems)


def separable(ro: RolloutConfig) -> bool:
    """Whether the cost of a roll-out's years is linked only through its sites (no
    migration cost, no migration cap): then the first stage is the sites alone and the
    scenario decomposition applies (a moves goal follows with the sites kept)."""
    return ro.max_migrations_per_year is None and ro.migration_cost_msek == 0


def branch_rollout(cfg: PlanConfig, b: Branch) -> RolloutConfig:
    """The roll-out's rules as branch ``b`` sees them (one future, no tree)."""
    ro = rollout_of(cfg)
    d = tree_of(cfg).decision_year
    readiness = {k: list(v) for k, v in ro.readiness.items()}
    if b.readiness and not readiness:
        # the default ramp (every set in the last year) made explicit before adding to it
        readiness = {str(ro.last_year): list(cfg.crisis.set_names())}
    for year, sets in b.readiness.items():
        have = readiness.setdefault(year, [])
        have += [s for s in sets if s not in have]
    update: dict[str, object] = {
        "onboarding": {**ro.onboarding, **b.onboarding},
        "readiness": readiness,
        "uncertainty": None,
    }
    if b.capital_budget_msek is not None:
        per = ro.per_year("capital_budget_msek") or {}
        update["capital_budget_msek"] = {
            str(y): (b.capital_budget_msek if y >= d else per[y]) for y in ro.years
        }
    return ro.model_copy(update=update)


def _grown(
    ds: Dataset, ro: RolloutConfig, year: int, d: int, growth: float | None, b: Branch | None
) -> Dataset:
    """The users on board in ``year`` in a branch: the declined left out, each load grown
    at the roll-out's rate up to the decision year ``d`` and at the branch's from then."""
    base = year_dataset(ds, ro, year)
    if b is not None:
        base = replace(base, demand=tuple(x for x in base.demand if not declines(b, x)))
    if growth is None or year <= d:
        return base
    g0 = ro.growth_per_year
    factor = ((1.0 + growth) / (1.0 + g0)) ** (year - d)
    return replace(base, demand=tuple(replace(x, load=x.load * factor) for x in base.demand))


def futures(
    ds: Dataset, cfg: PlanConfig, check: Check = no_check, only: int | None = None
) -> list[Future]:
    """Every branch with its years (``only``: the branch of that index alone); the years
    before the decision year are derived once and shared (the same :class:`Year` objects).

    Raises
    ------
    ConfigError
    """
    validate_tree(ds, cfg)
    u = tree_of(cfg)
    ro = rollout_of(cfg)
    d = u.decision_year
    plain_cfg = cfg.model_copy(update={"rollout": ro.model_copy(update={"uncertainty": None})})
    ramp = ramp_of(plain_cfg)
    trunk = []
    for y in ro.years:
        if y >= d:
            break
        dy = year_dataset(ds, ro, y)
        cy = year_config(plain_cfg, y, ramp[y])
        trunk.append(Year(y, dy, cy, from_dataset(dy, cy, check), tuple(ramp[y])))
    out = []
    for n, b in enumerate(u.branches):
        if only is not None and n != only:
            continue
        rb = branch_rollout(cfg, b)
        cb = cfg.model_copy(update={"rollout": rb})
        rb_ramp = ramp_of(cb)
        years = list(trunk)
        for y in ro.years:
            if y < d:
                continue
            dy = _grown(ds, rb, y, d, b.growth_per_year, b)
            cy = year_config(cb, y, rb_ramp[y])
            years.append(Year(y, dy, cy, from_dataset(dy, cy, check), tuple(rb_ramp[y])))
        out.append(Future(b.name, b.probability, rb, cb, years))
    return out


def average_future(ds: Dataset, cfg: PlanConfig, fs: list[Future]) -> Future:
    """The "average future" the value of the stochastic solution is measured against:
    every user on board in a year in any branch, with its expected load that year (the
    probability-weighted load over the branches, 0 where it is not on board); the
    roll-out's own readiness; the expected capital budget.
    """
    ro = rollout_of(cfg)
    plain = ro.model_copy(update={"uncertainty": None})
    pc = cfg.model_copy(update={"rollout": plain})
    ramp = ramp_of(pc)
    d = tree_of(cfg).decision_year
    years = []
    for n, y in enumerate(ro.years):
        if y < d:
            years.append(fs[0].years[n])
            continue
        load: dict[str, float] = {}
        for f in fs:
            for x in f.years[n].ds.demand:
                load[x.demand_id] = load.get(x.demand_id, 0.0) + f.probability * x.load
        demand = tuple(replace(x, load=load[x.demand_id]) for x in ds.demand if x.demand_id in load)
        dy = replace(ds, demand=demand)
        cy = year_config(pc, y, ramp[y])
        years.append(Year(y, dy, cy, from_dataset(dy, cy), tuple(ramp[y])))
    budgets = [f.ro.per_year("capital_budget_msek") for f in fs]
    if all(b is not None for b in budgets):
        mean = {
            str(y): sum(f.probability * (b or {})[y] for f, b in zip(fs, budgets, strict=True))
            for y in ro.years
        }
        plain = plain.model_copy(update={"capital_budget_msek": mean})
    return Future("average", 1.0, plain, pc.model_copy(update={"rollout": plain}), years)
