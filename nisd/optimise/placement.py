"""Solving a placement model in rounds: its objective (one, weighted or lexicographic, or a
caller's own), the crisis scenarios its plans violate, and, for a plan robust to
attacks, the worst attack on each plan (:mod:`nisd.optimise.robust`).

The loop itself is :func:`nisd.optimise.rounds.run_rounds`; this module says what a
round of a static placement is.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import pulp

from nisd.config import SolverOptions
from nisd.errors import InfeasibleError, NisdError, PlanCheckError
from nisd.optimise.deadline import Deadline
from nisd.optimise.explain import explain, what_must_give
from nisd.optimise.extract import Assign, Sites, extract
from nisd.optimise.flows import problem_flows, violated
from nisd.optimise.model import Model, add_crisis_flow, objective_names
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.robust import AttackRounds
from nisd.optimise.rounds import MAX_NEW_SCENARIOS, run_rounds, seconds
from nisd.optimise.solve import SolveResult, Start, Status, solve, weakest
from nisd.records.plan import RoundRecord, WarRecord


@dataclass
class Solved:
    """What the rounds found: the last round's result and plan, and its record."""

    result: SolveResult
    objective_name: str
    sites: Sites
    assign: Assign
    model: Model
    steps: list[SolveResult]
    rounds: list[RoundRecord]
    pp: PlacementProblem  # with the attacks found while planning, when robust to attacks
    war: WarRecord | None = None


def solve_objective(
    pp: PlacementProblem,
    m: Model,
    opts: SolverOptions,
    objective: pulp.LpAffineExpression | None = None,
    start: Start | None = None,
) -> tuple[SolveResult, str, list[SolveResult]]:
    """One solve of the model's objective: the scenario's (one name, a weighted sum, or
    several in order, each held within ``tolerance`` of its optimum), or ``objective``
    (a caller's own, e.g. modelling to generate alternatives). Returns the result (for
    several in order: the weakest status of the steps), the objective's name, and every
    solver run."""
    if objective is not None:
        m.prob.setObjective(objective)
        res = solve(m.prob, opts, start)
        return res, "custom", [res]
    obj = pp.config.objective
    names = objective_names(pp)
    if obj.name == "lexicographic":
        results: list[SolveResult] = []
        held: list[str] = []
        try:
            for step, name in enumerate(names):
                m.prob.setObjective(m.terms[name])
                res = solve(m.prob, opts, start if step == 0 else None)
                results.append(res)
                if res.status in (Status.INFEASIBLE, Status.UNKNOWN) or res.objective is None:
                    return res, name, results
                if step < len(names) - 1:
                    slack = obj.tolerance * abs(res.objective) + 1e-6
                    held.append(f"{m.prefix}lex_{name}_{m.families.get(f'lex_{name}', 0)}")
                    m.add(f"lex_{name}", m.terms[name] <= res.objective + slack)
        finally:
            # an objective held in one round of scenarios is not valid in the next
            for row in held:
                m.prob.constraints.pop(row, None)
        return weakest(results, results[-1], results), "lexicographic:" + ">".join(names), results
    if obj.name == "weighted":
        m.prob.setObjective(pulp.lpSum(w * m.terms[str(n)] for n, w in obj.weights.items()))
    else:
        m.prob.setObjective(m.terms[names[0]])
    res = solve(m.prob, opts, start)
    return res, obj.name, [res]


class _Rounds:
    """A static placement as :func:`~nisd.optimise.rounds.run_rounds` solves it."""

    def __init__(
        self,
        pp: PlacementProblem,
        m: Model,
        deadline: Deadline,
        objective: pulp.LpAffineExpression | None,
        explain_infeasible: bool,
    ) -> None:
        self.pp, self.m, self.deadline = pp, m, deadline
        self.prob = m.prob
        self.objective = objective
        self.explain_infeasible = explain_infeasible
        self.war = AttackRounds(pp) if pp.config.war.on else None
        self.name = ""

    def site_vars(self) -> Sequence[pulp.LpVariable]:
        return list(self.m.y.values())

    def can_keep_sites(self) -> bool:
        return self.pp.config.objective.name != "lexicographic"

    def solve(self, start: Start | None) -> tuple[SolveResult, list[SolveResult]]:
        opts = self.deadline.options(self.pp.config.solver)
        res, self.name, done = solve_objective(self.pp, self.m, opts, self.objective, start)
        return res, done

    def extract(self) -> tuple[Sites, Assign]:
        return extract(self.pp, self.m)

    def describe(self) -> dict[str, int | None]:
        return {"scenarios_in_model": len(self.m.flow_scenarios)}

    def add_violated(
        self, plan: tuple[Sites, Assign], result: SolveResult, seconds: float
    ) -> tuple[int, bool]:
        sites, assign = plan
        short = violated(self.pp, problem_flows(self.pp, sites, assign))
        if short:
            again = [n for _v, n in short if n in self.m.flow_scenarios]
            if again:
                raise PlanCheckError(
                    "the model and the served-load evaluator disagree: the plan violates "
                    f"scenario(s) already in the model: {', '.join(again[:5])}"
                )
            add_crisis_flow(self.m, self.pp, [n for _v, n in short[:MAX_NEW_SCENARIOS]])
            return len(short), True
        if self.war is not None:
            self.pp, added = self.war.check(self.pp, sites, assign, result, seconds)
            if added is not None:
                add_crisis_flow(self.m, self.pp, [added])
                return 0, True
        return 0, False

    def infeasible(self, result: SolveResult, steps: Sequence[SolveResult]) -> NisdError:
        reasons = explain(self.pp, self.m.flow_scenarios) if self.explain_infeasible else []
        return InfeasibleError(
            f"no plan satisfies the constraints (proved by {result.solver} in "
            f"{seconds(steps):.1f} s)." + what_must_give(reasons)
        )


def solve_rounds(
    pp: PlacementProblem,
    m: Model,
    t0: float | None = None,
    objective: pulp.LpAffineExpression | None = None,
    start: Start | None = None,
    explain_infeasible: bool = True,
) -> Solved:
    """Solve ``m``; with crisis scenarios (or attacks), add the violated ones' rows until
    none is (:func:`nisd.optimise.rounds.run_rounds`).

    ``explain_infeasible = False`` skips the elastic explanation of a proved
    infeasibility (studies that only need "no plan").

    Raises
    ------
    InfeasibleError, NoSolutionError, PlanCheckError
    """
    deadline = Deadline.of(pp.config.solver, time.perf_counter() if t0 is None else t0)
    r = _Rounds(pp, m, deadline, objective, explain_infeasible)
    out = run_rounds(r, deadline, start, checks=bool(pp.scenarios) or r.war is not None)
    sites, assign = out.plan
    return Solved(
        out.result,
        r.name,
        sites,
        assign,
        m,
        out.steps,
        out.rounds,
        r.pp,
        None if r.war is None else r.war.record(r.pp),
    )
