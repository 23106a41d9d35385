"""The scenario decomposition's search against brute force on random tables of branch
costs: each branch's cost under each first stage (or impossible), the branch solves
answered from the table. Many first stages and conflicting branches make the search run
its rounds of no-good rows, which the tiny countries of test_rollout_tree rarely need."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nisd.optimise.rollout.scenario_decomposition import (
    BranchSolve,
    Job,
    Stage,
    search,
)
from nisd.optimise.solve import SolveResult, Status

STAGES = [frozenset({(2030, f"s{k}", "regional")}) for k in range(7)]


def _solve(cost: float, stage: Stage) -> BranchSolve:
    res = SolveResult(Status.OPTIMAL, cost, cost, 0.0, 0.0, "table", "0", False)
    return BranchSolve(res, [], cost, cost, stage, (1, 1))


class Table:
    """Branch n's cost under stage k, ``None`` where impossible; solves counted."""

    def __init__(self, costs: list[list[int | None]], average: int) -> None:
        self.costs, self.average, self.jobs = costs, average, 0

    def best(self, n: int, cuts: tuple[Stage, ...]) -> BranchSolve | None:
        options = [
            (c, k) for k, c in enumerate(self.costs[n]) if c is not None and STAGES[k] not in cuts
        ]
        if not options:
            return None
        c, k = min(options)
        return _solve(float(c), STAGES[k])

    def run(self, jobs: list[Job]) -> dict[str, BranchSolve | None]:
        self.jobs += len(jobs)
        out: dict[str, BranchSolve | None] = {}
        for key, n, fixed, cuts in jobs:
            if n == len(self.costs):  # the average future: its own first stage
                out[key] = _solve(0.0, STAGES[self.average])
            elif fixed is None:
                out[key] = self.best(n, cuts)
            else:
                c = self.costs[n][STAGES.index(fixed)]
                out[key] = None if c is None else _solve(float(c), fixed)
        return out


def brute(costs: list[list[int | None]], p: list[float], objective: str) -> float | None:
    own = [min(c for c in row if c is not None) for row in costs]
    values = []
    for k in range(len(STAGES)):
        col = [row[k] for row in costs]
        if any(c is None for c in col):
            continue
        v = [float(c) for c in col if c is not None]
        if objective == "expected":
            values.append(sum(a * b for a, b in zip(p, v, strict=True)))
        elif objective == "worst":
            values.append(max(v))
        else:
            values.append(max(a - b for a, b in zip(v, own, strict=True)))
    return min(values) if values else None


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[list[int | None]], list[float], int]:
    nb = draw(st.integers(2, 4))
    cell = st.one_of(st.none(), st.integers(10, 40))
    costs = [draw(st.lists(cell, min_size=len(STAGES), max_size=len(STAGES))) for _ in range(nb)]
    for row in costs:  # every branch has a roll-out planned alone
        if all(c is None for c in row):
            row[draw(st.integers(0, len(STAGES) - 1))] = draw(st.integers(10, 40))
    w = draw(st.lists(st.integers(1, 5), min_size=nb, max_size=nb))
    return costs, [x / sum(w) for x in w], draw(st.integers(0, len(STAGES) - 1))


@settings(max_examples=300, deadline=None)
@given(
    case=tables(),
    objective=st.sampled_from(["expected", "worst", "regret"]),
    width=st.integers(1, 3),
)
def test_search_finds_the_brute_force_optimum(case: Any, objective: str, width: int) -> None:
    costs, p, average = case
    table = Table(costs, average)
    names = [f"b{n}" for n in range(len(costs))]
    found = search(table.run, names, p, objective, 0.0, lambda: False, width)
    want = brute(costs, p, objective)
    if want is None:
        assert found.best is None and math.isinf(found.lower)
        return
    assert found.best is not None
    k = STAGES.index(found.best)
    got = brute([[row[k]] + [None] * (len(STAGES) - 1) for row in costs], p, objective)
    if objective != "regret":  # regret's own bests are the whole rows'
        assert got is not None and abs(got - want) < 1e-6
    assert abs(found.upper - want) < 1e-6
    assert found.lower <= want + 1e-6
    # a branch's cost under the chosen stage is its table entry
    for n, row in enumerate(costs):
        sol = found.evaluated[found.best][n]
        assert sol is not None and sol.cost == row[k]


@settings(max_examples=100, deadline=None)
@given(case=tables(), objective=st.sampled_from(["expected", "worst", "regret"]))
def test_a_search_stopped_early_brackets_the_optimum(case: Any, objective: str) -> None:
    """Out of time after the first candidates: the bounds still hold the optimum, and the
    gap is said."""
    costs, p, average = case
    names = [f"b{n}" for n in range(len(costs))]
    found = search(Table(costs, average).run, names, p, objective, 0.0, lambda: True)
    want = brute(costs, p, objective)
    if want is None:
        return
    assert found.lower <= want + 1e-6
    if found.best is not None:
        assert found.upper >= want - 1e-6
        if found.upper - found.lower > 1e-6:
            assert any("time limit" in x for x in found.notes)


def test_one_candidate_shared_by_every_branch_needs_no_evaluation() -> None:
    """Every branch's own best has the same first stage: proved at once, one solve per
    branch and the average future's."""
    costs: list[list[int | None]] = [[10, 20, 30, 40, 40, 40, 40], [15, 16, 30, 40, 40, 40, 40]]
    table = Table(costs, 0)
    found = search(table.run, ["a", "b"], [0.5, 0.5], "expected", 0.0, lambda: False)
    assert found.best == STAGES[0] and found.rounds == 0
    assert table.jobs == 3


def test_a_candidate_is_left_once_it_cannot_win() -> None:
    """Branch 0's own first stage is impossible in branch 1 (the most probable left): the
    search does not plan branch 2 with it."""
    x = None
    costs: list[list[int | None]] = [[10, 30, x, x, x, x, x], [x, 12, x, x, x, x, x]]
    costs.append(list(costs[1]))
    table = Table(costs, 1)
    found = search(table.run, ["a", "b", "c"], [0.2, 0.4, 0.4], "expected", 0.0, lambda: False)
    assert found.best == STAGES[1] and abs(found.upper - 15.6) < 1e-9
    assert 2 not in found.evaluated[STAGES[0]]
    # 3 alone, the average future, stage 1 in branch 0, stage 0 in branch 1, 3 alone again
    assert table.jobs == 9


def test_a_task_started_late_gets_only_the_time_left() -> None:
    """A task handed to a worker reads the run's end, not the seconds left when it was
    handed out: one that starts 5 s late has 5 s less."""
    import time

    from nisd.config import SolverOptions
    from nisd.optimise.deadline import ends_at, within

    opts = SolverOptions(time_limit=100.0)
    end = ends_at(opts, time.perf_counter() - 30.0)  # 30 s of the run are gone
    assert end is not None
    left = within(opts, end).time_limit
    assert left is not None and 69.0 < left <= 70.0
    assert within(opts, end - 5.0).time_limit == pytest.approx(left - 5.0, abs=0.5)
    assert within(opts, time.time() - 1.0).time_limit == 1.0  # past the end: 1 s
    assert ends_at(SolverOptions(), 0.0) is None and within(opts, None) is opts
