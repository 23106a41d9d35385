"""The two-stage roll-out by scenario decomposition: every branch planned on its own, side
by side, never one model of all branches.

The first stage of a roll-out under uncertainty is a set of site decisions (which sites
are in service in each year before the decision year D, and which new sites were started
before D, :func:`stage_of`). When the years are linked only through the sites (no
migration cost, no migration cap, no moves goal), a branch's cost given its first stage is
a roll-out of its own with those sites fixed, and the years before D have the same users,
loads and rules in every branch, so one plan of them serves all.

The method is the scenario decomposition of Ahmed (2013), *A scenario decomposition
algorithm for 0–1 stochastic programs*, Operations Research Letters 41(6):

1. each branch planned alone gives a bound ``z_b`` on its cost under any first stage, and
   its own first stage as a candidate (the average future's first stage is one more);
2. a candidate is evaluated by planning every branch with that first stage fixed; the
   best candidate's expected (worst, largest-regret) cost is an upper bound;
3. the same aggregate of the ``z_b`` is a lower bound over the candidates not yet
   evaluated; when it reaches the upper bound the best candidate is proved optimal;
4. otherwise every branch is planned alone again with a no-good row excluding each
   evaluated candidate: new bounds, new candidates, and again.

Each step's branch solves are independent: ``runner`` (worker processes or Dask) runs them
side by side. A step's solves that stop at the time limit keep their plans (upper
bounds) and their solver's bound (lower bounds), so the gap reported is honest. The
extensive form (:mod:`nisd.optimise.rollout.tree`) stays for roll-outs whose years are
linked through the assignments.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pulp

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, NisdError, NoSolutionError
from nisd.io import load_dataset
from nisd.io.load import require_on_disk
from nisd.optimise.deadline import ends_at, within
from nisd.optimise.rollout.assemble import discounted_cost
from nisd.optimise.rollout.branches import Future, average_future, futures, tree_of
from nisd.optimise.rollout.model import RolloutModel, build_rollout
from nisd.optimise.rollout.solve import solve_rollout
from nisd.optimise.rollout.tree import first_stage_keys
from nisd.optimise.rollout.years import YearPlan
from nisd.optimise.solve import SolveResult, Status, relative_gap

log = logging.getLogger(__name__)

MAX_ITERATIONS = 25  # rounds of no-good rows: at most (the time limit stops it earlier)
DEFAULT_GAP = 1e-4  # relative, when the scenario sets no solver gap (HiGHS's own default)

Stage = frozenset[tuple[int, str, str]]  # (year, site, type) of the first-stage sites
Task = tuple[str, Callable[..., Any], tuple[Any, ...]]
Runner = Callable[[list[Task]], Iterable[tuple[str, Any]]]


def stage_of(f: Future, plans: Sequence[YearPlan], d: int) -> Stage:
    """The first stage of a branch's plans: every site in service before ``d``, and every
    new site in service in a year it must have been started before ``d`` for."""
    out = set()
    for yp in plans:
        for s, t in yp.sites.items():
            lead = f.ro.lead_time_years.get(t, 0)
            if yp.year < d or (s not in f.ro.existing and yp.year <= d - 1 + lead):
                out.add((yp.year, s, t))
    return frozenset(out)


@dataclass(frozen=True)
class BranchSolve:
    """One branch planned (alone, under no-good rows, or with a first stage fixed)."""

    result: SolveResult
    plans: list[YearPlan]
    cost: float  # discounted, as the records compute it from the plans
    lower: float  # a bound on the branch's cost over the first stages the solve allowed
    stage: Stage
    size: tuple[int, int]  # variables, rows


def _stage_vars(
    f: Future, rm: RolloutModel, d: int
) -> list[tuple[tuple[int, str, str], pulp.LpVariable]]:
    pp = f.years[0].pp
    out = []
    for year, kind, key in first_stage_keys(f, rm, d):
        if kind == "y":
            j, t = key
            out.append(((year, pp.site_ids[j], pp.type_ids[t]), rm.models[year].y[j, t]))
    return out


def solve_branch(
    f: Future,
    cfg: PlanConfig,
    t0: float,
    d: int,
    fixed: Stage | None = None,
    cuts: Sequence[Stage] = (),
) -> BranchSolve | None:
    """Plan one branch at least cost: alone, with ``fixed`` as its first stage, and/or
    with no first stage of ``cuts``; None when proved impossible.

    Raises
    ------
    NoSolutionError
        The time limit came before a plan.
    """
    ro = f.ro.model_copy(update={"objective": ["cost"]})
    c = f.cfg.model_copy(update={"rollout": ro, "solver": cfg.solver})
    rm = build_rollout(f.years, ro)
    keyed = _stage_vars(f, rm, d)
    have = {k for k, _v in keyed}
    if fixed is not None:
        if not fixed <= have:
            return None  # a first-stage site this branch's rules forbid
        for k, v in keyed:
            v.lowBound = v.upBound = 1 if k in fixed else 0
    for n, cut in enumerate(cuts):
        if cut <= have:  # else every first stage of this branch differs from it already
            rm.prob += (
                pulp.lpSum((1 - v) if k in cut else v for k, v in keyed) >= 1,
                f"not_stage_{n}",
            )
    try:
        res, plans, _rounds, _steps = solve_rollout(rm, c, t0, explain=False)
    except InfeasibleError:
        return None
    cost = discounted_cost(f.ro, f.years, plans)
    lower = cost if res.bound is None or res.status is Status.OPTIMAL else min(cost, res.bound)
    size = (len(rm.prob.variables()), len(rm.prob.constraints))
    return BranchSolve(res, plans, cost, lower, stage_of(f, plans, d), size)


def branch_task(
    data_dir: str,
    config: dict[str, object],
    n: int,
    fixed: Stage | None,
    cuts: Sequence[Stage],
    end: float | None,
) -> BranchSolve | str | None:
    """In a worker: branch ``n`` of the scenario ``config`` (``n`` = the number of branches:
    the average future) on the data at ``data_dir``, planned as :func:`solve_branch`;
    a message when it could not be."""
    ds = load_dataset(Path(data_dir))
    cfg = PlanConfig.model_validate(config)
    cfg = cfg.model_copy(update={"solver": within(cfg.solver, end)})
    fs = futures(ds, cfg)
    f = fs[n] if n < len(fs) else average_future(ds, cfg, fs)
    d = tree_of(cfg).decision_year
    try:
        return solve_branch(f, cfg, time.perf_counter(), d, fixed, cuts)
    except NisdError as exc:
        return str(exc)


Job = tuple[str, int, Stage | None, tuple[Stage, ...]]  # key, branch, fixed, cuts


@dataclass
class Decomposition:
    """The scenario decomposition's answer: each branch's plans under the best first
    stage, the bounds, each branch planned alone, and the average future's figures."""

    plans: list[list[YearPlan]]
    result: SolveResult  # objective: the upper bound; bound: the lower bound
    alone: list[BranchSolve]
    average_future: float | None  # expected cost with the average future's first stage
    notes: list[str] = field(default_factory=list)
    iterations: int = 0
    candidates: int = 0
    solves: int = 0
    size: tuple[int, int] = (0, 0)  # the largest branch model: variables, rows


class _Branches:
    """Runs branch solves, serially in this process or as tasks through a runner."""

    def __init__(
        self,
        ds: Dataset,
        cfg: PlanConfig,
        fs: list[Future],
        d: int,
        t0: float,
        runner: Runner | None,
    ) -> None:
        self.ds, self.cfg, self.fs, self.d, self.t0, self.runner = ds, cfg, fs, d, t0, runner
        self._average: Future | None = None
        self.solves = 0
        if runner is not None:
            require_on_disk(ds, "the branches planned on workers read the data")

    def future(self, n: int) -> Future:
        if n < len(self.fs):
            return self.fs[n]
        if self._average is None:
            self._average = average_future(self.ds, self.cfg, self.fs)
        return self._average

    def run(self, jobs: list[Job]) -> dict[str, BranchSolve | None]:
        self.solves += len(jobs)
        if self.runner is None:
            return {
                key: solve_branch(self.future(n), self.cfg, self.t0, self.d, fixed, cuts)
                for key, n, fixed, cuts in jobs
            }
        end = ends_at(self.cfg.solver, self.t0)
        config = self.cfg.model_dump(mode="json")
        tasks: list[Task] = [
            (key, branch_task, (str(self.ds.path), config, n, fixed, cuts, end))
            for key, n, fixed, cuts in jobs
        ]
        out: dict[str, BranchSolve | None] = {}
        for key, got in self.runner(tasks):
            if isinstance(got, str):
                raise NoSolutionError(got)
            out[key] = got
        return out


def _aggregate(
    objective: str, probabilities: Sequence[float], best: Sequence[float]
) -> Callable[[Sequence[float]], float]:
    if objective == "expected":
        return lambda v: sum(p * x for p, x in zip(probabilities, v, strict=True))
    if objective == "worst":
        return max
    return lambda v: max(x - b for x, b in zip(v, best, strict=True))


Run = Callable[[list[Job]], dict[str, "BranchSolve | None"]]


@dataclass
class Search:
    """What the search found: each branch alone, the average future's plan, every
    candidate evaluated (``evaluated[stage][n]``: branch n with that first stage, None
    when impossible), the best candidate and the bounds."""

    alone: list[BranchSolve]
    average: BranchSolve | None
    evaluated: dict[Stage, dict[int, BranchSolve | None]]
    best: Stage | None
    upper: float
    lower: float
    rounds: int
    notes: list[str]


def search(
    run: Run,
    names: Sequence[str],
    probabilities: Sequence[float],
    objective: str,
    tol: float,
    out_of_time: Callable[[], bool],
    width: int = 1,
) -> Search:
    """The scenario decomposition's loop over the branch solves ``run`` makes (job keys:
    ``alone N``, ``average``, ``K N`` for candidate K in branch N): bounds from the branches
    alone, candidates evaluated in order of promise, rounds of no-good rows until the
    bounds meet within ``tol`` (relative), ``out_of_time()`` or ``MAX_ITERATIONS``.
    ``width``: the branch solves run side by side (a candidate is evaluated that many
    branches at a time, and left as soon as it cannot beat the best).

    Raises
    ------
    InfeasibleError
        A branch has no roll-out even planned alone.
    """
    nb = len(names)
    jobs: list[Job] = [(f"alone {n}", n, None, ()) for n in range(nb)]
    if objective == "expected":
        jobs.append(("average", nb, None, ()))
    got = run(jobs)
    alone: list[BranchSolve] = []
    for n, name in enumerate(names):
        a = got[f"alone {n}"]
        if a is None:
            raise InfeasibleError(f"branch {name!r} has no roll-out even planned alone")
        alone.append(a)
    agg = _aggregate(objective, probabilities, [a.cost for a in alone])
    evaluated: dict[Stage, dict[int, BranchSolve | None]] = {}
    order: list[Stage] = []

    def propose(stage: Stage) -> None:
        if stage not in evaluated:
            evaluated[stage] = {}
            order.append(stage)

    for n, a in enumerate(alone):
        propose(a.stage)
        evaluated[a.stage][n] = a  # its own best is its best under its own first stage
    avg = got.get("average")
    notes: list[str] = []
    if objective == "expected" and avg is None:
        notes.append("the average future has no roll-out of its own: no VSS")
    first_lower = [a.lower for a in alone]  # bounds on each branch under any first stage
    lower = list(first_lower)  # … under the first stages not yet excluded
    lb = agg(lower)
    ub, best = math.inf, None
    rounds = 0

    def slack(x: float) -> float:
        return max(1e-6, tol * abs(x))

    def optimistic(stage: Stage) -> float:
        """A bound on a candidate's value from what is known of it."""
        sols = evaluated[stage]
        known = [
            first_lower[n] if n not in sols else math.inf if (x := sols[n]) is None else x.cost
            for n in range(nb)
        ]
        return agg(known)

    def evaluate(stage: Stage, whole: bool = False) -> None:
        """Plan the branches with ``stage`` fixed, ``width`` at a time, the most probable
        first; stop once the candidate cannot beat the best (unless ``whole``)."""
        k = order.index(stage)
        missing = sorted(
            (n for n in range(nb) if n not in evaluated[stage]), key=lambda n: -probabilities[n]
        )
        for at in range(0, len(missing), max(width, 1)):
            todo: list[Job] = [(f"{k} {n}", n, stage, ()) for n in missing[at : at + width]]
            for key, sol in run(todo).items():
                evaluated[stage][int(key.split()[1])] = sol
            if not whole and optimistic(stage) >= ub - slack(ub):
                return

    if avg is not None:
        propose(avg.stage)
        evaluate(avg.stage, whole=True)  # the value of the stochastic solution needs it whole
    while True:
        # the candidates in order of promise; one that cannot beat the best is left
        for stage in sorted(order, key=optimistic):
            if len(evaluated[stage]) < nb and optimistic(stage) < ub - slack(ub):
                evaluate(stage)
            value = optimistic(stage)
            if len(evaluated[stage]) == nb and value < ub - 1e-9:
                ub, best = value, stage
        lb = max(lb, agg(lower))
        if best is not None and ub - min(lb, ub) <= slack(ub):
            break
        if math.isinf(lb):
            break  # no first stage left that every branch can have
        if out_of_time():
            notes.append("the time limit stopped the decomposition: the gap is stated")
            break
        if rounds >= MAX_ITERATIONS:
            notes.append(f"the decomposition stopped after {MAX_ITERATIONS} rounds of no-good rows")
            break
        rounds += 1
        # every candidate so far is evaluated or cannot beat the best: exclude them all
        cuts = tuple(order)
        again = run([(f"alone {n}", n, None, cuts) for n in range(nb)])
        for n in range(nb):
            sol = again[f"alone {n}"]
            if sol is None:
                lower[n] = math.inf  # every other first stage is impossible in branch n
                continue
            lower[n] = sol.lower
            propose(sol.stage)
            evaluated[sol.stage][n] = sol
        log.info("decomposition round %d: bounds %.3f … %.3f", rounds, agg(lower), ub)
    return Search(alone, avg, evaluated, best, ub, min(lb, ub), rounds, notes)


def decompose(
    ds: Dataset,
    cfg: PlanConfig,
    fs: list[Future],
    d: int,
    objective: str,
    t0: float,
    runner: Runner | None = None,
    width: int = 1,
) -> Decomposition:
    """The best first stage over the branches ``fs`` by scenario decomposition (see the
    module docstring), proved within the scenario's gap or stopped at its time limit with
    the gap stated.

    Raises
    ------
    InfeasibleError
        A branch has no roll-out even planned alone, or no first stage serves every branch.
    NoSolutionError
        The time limit came before a first stage serving every branch was found.
    """
    runs = _Branches(ds, cfg, fs, d, t0, runner)
    nb = len(fs)
    tol = cfg.solver.gap if cfg.solver.gap is not None else DEFAULT_GAP
    limit = cfg.solver.time_limit
    found = search(
        runs.run,
        [f.name for f in fs],
        [f.probability for f in fs],
        objective,
        tol,
        lambda: limit is not None and time.perf_counter() - t0 >= limit,
        width if runner is not None else 1,
    )
    notes = list(found.notes)
    if found.best is None:
        if math.isinf(found.lower):
            raise InfeasibleError(
                "no first stage serves every branch: the first stages each branch can have "
                "leave another branch without a roll-out (plan each branch alone to see which)"
            )
        raise NoSolutionError(
            "the time limit came before a first stage that serves every branch was found"
        )
    chosen = [found.evaluated[found.best][n] for n in range(nb)]
    plans = _shared_trunk([s.plans for s in chosen if s is not None], d)
    eev = None
    if found.average is not None:
        at = [found.evaluated[found.average.stage][n] for n in range(nb)]
        every_branch = [x for x in at if x is not None]
        if len(every_branch) < nb:
            notes.append(
                "the first stage planned for the average future leaves some branch without a "
                "roll-out: hedging is not a saving but a necessity (VSS unbounded)"
            )
        else:
            eev = sum(f.probability * x.cost for f, x in zip(fs, every_branch, strict=True))
    ub, bound = found.upper, found.lower
    gap = relative_gap(ub, bound)
    proved = ub - bound <= max(1e-6, tol * abs(ub))
    first = found.alone[0].result
    every = [s for per in found.evaluated.values() for s in per.values() if s is not None]
    result = SolveResult(
        status=Status.OPTIMAL if proved else Status.FEASIBLE,
        objective=ub,
        bound=bound,
        gap=gap,
        seconds=round(sum(s.result.seconds for s in every), 3),
        solver=first.solver,
        solver_version=first.solver_version,
        hit_limit=any(s.result.hit_limit for s in every),
    )
    return Decomposition(
        plans=plans,
        result=result,
        alone=found.alone,
        average_future=eev,
        notes=notes,
        iterations=found.rounds,
        candidates=len(found.evaluated),
        solves=runs.solves,
        size=max((s.size for s in every), default=(0, 0)),
    )


def _shared_trunk(plans: list[list[YearPlan]], d: int) -> list[list[YearPlan]]:
    """Every branch's plans with the first branch's years before ``d``: with one first
    stage the years before ``d`` cost the same in every branch (the same sites, users and
    rules), so one plan of them is every branch's."""
    trunk = {yp.year: yp for yp in plans[0] if yp.year < d}
    return [[replace(trunk[yp.year]) if yp.year in trunk else yp for yp in bp] for bp in plans]
