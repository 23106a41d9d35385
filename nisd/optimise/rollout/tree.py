"""The two-stage roll-out: one model over every branch of a scenario tree.

Each branch (:mod:`nisd.optimise.rollout.branches`) is a whole roll-out
(:func:`nisd.optimise.rollout.model.build_rollout`) in one shared problem, names prefixed
``b<n>_``. Non-anticipativity (the ``same_first_stage`` rows) ties the branches to the
first branch where a decision is taken before the decision year D, when nobody knows which
future comes:

* every site variable ``y[b,u,j,t]`` and every assignment ``x[b,u,i,j,r]`` of a year
  u < D (the users on board before D are the same in every branch, by validation);
* the site variables of a new site of lead time L in the years D … D − 1 + L: a site in
  service in such a year was started before D (its capital was spent then), so it is
  built in every branch. Construction once started is finished (not abandoned).

Objective: the expected discounted cost ``Σ_b p_b cost_b`` (the years before D count
once: they are equal in every branch); or the worst branch's ``z ≥ cost_b``; or the
largest regret ``z ≥ cost_b − best_b`` with ``best_b`` each branch's own best roll-out.
Capacity-true readiness is added lazily per (branch, year, scenario) as in a roll-out;
every branch is then checked as a roll-out (the checker, the evaluator, the links between
years), and the first stage is checked from the branches' plans alone.

What hedging is worth (Birge & Louveaux, *Introduction to Stochastic Programming*, ch. 4):
the wait-and-see cost ``WS = Σ_b p_b best_b``, the expected value of perfect information
``EVPI = RP − WS`` with RP the expected cost of the two-stage plan, and the value of the
stochastic solution ``VSS = EEV − RP`` with EEV the expected cost when the first stage is
the one planned for the average future (:func:`~nisd.optimise.rollout.branches.
average_future`) and every branch then does its best.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulp

from nisd.config import PlanConfig
from nisd.errors import InfeasibleError, NisdError, NoSolutionError
from nisd.optimise.deadline import Deadline
from nisd.optimise.rollout.branches import Future
from nisd.optimise.rollout.model import RolloutModel, build_rollout
from nisd.optimise.rollout.solve import SECONDARY_SECONDS, _Rounds, solve_rollout
from nisd.optimise.rollout.years import YearPlan
from nisd.optimise.rounds import run_rounds, seconds
from nisd.optimise.solve import SolveResult, Start, current_values, solve
from nisd.records.plan import RoundRecord

log = logging.getLogger(__name__)


@dataclass
class TreeModel:
    """Every branch's roll-out in one problem, the non-anticipativity rows and the goal."""

    prob: pulp.LpProblem
    futures: list[Future]
    branches: list[RolloutModel]
    decision_year: int
    objective: str
    goal: pulp.LpAffineExpression = field(default_factory=pulp.LpAffineExpression)
    families: dict[str, int] = field(default_factory=dict)


def first_stage_keys(f: Future, rm: RolloutModel, d: int) -> list[tuple[int, str, tuple[int, ...]]]:
    """The first-stage decisions of one branch's model: (year, "y" or "x", key)."""
    lead = [f.ro.lead_time_years.get(t, 0) for t in f.years[0].pp.type_ids]
    existing = set(f.ro.existing)
    site_ids = f.years[0].pp.site_ids
    out: list[tuple[int, str, tuple[int, ...]]] = []
    for yr in f.years:
        m = rm.models[yr.year]
        for j, t in sorted(m.y):
            if yr.year < d or (site_ids[j] not in existing and yr.year <= d - 1 + lead[t]):
                out.append((yr.year, "y", (j, t)))
        if yr.year < d:
            out += [(yr.year, "x", key) for key in sorted(m.x_lead)]
    return out


def stage_var(rm: RolloutModel, year: int, kind: str, key: tuple[int, ...]) -> pulp.LpVariable:
    """The variable of one first-stage decision (a key of :func:`first_stage_keys`)."""
    m = rm.models[year]
    return m.y[key[0], key[1]] if kind == "y" else m.x_lead[key[0], key[1], key[2]]


def build_tree(
    fs: list[Future], d: int, objective: str = "expected", best: Sequence[float] | None = None
) -> TreeModel:
    """The two-stage model of ``fs`` with decision year ``d`` (see the module docstring).
    ``best``: each branch's own best cost, for the regret objective."""
    prob = pulp.LpProblem("nisd_rollout_tree", pulp.LpMinimize)
    rms = [build_rollout(f.years, f.ro, prob, prefix=f"b{n}_") for n, f in enumerate(fs)]
    tm = TreeModel(prob, fs, rms, d, objective)
    keys = first_stage_keys(fs[0], rms[0], d)
    n_rows = 0
    for year, kind, key in keys:
        first = stage_var(rms[0], year, kind, key)
        for rm in rms[1:]:
            prob += stage_var(rm, year, kind, key) == first, f"same_first_stage_{n_rows}"
            n_rows += 1
    tm.families["same_first_stage"] = n_rows
    costs = [rm.goals["cost"] for rm in rms]
    if objective == "expected":
        tm.goal = pulp.lpSum(f.probability * c for f, c in zip(fs, costs, strict=True))
    else:
        if objective == "regret" and best is None:
            raise ValueError("the regret objective needs each branch's own best cost")
        z = pulp.LpVariable(f"tree_{objective}")
        for n, c in enumerate(costs):
            off = best[n] if objective == "regret" and best is not None else 0.0
            prob += z >= c - off, f"tree_{objective}_{n}"
        tm.families[f"tree_{objective}"] = len(costs)
        tm.goal = pulp.LpAffineExpression(z)
    return tm


class _TreeRounds:
    """The tree as :func:`~nisd.optimise.rounds.run_rounds` solves it: one objective, a
    round adds the flow rows every (branch, year, scenario) missed."""

    def __init__(
        self,
        tm: TreeModel,
        cfg: PlanConfig,
        deadline: Deadline,
        goal: pulp.LpAffineExpression | None = None,
        cap: float | None = None,
    ) -> None:
        self.tm, self.deadline, self.cfg = tm, deadline, cfg
        self.goal = tm.goal if goal is None else goal
        self.cap = cap
        self.prob = tm.prob
        self.parts = [
            _Rounds(rm, f.cfg, deadline, "cost", False)
            for rm, f in zip(tm.branches, tm.futures, strict=True)
        ]

    def site_vars(self) -> Sequence[pulp.LpVariable]:
        return [v for p in self.parts for v in p.site_vars()]

    def can_keep_sites(self) -> bool:
        return True

    def solve(self, start: Start | None) -> tuple[SolveResult, list[SolveResult]]:
        opts = self.deadline.options(self.cfg.solver, self.cap)
        self.prob.setObjective(self.goal)
        res = solve(self.prob, opts, start)
        return res, [res]

    def extract(self) -> list[list[YearPlan]]:
        return [p.extract() for p in self.parts]

    def describe(self) -> dict[str, int | None]:
        return {}

    def add_violated(
        self, plans: list[list[YearPlan]], result: SolveResult, secs: float
    ) -> tuple[int, bool]:
        added = 0
        for p, bp in zip(self.parts, plans, strict=True):
            n, _more = p.add_violated(bp, result, secs)
            added += n
        return added, added > 0

    def infeasible(self, result: SolveResult, steps: Sequence[SolveResult]) -> NisdError:
        return InfeasibleError(
            f"no roll-out meets the requirements in every branch with one first stage "
            f"(proved by {result.solver} in {seconds(steps):.1f} s); plan each branch alone "
            "(a scenario without [rollout.uncertainty]) to see which one cannot be met"
        )


def solve_tree(
    tm: TreeModel, cfg: PlanConfig, t0: float, start: Start | None = None
) -> tuple[SolveResult, list[list[YearPlan]], list[RoundRecord], list[SolveResult]]:
    """Solve the tree to convergence over every branch's scenarios.

    Raises
    ------
    InfeasibleError, NoSolutionError, PlanCheckError
    """
    deadline = Deadline.of(cfg.solver, t0, "before the roll-out met every branch's requirements")
    out = run_rounds(
        _TreeRounds(tm, cfg, deadline),
        deadline,
        start,
        carry_start=True,
        label="roll-out round (branches)",
    )
    return out.result, out.plan, list(out.rounds), list(out.steps)


def fewest_moves(
    tm: TreeModel, cfg: PlanConfig, t0: float, cost: float
) -> tuple[SolveResult, list[list[YearPlan]], list[RoundRecord], list[SolveResult]] | None:
    """The fewest expected moves of users between sites with the tree's cost held (within
    ``tolerance``) and every branch's sites as solved (at most ``SECONDARY_SECONDS``); None
    when that solve stops without a plan (the cost's plans stay)."""
    ro = tm.futures[0].ro
    moves = pulp.lpSum(
        f.probability * rm.goals["moves"] for f, rm in zip(tm.futures, tm.branches, strict=True)
    )
    tm.prob += tm.goal <= cost + ro.tolerance * abs(cost) + 1e-6, "hold_tree_cost"
    for rm in tm.branches:
        for m in rm.models.values():
            for v in m.y.values():
                v.lowBound = v.upBound = round(v.value() or 0.0)
    deadline = Deadline.of(cfg.solver, t0, "before the fewest moves met every branch")
    try:
        out = run_rounds(
            _TreeRounds(tm, cfg, deadline, moves, SECONDARY_SECONDS),
            deadline,
            current_values(tm.prob),
            carry_start=True,
            label="roll-out round (moves, branches)",
        )
    except NoSolutionError:
        return None
    return out.result, out.plan, list(out.rounds), list(out.steps)


def _alone(
    f: Future, cfg: PlanConfig, t0: float
) -> tuple[SolveResult, list[YearPlan], RolloutModel]:
    """One future's cheapest roll-out (cost alone, the run's solver options), its plans and
    its solved model."""
    ro = f.ro.model_copy(update={"objective": ["cost"]})
    c = f.cfg.model_copy(update={"rollout": ro, "solver": cfg.solver})
    rm = build_rollout(f.years, ro)
    res, plans, _rounds, _steps = solve_rollout(rm, c, t0, explain=False)
    return res, plans, rm


def best_of(f: Future, cfg: PlanConfig, t0: float) -> tuple[SolveResult, list[YearPlan]]:
    """The cheapest roll-out of one future alone (proved, or with its gap) and its plans.

    Raises
    ------
    InfeasibleError, NoSolutionError
    """
    res, plans, _rm = _alone(f, cfg, t0)
    return res, plans


FirstStageValues = dict[tuple[int, str, tuple[int, ...]], int]


def plan_first_stage(
    f: Future, cfg: PlanConfig, t0: float, d: int
) -> tuple[SolveResult, FirstStageValues]:
    """The cheapest roll-out of one future (the average future) and its first-stage
    decisions, to fix in the tree.

    Raises
    ------
    InfeasibleError, NoSolutionError
    """
    res, _plans, rm = _alone(f, cfg, t0)
    return res, values_of(f, rm, d)


def values_of(f: Future, rm: RolloutModel, d: int) -> FirstStageValues:
    """The solved first-stage decisions of one roll-out model."""
    return {
        (year, kind, key): round(stage_var(rm, year, kind, key).value() or 0.0)
        for year, kind, key in first_stage_keys(f, rm, d)
    }


def fix_first_stage(tm: TreeModel, fixed: FirstStageValues) -> None:
    """Fix every branch's first stage to ``fixed`` (bounds; the rows keep the branches
    equal)."""
    for year, kind, key in first_stage_keys(tm.futures[0], tm.branches[0], tm.decision_year):
        value = fixed.get((year, kind, key), 0)
        for rm in tm.branches:
            v = stage_var(rm, year, kind, key)
            v.lowBound = v.upBound = value
