"""Solving in rounds: the one loop behind every plan, roll-out, robust plan and alternative.

A model holds the rows of some crisis scenarios only (a relaxation of the full model,
so each round's bound is valid for the full model). Each round solves it, extracts the
plan, and asks the caller which scenarios (or attacks) the plan violates; their rows
join the model and the loop goes on until none is violated, so the last plan is
feasible for the full model, and optimal when the last round was solved to optimality
(constraint generation).

Before a round's full solve, the *keep-sites* step solves the model with the last
round's sites fixed and only the assignments free: when that reaches the last round's
bound, the round is optimal without a search over the sites; otherwise what it found
starts the full solve. The time limit of the whole run is
:class:`~nisd.optimise.deadline.Deadline`'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import pulp

from nisd.errors import NisdError, NoSolutionError
from nisd.optimise.deadline import Deadline
from nisd.optimise.solve import (
    ABS_GAP,
    SolveResult,
    Start,
    Status,
    current_values,
    relative_gap,
)
from nisd.records.plan import RoundRecord

log = logging.getLogger(__name__)

MAX_NEW_SCENARIOS = 8  # scenarios added to the model per round (the most violated first)


def seconds(steps: Sequence[SolveResult]) -> float:
    """The solver time of several solves."""
    return sum(s.seconds for s in steps)


P = TypeVar("P")


class Rounds(Protocol[P]):
    """What the loop needs of a model solved in rounds (a static plan or a roll-out)."""

    prob: pulp.LpProblem

    def site_vars(self) -> Sequence[pulp.LpVariable]:
        """The variables that choose the sites (fixed by the keep-sites step)."""
        ...

    def can_keep_sites(self) -> bool:
        """Whether the keep-sites step may be tried (one objective, not several in order)."""
        ...

    def solve(self, start: Start | None) -> tuple[SolveResult, list[SolveResult]]:
        """One solve of the current objective within the deadline: the result and every
        solver run it took.

        Raises
        ------
        NoSolutionError
            The deadline has passed.
        """
        ...

    def extract(self) -> P:
        """The plan of the model's current solution."""
        ...

    def add_violated(self, plan: P, result: SolveResult, seconds: float) -> tuple[int, bool]:
        """Add the rows of what ``plan`` violates: the number violated (for the round's
        record) and whether rows were added (another round is needed).

        Raises
        ------
        PlanCheckError
            A scenario already in the model is violated (model and evaluator disagree).
        """
        ...

    def infeasible(self, result: SolveResult, steps: Sequence[SolveResult]) -> NisdError:
        """The error of a proved infeasibility (with what must give, where asked)."""
        ...

    def describe(self) -> dict[str, int | None]:
        """Further fields of a round's record (e.g. the scenarios in the model)."""
        ...


@dataclass
class Outcome(Generic[P]):
    """What the loop found: the last round's result and plan, every solver run, the rounds."""

    result: SolveResult
    plan: P
    steps: list[SolveResult]
    rounds: list[RoundRecord]


def keep_sites(
    r: Rounds[P], last: RoundRecord | None, steps: list[SolveResult]
) -> tuple[SolveResult | None, Start | None]:
    """Try the last round's sites again with only the assignments free.

    Returns the round's result when those sites reach the last round's bound (proved
    optimal for this round too), else None and what the attempt found as a start for
    the full solve (None when it found nothing). The attempt's time counts either way.
    """
    if (
        last is None
        or last.status is not Status.OPTIMAL
        or last.bound is None
        or not r.can_keep_sites()
    ):
        return None, None
    ys = list(r.site_vars())
    saved = [(v.lowBound, v.upBound) for v in ys]
    for v in ys:
        v.lowBound = v.upBound = round(v.value() or 0.0)
    try:
        res, done = r.solve(None)
    finally:
        for v, (lo, hi) in zip(ys, saved, strict=True):
            v.lowBound, v.upBound = lo, hi
    steps.extend(done)
    if res.status not in (Status.OPTIMAL, Status.FEASIBLE) or res.objective is None:
        return None, None
    bound = float(last.bound)
    if res.objective > bound + max(ABS_GAP, 1e-9 * abs(bound)):
        return None, current_values(r.prob)
    kept = SolveResult(
        Status.OPTIMAL,
        res.objective,
        bound,
        relative_gap(res.objective, bound),
        0.0,
        res.solver,
        res.solver_version,
        res.hit_limit,
    )
    return kept, None


def run_rounds(
    r: Rounds[P],
    deadline: Deadline,
    start: Start | None = None,
    *,
    checks: bool = True,
    carry_start: bool = False,
    label: str = "round",
) -> Outcome[P]:
    """Solve ``r`` round by round until its plan violates nothing (see the module).

    ``checks = False``: one solve, no round (nothing to check). ``carry_start``: each
    round starts from the last round's solution (else only the first round gets
    ``start``).

    Raises
    ------
    InfeasibleError, NoSolutionError, PlanCheckError
    """
    steps: list[SolveResult] = []
    rounds: list[RoundRecord] = []
    while True:
        deadline.check(len(rounds))
        t_round = time.perf_counter()
        kept, found = keep_sites(r, rounds[-1] if rounds else None, steps)
        round_steps: list[SolveResult] = []
        if kept is not None:
            res = kept
        else:
            res, round_steps = r.solve(found or start)
        start = None
        steps += round_steps
        if res.status is Status.INFEASIBLE:
            raise r.infeasible(res, steps)
        if res.status is Status.UNKNOWN or res.objective is None:
            raise NoSolutionError(
                f"{res.solver} stopped after {res.seconds:.1f} s without a plan "
                "and without a proof of infeasibility"
                + (" (time limit reached)" if res.hit_limit else "")
            )
        plan = r.extract()
        if not checks:
            return Outcome(res, plan, steps, rounds)
        if carry_start:
            start = current_values(r.prob)
        t_eval = time.perf_counter()
        described = r.describe()
        violated, more = r.add_violated(plan, res, t_eval - t_round)
        rounds.append(
            RoundRecord(
                round=len(rounds) + 1,
                status=res.status,
                objective=res.objective,
                bound=res.bound,
                violated=violated,
                solve_seconds=round(seconds(round_steps), 3),
                evaluate_seconds=round(time.perf_counter() - t_eval, 3),
                wall_seconds=round(time.perf_counter() - t_round, 3),
                **described,
            )
        )
        log.info(
            "%s %d: %s %.6g (bound %s), %d violated, %.1f s",
            label,
            len(rounds),
            res.status.value,
            res.objective,
            "n/a" if res.bound is None else f"{res.bound:.6g}",
            violated,
            deadline.elapsed(),
        )
        if not more:
            return Outcome(res, plan, steps, rounds)
