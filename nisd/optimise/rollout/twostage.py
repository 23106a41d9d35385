"""A roll-out under uncertainty, from its scenario to a checked record: the tree solved by
scenario decomposition (:mod:`nisd.optimise.rollout.scenario_decomposition`, each branch on
its own) or as one model (:mod:`nisd.optimise.rollout.tree`), every branch's own best (wait
and see), the fewest moves where asked, the checks of every branch and of the shared first
stage, the average future's expected cost (for the value of the stochastic solution), and
the record."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import (
    InfeasibleError,
    NisdError,
    NoSolutionError,
    PlanCheckError,
)
from nisd.io import load_dataset
from nisd.io.load import require_on_disk
from nisd.optimise.deadline import Deadline, ends_at, within
from nisd.optimise.rollout.assemble import assemble, checked, discounted_cost
from nisd.optimise.rollout.branch_moves import fewest_moves as fewest_branch_moves
from nisd.optimise.rollout.branches import (
    Future,
    average_future,
    futures,
    separable,
    tree_of,
)
from nisd.optimise.rollout.check import migrations
from nisd.optimise.rollout.scenario_decomposition import decompose
from nisd.optimise.rollout.solve import precheck
from nisd.optimise.rollout.tree import (
    best_of,
    build_tree,
    fewest_moves,
    fix_first_stage,
    plan_first_stage,
    solve_tree,
)
from nisd.optimise.rollout.years import YearPlan, rollout_of
from nisd.optimise.rounds import seconds
from nisd.optimise.solve import SolveResult, Status
from nisd.optimise.verify import raise_violations
from nisd.records.plan import ModelStats, ObjectiveValue, RoundRecord, RunRecord
from nisd.records.rollout import BranchResult, FirstStage, Goal, Hedge, Rollout
from nisd.version import __version__

log = logging.getLogger(__name__)


def first_stage(fs: Sequence[Future], plans: Sequence[Sequence[YearPlan]], d: int) -> FirstStage:
    """The first stage read from the branches' plans alone, checked to be the same in
    every branch (non-anticipativity from the output, not from the model).

    Raises
    ------
    PlanCheckError
        Two branches differ in a decision taken before the decision year.
    """
    wrong: list[str] = []
    first = plans[0]
    ro = fs[0].ro
    for f, bp in zip(fs[1:], plans[1:], strict=True):
        for a, b in zip(first, bp, strict=True):
            if a.year >= d:
                continue
            if a.sites != b.sites:
                wrong.append(f"{a.year}: sites differ between {fs[0].name} and {f.name}")
            if a.assign != b.assign:
                wrong.append(f"{a.year}: assignments differ between {fs[0].name} and {f.name}")
    started: dict[str, str] = {}
    for f, bp in zip(fs, plans, strict=True):
        mine: dict[str, str] = {}
        for yp in bp:
            for s, t in yp.sites.items():
                lead = f.ro.lead_time_years.get(t, 0)
                if s not in ro.existing and yp.year >= d and yp.year - lead < d:
                    mine.setdefault(s, t)
        if f is fs[0]:
            started = mine
        elif mine != started:
            wrong.append(
                f"sites started before {d} differ between {fs[0].name} "
                f"({', '.join(sorted(started)) or 'none'}) and {f.name} "
                f"({', '.join(sorted(mine)) or 'none'})"
            )
    if wrong:
        raise PlanCheckError("the branches do not share one first stage: " + "; ".join(wrong[:5]))
    return FirstStage(
        decision_year=d,
        sites_by_year={str(yp.year): dict(sorted(yp.sites.items())) for yp in first if yp.year < d},
        started=dict(sorted(started.items())),
    )


Task = tuple[str, Callable[..., Any], tuple[Any, ...]]  # (key, function, arguments)
Runner = Callable[[list[Task]], Iterable[tuple[str, Any]]]  # results as (key, result)


def _own_bests(
    ds: Dataset,
    fs: Sequence[Future],
    cfg: PlanConfig,
    t0: float,
    runner: Runner | None = None,
) -> list[tuple[SolveResult, float]]:
    """Each branch's own best roll-out (the future known in advance): the solve and the
    plans' discounted cost as the records compute it; side by side through ``runner``
    (worker processes or a Dask cluster, :func:`nisd.study.workers.run_tasks`) when given,
    each task reading the data directory.

    Raises
    ------
    InfeasibleError, NoSolutionError
        A branch has no roll-out even planned alone (named).
    InputError
        Workers asked for a dataset that is not the data directory on disk.
    """
    if runner is not None:
        require_on_disk(ds, "the futures planned alone on workers read the data")
        end = ends_at(cfg.solver, t0)
        config = cfg.model_dump(mode="json")
        tasks: list[Task] = [
            (str(n), branch_alone, (str(ds.path), config, n, end)) for n in range(len(fs))
        ]
        done = dict(runner(tasks))
        out = []
        for n, f in enumerate(fs):
            got = done[str(n)]
            if isinstance(got, str):
                raise NoSolutionError(f"branch {f.name!r} planned alone: {got}")
            out.append(got)
        return out
    serial: list[tuple[SolveResult, float]] = []
    for f in fs:
        try:
            serial.append(_alone_cost(ds, f, cfg, t0))
        except (InfeasibleError, NoSolutionError) as exc:
            raise type(exc)(f"branch {f.name!r} planned alone: {exc}") from None
    return serial


def _alone_cost(ds: Dataset, f: Future, cfg: PlanConfig, t0: float) -> tuple[SolveResult, float]:
    """One future planned alone: the solve and its plans' discounted cost as the records
    compute it."""
    res, plans = best_of(f, cfg, t0)
    return res, discounted_cost(f.ro, f.years, plans)


def branch_alone(
    data_dir: str, config: dict[str, object], n: int, end: float | None
) -> tuple[SolveResult, float] | str:
    """In a worker: branch ``n`` of the scenario ``config`` on the data at ``data_dir``
    planned alone (its solve and discounted cost), or why not (a message)."""
    ds = load_dataset(Path(data_dir))
    cfg = PlanConfig.model_validate(config)
    cfg = cfg.model_copy(update={"solver": within(cfg.solver, end)})
    (f,) = futures(ds, cfg, only=n)
    try:
        return _alone_cost(ds, f, cfg, time.perf_counter())
    except NisdError as exc:
        return str(exc)


def _goal(name: str, res: SolveResult) -> Goal:
    return Goal(goal=name, status=res.status, value=res.objective, bound=res.bound, gap=res.gap)


def _moves_goal(
    fs: Sequence[Future], plans: Sequence[Sequence[YearPlan]], results: Sequence[SolveResult]
) -> Goal:
    """The moves goal of a decomposed tree: the expected number of moves of the plans."""
    expected = sum(
        f.probability * sum(len(m) for m in migrations(list(bp)).values())
        for f, bp in zip(fs, plans, strict=True)
    )
    proved = all(r.status is Status.OPTIMAL for r in results)
    return Goal(
        goal="moves",
        status=Status.OPTIMAL if proved else Status.FEASIBLE,
        value=round(expected, 6),
    )


def _difference(a: float, b: float) -> float:
    """``a − b`` of two costs that are equal in theory up to the solver's tolerance and the
    records' rounding (1e-6 MSEK each): differences within 1e-4 MSEK (100 SEK) are 0."""
    x = a - b
    return 0.0 if abs(x) < 1e-4 else round(x, 6)


def rollout_tree(
    ds: Dataset,
    cfg: PlanConfig,
    inputs: Mapping[str, object] | None = None,
    runner: Runner | None = None,
    width: int = 1,
) -> Rollout:
    """Plan, check and record the roll-out of ``cfg`` over its branches (the branch solves
    through ``runner``, ``width`` side by side, when given).

    Raises
    ------
    ConfigError, InfeasibleError, NoSolutionError, PlanCheckError
    """
    t0 = time.perf_counter()
    u = tree_of(cfg)
    d = u.decision_year
    fs = futures(ds, cfg, Deadline.of(cfg.solver, t0).checker("deriving each branch's years"))
    for f in fs:
        try:
            precheck(f.years, f.ro)
        except InfeasibleError as exc:
            raise InfeasibleError(f"branch {f.name!r}: {exc}") from None
    notes: list[str] = []
    secs: dict[str, float] = {}
    ro = rollout_of(cfg)
    method = u.method
    if method == "auto":
        method = "decomposition" if separable(ro) else "extensive"
    if method == "decomposition":
        t = time.perf_counter()
        dec = decompose(ds, cfg, fs, d, u.objective, t0, runner, width)
        secs["decomposition"] = round(time.perf_counter() - t, 3)
        res, plans = dec.result, dec.plans
        bests = [(a.result, a.cost) for a in dec.alone]
        goals = [_goal("cost", res)]
        rounds: list[RoundRecord] = []
        steps = [res]
        notes += dec.notes
        eev = dec.average_future
        if "moves" in ro.objective:
            t = time.perf_counter()
            plans, moved, said = fewest_branch_moves(ds, cfg, fs, d, plans, t0, runner)
            notes += said
            if moved:
                goals.append(_moves_goal(fs, plans, moved))
            secs["fewest moves"] = round(time.perf_counter() - t, 3)
        t_build = 0.0
        model = ModelStats(variables=dec.size[0], constraints=dec.size[1])
        shape: dict[str, Any] = {
            "method": "decomposition",
            "lower_bound_msek": None if res.bound is None else round(res.bound, 6),
            "candidates": dec.candidates,
            "rounds": dec.iterations,
            "branch_solves": dec.solves,
        }
    else:
        t = time.perf_counter()
        bests = _own_bests(ds, fs, cfg, t0, runner)
        secs["each branch alone"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        tm = build_tree(fs, d, u.objective, [cost for _res, cost in bests])
        t_build = time.perf_counter() - t
        res, plans, rounds, steps = solve_tree(tm, cfg, t0)
        goals = [_goal("cost", res)]
        if "moves" in ro.objective and res.objective is not None:
            fewer = fewest_moves(tm, cfg, t0, res.objective)
            if fewer is None:
                notes.append("the fewest moves were not found within their time: the cost's plans")
            else:
                mres, plans, more, msteps = fewer
                rounds, steps = rounds + more, steps + msteps
                goals.append(_goal("moves", mres))
        secs["two-stage model"] = round(time.perf_counter() - t, 3)
        model = ModelStats(
            variables=len(tm.prob.variables()),
            constraints=len(tm.prob.constraints),
            families=dict(sorted(tm.families.items())),
        )
        shape = {"method": "extensive", "lower_bound_msek": res.bound}
        eev = None
        if u.objective == "expected":
            t = time.perf_counter()
            eev = _average_future_cost(ds, cfg, fs, d, t0, notes)
            secs["average future"] = round(time.perf_counter() - t, 3)
    found: list[str] = []
    for f, bp in zip(fs, plans, strict=True):
        found += [f"branch {f.name}: {x}" for x in checked(f.years, f.ro, bp)]
    raise_violations(found, "roll-out")
    stage = first_stage(fs, plans, d)
    results = []
    for f, bp, (best, own) in zip(fs, plans, bests, strict=True):
        records, schedule, totals = assemble(ds, f.cfg, f.years, bp)
        results.append(
            BranchResult(
                name=f.name,
                probability=f.probability,
                years=tuple(records),
                sites=tuple(schedule),
                totals=totals,
                own_best_msek=round(own, 6),
                own_best_status=best.status,
                regret_msek=_difference(totals.discounted_cost_msek, own),
            )
        )
    expected = sum(b.probability * b.totals.discounted_cost_msek for b in results)
    ws = sum(f.probability * own for f, (_res, own) in zip(fs, bests, strict=True))
    exact = res.status is Status.OPTIMAL and all(b.status is Status.OPTIMAL for b, _c in bests)
    if not exact:
        notes.append(
            "not every solve was proved optimal: EVPI and VSS are estimates within the gaps "
            "of the solves they are the difference of"
        )
    if u.objective != "expected":
        notes.append(
            f"objective {u.objective!r}: the value of the stochastic solution is defined for "
            "the expected cost and is not computed"
        )
    hedge = Hedge(
        objective=u.objective,
        expected_cost_msek=round(expected, 6),
        worst_cost_msek=round(max(b.totals.discounted_cost_msek for b in results), 6),
        max_regret_msek=round(max(b.regret_msek or 0.0 for b in results), 6),
        wait_and_see_msek=round(ws, 6),
        evpi_msek=_difference(expected, ws),
        average_future_msek=None if eev is None else round(eev, 6),
        vss_msek=None if eev is None else _difference(eev, expected),
        notes=tuple(notes),
        seconds=secs,
        **shape,
    )
    shown = max(results, key=lambda b: b.probability)  # the first of the most probable
    run = RunRecord(
        nisd_version=__version__,
        solver=res.solver,
        solver_version=res.solver_version,
        hit_limit=res.hit_limit,
        build_seconds=round(t_build, 3),
        solve_seconds=round(seconds(steps), 3),
        wall_seconds=round(time.perf_counter() - t0, 3),
        parameters=cfg.model_dump(mode="json"),
        model=model,
        rounds=tuple(rounds),
        **(inputs or {}),
    )
    return Rollout(
        goals=tuple(goals),
        status=res.status,
        objective=ObjectiveValue(name=f"cost ({u.objective}, over branches)", value=res.objective),
        bound=res.bound,
        gap=res.gap,
        years=shown.years,
        sites=shown.sites,
        totals=shown.totals,
        run=run,
        decision_year=d,
        branches=tuple(results),
        shown_branch=shown.name,
        first_stage=stage,
        hedge=hedge,
    )


def _average_future_cost(
    ds: Dataset, cfg: PlanConfig, fs: list[Future], d: int, t0: float, notes: list[str]
) -> float | None:
    """EEV: the expected cost over the branches when the first stage is the one planned
    for the average future and each branch then does its best (None, with a note, when that
    first stage leaves some branch without a roll-out or a solve stops without one)."""
    avg = average_future(ds, cfg, fs)
    try:
        _res, fixed = plan_first_stage(avg, cfg, t0, d)
    except (InfeasibleError, NoSolutionError) as exc:
        notes.append(f"the average future has no roll-out of its own ({exc}): no VSS")
        return None
    tm = build_tree(fs, d, "expected")
    fix_first_stage(tm, fixed)
    try:
        _res2, plans, _r, _s = solve_tree(tm, cfg, t0)
    except InfeasibleError:
        notes.append(
            "the first stage planned for the average future leaves some branch without a "
            "roll-out: hedging is not a saving but a necessity (VSS unbounded)"
        )
        return None
    except NoSolutionError as exc:
        notes.append(f"the average future's first stage could not be evaluated ({exc})")
        return None
    total = 0.0
    for f, bp in zip(fs, plans, strict=True):
        total += f.probability * discounted_cost(f.ro, f.years, bp)
    return total
