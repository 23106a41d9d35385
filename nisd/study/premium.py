"""The protection premium: what the protection levels cost, level by level, and each
payer's part of it.

The premium is the plan's cost less the cheapest plan of the same scenario with every
user's protection level capped one step lower, level by level down to none; the step to
level L is charged to the payers whose users need L or more, by that load.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, NoSolutionError
from nisd.optimise import from_dataset, optimise
from nisd.records.base import Status
from nisd.records.fees import Premium
from nisd.study.payers import payers

# seconds each capped plan may take: the premium is a side figure of the fees, not worth
# the whole run's limit (a plan without protection has many more equally good site sets)
PREMIUM_SECONDS = 30.0


def protection_premium(
    ds: Dataset, cfg: PlanConfig, users: Sequence[str], cost: float
) -> tuple[Premium | None, str]:
    """What the protection levels cost: the plan's cost less the cheapest plan of the same
    scenario with every user's level capped one step lower, level by level down to none.
    The step to level L is charged to the payers whose users need L or more, by that load.

    Returns the premium (None when no user needs protection, protection is off, or a
    capped plan was not proved optimal within :data:`PREMIUM_SECONDS`) and, when it is
    None for the last reason, why."""
    by = ds.demand_by_id
    top = max((by[d].protection for d in users), default=0)
    if top <= 0 or not cfg.protection:
        return None, ""
    keep = set(users)
    costs = {top: cost}
    for level in range(top - 1, -1, -1):
        capped = replace(
            ds,
            demand=tuple(
                replace(d, protection=min(d.protection, level))
                for d in ds.demand
                if d.demand_id in keep
            ),
        )
        limit = min(cfg.solver.time_limit or PREMIUM_SECONDS, PREMIUM_SECONDS)
        solver = cfg.solver.model_copy(update={"time_limit": limit})
        c = cfg.model_copy(update={"rollout": None, "protection": level > 0, "solver": solver})
        try:
            with quiet():
                plan = optimise(capped, from_dataset(capped, c), ties=False)
        except (NoSolutionError, InfeasibleError) as exc:
            return None, f"the plan with protection capped at level {level}: {exc}"
        if plan.status is not Status.OPTIMAL:
            return None, (
                f"the plan with protection capped at level {level} was not proved optimal "
                f"within {limit:g} s (gap {100 * (plan.gap or 0.0):.1f} %)"
            )
        costs[level] = float(plan.kpis.cost_msek or 0.0)
    steps = {lv: max(0.0, costs[lv] - costs[lv - 1]) for lv in range(1, top + 1)}
    paid = [lv for lv, v in steps.items() if v > 0]
    need = sorted(
        {
            p
            for p, ids in payers(ds, users).items()
            if any(by[d].protection >= lv for d in ids for lv in paid)
        }
    )
    return Premium(
        cost_msek=round(cost, 6),
        without_protection_msek=round(costs[0], 6),
        premium_msek=round(sum(steps.values()), 6),
        payers=tuple(need),
        steps={str(lv): round(v, 6) for lv, v in steps.items()},
    ), ""


def premium_parts(ds: Dataset, users: Sequence[str], premium: Premium) -> dict[str, float]:
    """Each payer's part of the premium: every level's step shared by the load that needs
    that level or more."""
    by = ds.demand_by_id
    groups = payers(ds, users)
    out = dict.fromkeys(groups, 0.0)
    for key, step in premium.steps.items():
        level = int(key)
        load = {p: sum(by[d].load for d in ids if by[d].protection >= level)
                for p, ids in groups.items()}  # fmt: skip
        total = sum(load.values())
        if total > 0:
            for p, v in load.items():
                out[p] += step * v / total
    return out


@contextmanager
def quiet() -> Iterator[None]:
    """The sub-plans of a fee computation do not log their solver rounds."""
    lg = logging.getLogger("nisd.optimise")
    level = lg.level
    lg.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        lg.setLevel(level)


__all__ = ["premium_parts", "protection_premium", "quiet"]
