"""The years of a roll-out: who is on board, with what load, under which rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from nisd.config import Crisis, PlanConfig, RolloutConfig, ServiceLevel
from nisd.dataset import Dataset
from nisd.errors import ConfigError, Problem
from nisd.optimise.deadline import Check, no_check
from nisd.optimise.problem import PlacementProblem, from_dataset

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
class YearPlan:
    """One year's placement as the roll-out chose it."""

    year: int
    sites: dict[str, str]
    assign: dict[str, list[str]]


# ---- inputs -----------------------------------------------------------------------------


def onboarding_year(
    ro: RolloutConfig, demand_id: str, kind: str, workload: str | None = None
) -> int:
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
    ro = rollout_of(cfg)
    if ro.readiness:
        return ro.ramp()
    every = cfg.crisis.set_names()
    return {y: (every if y == ro.last_year else []) for y in ro.years}


def rollout_of(cfg: PlanConfig) -> RolloutConfig:
    """The scenario's ``[rollout]`` table.

    Raises
    ------
    ConfigError
        The scenario has none.
    """
    if cfg.rollout is None:
        raise ConfigError(
            [Problem("scenario", "has no [rollout] table: a roll-out needs its years and rules")]
        )
    return cfg.rollout


def onboarding_keys(ds: Dataset) -> set[str]:
    """What an onboarding (or a branch's decline) may name: a demand id, a workload or a
    demand kind."""
    return (
        set(ds.demand_ids)
        | {d.kind for d in ds.demand}
        | {d.workload for d in ds.demand if d.workload}
    )


def unknown_sets(
    readiness: Mapping[str, Sequence[str]], known: Sequence[str]
) -> list[tuple[str, str]]:
    """(year key, message) for every readiness set that is not one of the crisis sets
    ``known``."""
    return [
        (year, f"{s!r} is not one of the crisis sets of [crisis] ({', '.join(known) or 'none'})")
        for year, sets in readiness.items()
        for s in sets
        if s not in known
    ]


def validate(ds: Dataset, cfg: PlanConfig) -> None:
    """Refuse a roll-out the data cannot support, naming the key and why.

    Raises
    ------
    ConfigError
    """
    ro = rollout_of(cfg)
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
    keys = onboarding_keys(ds)
    for key in ro.onboarding:
        if key not in keys:
            bad("onboarding", f"{key!r} is neither a demand id nor a demand kind")
    for s, ex in ro.existing.items():
        if s not in ds.site_by_id:
            bad(f"existing.{s}", f"{s!r} is not a candidate site")
        elif ex.type not in types:
            bad(f"existing.{s}.type", f"{ex.type!r} is not a site type")
        elif ex.type not in ds.allowed_types(ds.site_by_id[s]):
            bad(f"existing.{s}.type", f"type {ex.type!r} is not allowed at {s}")
    for year, text in unknown_sets(ro.readiness, cfg.crisis.set_names()):
        bad(f"readiness.{year}", text)
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
    ro = rollout_of(cfg)
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


def year_dataset(ds: Dataset, ro: RolloutConfig, year: int) -> Dataset:
    """The users on board in ``year``, each load grown from ``first_year``."""
    grow = (1.0 + ro.growth_per_year) ** (year - ro.first_year)
    demand = tuple(
        replace(d, load=d.load * grow)
        for d in ds.demand
        if onboarding_year(ro, d.demand_id, d.kind, d.workload) <= year
    )
    return replace(ds, demand=demand)


def years_of(ds: Dataset, cfg: PlanConfig, check: Check = no_check) -> list[Year]:
    """Every year's users, configuration and placement problem (``check``: the run's
    time limit, called as each year's crisis scenarios are derived)."""
    validate(ds, cfg)
    ro = rollout_of(cfg)
    ramp = ramp_of(cfg)
    out = []
    for y in ro.years:
        dy = year_dataset(ds, ro, y)
        cy = year_config(cfg, y, ramp[y])
        out.append(Year(y, dy, cy, from_dataset(dy, cy, check), tuple(ramp[y])))
    return out
