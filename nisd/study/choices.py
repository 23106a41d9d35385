"""What one agency's choice costs the others: declining NISD, or joining a roll-out later.

Each is answered by planning again: the plan (or the roll-out) without the agencies'
users, or with their onboarding moved, then the fees of the new plan by the same method.
Every other agency's fee before and after is set side by side (a roll-out's fees summed
over its years), with the sites the new plan adds and drops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import ConfigError, Problem
from nisd.optimise import from_dataset, optimise
from nisd.optimise.rollout import rollout as plan_rollout
from nisd.records.fees import Change, ChangeRow, Fees
from nisd.records.plan import Plan
from nisd.records.rollout import Rollout
from nisd.study.fees import Method, plan_fees, rollout_fees
from nisd.study.payers import payer_of, workloads_of


def _totals(fees: Fees) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in fees.table:
        out[r.payer] = out.get(r.payer, 0.0) + r.fee_msek
    return out


def _cost(fees: Fees) -> float:
    if fees.source == "plan":
        return float(fees.cost_msek or 0.0)
    return sum(y.fee_income_msek for y in fees.years)


def _sites(result: Plan | Rollout) -> set[str]:
    if isinstance(result, Plan):
        return set(result.sites)
    return {s.site_id for s in result.sites}


def _change(
    what: str,
    agencies: Sequence[str],
    year: int | None,
    before: Fees,
    after: Fees,
    old: Plan | Rollout,
    new: Plan | Rollout,
) -> Change:
    b, a = _totals(before), _totals(after)
    rows = [
        ChangeRow(
            payer=p,
            before_msek=round(b.get(p, 0.0), 6),
            after_msek=round(a.get(p, 0.0), 6),
            change_msek=round(a.get(p, 0.0) - b.get(p, 0.0), 6),
        )
        for p in sorted(set(b) | set(a))
        if what == "join" or p not in agencies
    ]
    rows.sort(key=lambda r: (-abs(r.change_msek), r.payer))
    s_old, s_new = _sites(old), _sites(new)
    return Change(
        what=what,
        agencies=tuple(agencies),
        year=year,
        cost_before_msek=round(_cost(before), 6),
        cost_after_msek=round(_cost(after), 6),
        rows=tuple(rows),
        sites_added=tuple(sorted(s_new - s_old)),
        sites_removed=tuple(sorted(s_old - s_new)),
    )


def decline(
    ds: Dataset,
    cfg: PlanConfig,
    result: Plan | Rollout,
    before: Fees,
    agencies: Sequence[str],
    method: Method,
    *,
    seed: int = 0,
) -> tuple[Change, Plan | Rollout]:
    """Plan again without the users of ``agencies`` (payers, as the data names them);
    every other payer's fee before and after, and the sites changed. Returns the change
    and the new plan or roll-out."""
    gone = set(agencies)
    sub = replace(ds, demand=tuple(d for d in ds.demand if payer_of(d) not in gone))
    if not sub.demand:
        raise ConfigError([Problem("--decline", "no agency would be left to pay")])
    if isinstance(result, Plan):
        new_plan = optimise(sub, from_dataset(sub, cfg))
        after = plan_fees(
            sub,
            cfg,
            new_plan.sites,
            new_plan.assignments,
            float(new_plan.kpis.cost_msek or 0.0),
            method,
            seed=seed,
            premium=before.premium is not None,
        )
        return _change("decline", agencies, None, before, after, result, new_plan), new_plan
    new_ro = plan_rollout(sub, cfg)
    after = rollout_fees(sub, cfg, new_ro, method, seed=seed)
    return _change("decline", agencies, None, before, after, result, new_ro), new_ro


def join(
    ds: Dataset,
    cfg: PlanConfig,
    result: Rollout,
    before: Fees,
    agency: str,
    year: int,
    method: Method,
    *,
    seed: int = 0,
) -> tuple[Change, Rollout]:
    """Plan the roll-out again with ``agency`` joining in ``year``; every payer's fees summed
    over the years before and after, and the sites changed.

    Raises
    ------
    ConfigError
        ``year`` is outside the roll-out.
    """
    ro = cfg.rollout
    if ro is None:
        raise ConfigError([Problem("--join", "needs a roll-out")])
    if not ro.first_year <= year <= ro.last_year:
        raise ConfigError(
            [
                Problem(
                    "--join",
                    f"{agency}={year}: the year is outside the roll-out "
                    f"({ro.first_year}–{ro.last_year})",
                )
            ]
        )
    onboarding = dict(ro.onboarding)
    for w in workloads_of(ds, agency):
        onboarding[w] = year
    moved = cfg.model_copy(update={"rollout": ro.model_copy(update={"onboarding": onboarding})})
    new_ro = plan_rollout(ds, moved)
    after = rollout_fees(ds, moved, new_ro, method, seed=seed)
    return _change("join", [agency], year, before, after, result, new_ro), new_ro


__all__ = ["decline", "join"]
