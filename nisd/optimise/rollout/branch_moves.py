"""The fewest moves of users between sites after a decomposed roll-out under uncertainty:
every branch's sites kept as the cost chose them (so every cost stays), the assignments
chosen again to move as few users as possible from one year to the next.

The years before the decision year are shared: the most probable branch is planned first
and its assignments of those years are then fixed in every other branch, each of which
plans its own later years side by side. That is the fewest moves of the most probable
branch, and the fewest of each other branch given the shared years (not the least
expected number over all branches at once, which would need one model again). Each solve
gets at most ``SECONDARY_SECONDS``, as the moves of a roll-out do; a branch that finds
nothing better keeps the cost's assignments.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, NisdError, NoSolutionError
from nisd.io import load_dataset
from nisd.io.load import require_on_disk
from nisd.optimise.deadline import Deadline, ends_at, within
from nisd.optimise.extract import start_of
from nisd.optimise.rollout.branches import Future, futures, tree_of
from nisd.optimise.rollout.model import RolloutModel, build_rollout
from nisd.optimise.rollout.scenario_decomposition import Runner, Task
from nisd.optimise.rollout.solve import SECONDARY_SECONDS, solve_rollout
from nisd.optimise.rollout.tree import FirstStageValues, stage_var, values_of
from nisd.optimise.rollout.years import YearPlan
from nisd.optimise.solve import SolveResult, Start

Moved = tuple[SolveResult, list[YearPlan], FirstStageValues]


def fewest_moves_of(
    f: Future,
    cfg: PlanConfig,
    t0: float,
    d: int,
    plans: Sequence[YearPlan],
    trunk: FirstStageValues | None = None,
) -> Moved | None:
    """One branch's fewest moves over its ``plans``' sites (every year's sites fixed),
    with the years before ``d`` assigned as ``trunk`` when given; None when the solve
    stops without a plan."""
    ro = f.ro.model_copy(update={"objective": ["moves"]})
    deadline = Deadline.of(cfg.solver, t0)
    solver = deadline.options(cfg.solver, SECONDARY_SECONDS)
    c = f.cfg.model_copy(update={"rollout": ro, "solver": solver})
    rm = build_rollout(f.years, ro)
    pp = f.years[0].pp
    for yr, yp in zip(f.years, plans, strict=True):
        for (j, t), v in rm.models[yr.year].y.items():
            on = yp.sites.get(pp.site_ids[j]) == pp.type_ids[t]
            v.lowBound = v.upBound = 1 if on else 0
    for (year, kind, key), value in (trunk or {}).items():
        if kind == "x":
            v = stage_var(rm, year, kind, key)
            v.lowBound = v.upBound = value
    try:
        res, out, _rounds, _steps = solve_rollout(
            rm, c, time.perf_counter(), explain=False, first_start=start_of_rollout(rm, plans)
        )
    except (InfeasibleError, NoSolutionError):
        return None
    return res, out, values_of(f, rm, d)


def start_of_rollout(rm: RolloutModel, plans: Sequence[YearPlan]) -> Start:
    """A MIP start from known plans of every year: their sites, assignments and the
    migrations between them (a user whose primary site changes moves)."""
    out: dict[str, float] = {}
    before: dict[str, str] = {}
    for yr, yp in zip(rm.years, plans, strict=True):
        out.update(start_of(rm.models[yr.year], yr.pp, yp.sites, yp.assign))
        for i, d in enumerate(yr.pp.demand_ids):
            seq = yp.assign.get(d) or []
            now = seq[0] if seq else None
            if d in before and now != before[d]:
                out[f"{rm.prefix}mu_{yr.year}_{i}"] = 1.0
            if now is not None:
                before[d] = now
    return out


def moves_task(
    data_dir: str,
    config: dict[str, object],
    n: int,
    plans: list[YearPlan],
    trunk: FirstStageValues,
    end: float | None,
) -> Moved | str | None:
    """In a worker: :func:`fewest_moves_of` for branch ``n``; a message when it fails."""
    ds = load_dataset(Path(data_dir))
    cfg = PlanConfig.model_validate(config)
    cfg = cfg.model_copy(update={"solver": within(cfg.solver, end)})
    (f,) = futures(ds, cfg, only=n)
    d = tree_of(cfg).decision_year
    try:
        return fewest_moves_of(f, cfg, time.perf_counter(), d, plans, trunk)
    except NisdError as exc:
        return str(exc)


def fewest_moves(
    ds: Dataset,
    cfg: PlanConfig,
    fs: list[Future],
    d: int,
    plans: list[list[YearPlan]],
    t0: float,
    runner: Runner | None = None,
) -> tuple[list[list[YearPlan]], list[SolveResult], list[str]]:
    """Every branch's plans with the fewest moves over its sites (see the module
    docstring): the plans (a branch's own where its solve found nothing), the solves, and
    notes."""
    first = max(range(len(fs)), key=lambda n: fs[n].probability)
    got = fewest_moves_of(fs[first], cfg, t0, d, plans[first])
    if got is None:
        return plans, [], ["the fewest moves were not found within their time: the cost's plans"]
    res0, plans0, trunk = got
    out = list(plans)
    out[first] = plans0
    results = [res0]
    notes: list[str] = []
    rest = [n for n in range(len(fs)) if n != first]
    done: dict[int, Moved | str | None] = {}
    if runner is None:
        for n in rest:
            done[n] = fewest_moves_of(fs[n], cfg, t0, d, plans[n], trunk)
    else:
        require_on_disk(ds, "the branches planned on workers read the data")
        end = ends_at(cfg.solver, t0)
        config = cfg.model_dump(mode="json")
        tasks: list[Task] = [
            (str(n), moves_task, (str(ds.path), config, n, plans[n], trunk, end)) for n in rest
        ]
        done = {int(k): v for k, v in runner(tasks)}
    for n in rest:
        r = done[n]
        if isinstance(r, tuple):
            results.append(r[0])
            out[n] = r[1]
        else:
            # the most probable branch's shared years with this branch's own later ones
            # would move users it never planned for: every branch keeps the cost's plans
            notes.append(
                f"branch {fs[n].name!r}: the fewest moves were not found "
                f"({r or 'within their time'}): every branch keeps the cost's plans"
            )
            return plans, [], notes
    return out, results, notes
