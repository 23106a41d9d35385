"""Solving a roll-out: its goals in order, each in rounds over the years' crisis
scenarios (:func:`nisd.optimise.rounds.run_rounds`); the earliest readiness the cost allows;
the checks that show at once that no roll-out exists."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pulp

from nisd.config import PlanConfig, RolloutConfig
from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, NisdError, NoSolutionError, PlanCheckError
from nisd.optimise.deadline import Deadline
from nisd.optimise.explain import what_must_give
from nisd.optimise.extract import extract
from nisd.optimise.flows import problem_flows, violated
from nisd.optimise.model import add_crisis_flow
from nisd.optimise.rollout.explain import explain_rollout
from nisd.optimise.rollout.model import RolloutModel, build_rollout
from nisd.optimise.rollout.years import Year, YearPlan, ramp_of, rollout_of, year_dataset, years_of
from nisd.optimise.rounds import MAX_NEW_SCENARIOS, run_rounds, seconds
from nisd.optimise.solve import SolveResult, Start, Status, current_values, solve, weakest
from nisd.records.plan import RoundRecord
from nisd.records.rollout import Goal, ReadinessStep

log = logging.getLogger(__name__)

SECONDARY_SECONDS = 60.0  # each solve of a goal after the first (fewest moves): at most


class _Rounds:
    """One goal of a roll-out as :func:`~nisd.optimise.rounds.run_rounds` solves it: the
    objective is the goal, a round adds the flow rows of every (year, scenario) missed."""

    def __init__(
        self, rm: RolloutModel, cfg: PlanConfig, deadline: Deadline, goal: str, explain: bool
    ) -> None:
        self.rm, self.cfg, self.deadline, self.goal = rm, cfg, deadline, goal
        self.prob = rm.prob
        self.explain = explain
        goals = [g for g in rollout_of(cfg).objective if g != "readiness"]
        # a goal after the first gets at most SECONDARY_SECONDS: its answer is kept, with
        # its gap, either way
        self.cap = None if goal == goals[0] else SECONDARY_SECONDS

    def site_vars(self) -> Sequence[pulp.LpVariable]:
        return [v for m in self.rm.models.values() for v in m.y.values()]

    def can_keep_sites(self) -> bool:
        return True

    def solve(self, start: Start | None) -> tuple[SolveResult, list[SolveResult]]:
        opts = self.deadline.options(self.cfg.solver, self.cap)
        self.rm.prob.setObjective(self.rm.goals[self.goal])
        res = solve(self.rm.prob, opts, start)
        return res, [res]

    def extract(self) -> list[YearPlan]:
        out: list[YearPlan] = []
        for yr in self.rm.years:
            sites, assign = extract(yr.pp, self.rm.models[yr.year])
            out.append(YearPlan(yr.year, sites, assign))
        return out

    def describe(self) -> dict[str, int | None]:
        return {}

    def add_violated(
        self, plans: list[YearPlan], result: SolveResult, seconds: float
    ) -> tuple[int, bool]:
        """Add the flow rows of every (year, scenario) the plans miss.

        A scenario one year misses is likely to bind in the later years too (more users,
        more load): it joins every year from the first that misses it.
        """
        added = 0
        again: list[str] = []
        found: list[str] = []
        for yr, yp in zip(self.rm.years, plans, strict=True):
            if not yr.pp.scenarios:
                continue
            short = violated(yr.pp, problem_flows(yr.pp, yp.sites, yp.assign))
            m = self.rm.models[yr.year]
            again += [f"{yr.year} {n}" for _v, n in short if n in m.flow_scenarios]
            found += [n for _v, n in short if n not in found][:MAX_NEW_SCENARIOS]
            active = {sc.name for sc in yr.pp.scenarios}
            new = [n for n in found if n in active and n not in m.flow_scenarios]
            add_crisis_flow(m, yr.pp, new)
            added += len(new)
        if again:
            raise PlanCheckError(
                "the model and the served-load evaluator disagree: the roll-out violates "
                f"scenario(s) already in the model: {', '.join(again[:5])}"
            )
        return added, added > 0

    def infeasible(self, result: SolveResult, steps: Sequence[SolveResult]) -> NisdError:
        return InfeasibleError(
            f"no roll-out meets the requirements (proved by {result.solver} in "
            f"{seconds(steps):.1f} s)." + (_why(self.rm, self.cfg) if self.explain else "")
        )


def solve_rollout(
    rm: RolloutModel,
    cfg: PlanConfig,
    t0: float,
    explain: bool = True,
    first_start: Start | None = None,
) -> tuple[SolveResult, list[YearPlan], list[RoundRecord], list[SolveResult]]:
    """Solve the goals in order, each to convergence over the scenarios, each earlier goal
    held within ``tolerance`` of its optimum while the next is minimised
    (``first_start``: a known roll-out for the first goal's first solve).

    Raises
    ------
    InfeasibleError, NoSolutionError, PlanCheckError
    """
    ro = rollout_of(cfg)
    deadline = Deadline.of(cfg.solver, t0, "before the roll-out met every year's requirements")
    rounds: list[RoundRecord] = []
    steps: list[SolveResult] = []
    results: list[SolveResult] = []
    held: list[str] = []
    start: Start | None = first_start
    ys = [v for m in rm.models.values() for v in m.y.values()]
    saved = [(v.lowBound, v.upBound) for v in ys]
    goals = [g for g in ro.objective if g != "readiness"]
    try:
        for n, goal in enumerate(goals):
            out = run_rounds(
                _Rounds(rm, cfg, deadline, goal, explain),
                deadline,
                start,
                carry_start=True,
                label=f"roll-out round ({goal})",
            )
            res, plans = out.result, out.plan
            steps += out.steps
            rounds += [
                r.model_copy(update={"round": len(rounds) + k + 1, "goal": goal})
                for k, r in enumerate(out.rounds)
            ]
            results.append(res)
            start = current_values(rm.prob)
            if n == len(goals) - 1:
                break
            assert res.objective is not None
            name = f"hold_{goal}"
            slack = ro.tolerance * abs(res.objective) + 1e-6
            rm.prob += rm.goals[goal] <= res.objective + slack, name
            held.append(name)
            if goal == "cost":
                # the fewest moves over the cheapest roll-out's sites (its schedule kept):
                # moves over every equally cheap schedule is a far harder search
                for v in ys:
                    v.lowBound = v.upBound = round(v.value() or 0.0)
    finally:
        for name in held:
            rm.prob.constraints.pop(name, None)
        for v, (lo, hi) in zip(ys, saved, strict=True):
            v.lowBound, v.upBound = lo, hi
    final = weakest(results, results[0], steps)
    rm.outcome = [
        Goal(goal=g, status=r.status, value=r.objective, bound=r.bound, gap=r.gap)
        for g, r in zip(goals, results, strict=True)
    ]
    return final, plans, rounds, steps


def _why(rm: RolloutModel, cfg: PlanConfig) -> str:
    """Which year and which requirement make the roll-out impossible, and by how much."""
    return what_must_give(explain_rollout(rm, cfg))


def _with_step(ro: RolloutConfig, name: str, year: int) -> dict[str, list[str]]:
    """``ro``'s readiness (or its default) with the crisis set ``name`` required from
    ``year`` on."""
    steps = {str(y): list(v) for y, v in ro.readiness.items()}
    for v in steps.values():
        if name in v:
            v.remove(name)
    steps.setdefault(str(year), []).append(name)
    return {y: v for y, v in steps.items() if v}


def _cheapest(
    ds: Dataset, cfg: PlanConfig, t0: float, cap: float | None
) -> tuple[float | None, bool]:
    """The cheapest roll-out's discounted cost under ``cfg`` (only the cost goal), None
    when none exists within ``cap``; and whether that answer is proved (False when the
    time limit stopped the solver without a roll-out or a proof)."""
    ro = rollout_of(cfg).model_copy(update={"objective": ["cost"]})
    c = cfg.model_copy(update={"rollout": ro})
    years = years_of(ds, c)
    try:
        precheck(years, ro)
        rm = build_rollout(years, ro)
        if cap is not None:
            rm.prob += rm.goals["cost"] <= cap, "cost_cap"
        res, _plans, _rounds, _steps = solve_rollout(rm, c, t0, explain=False)
    except InfeasibleError:
        return None, True
    except NoSolutionError:
        return None, False
    return res.objective, res.status is Status.OPTIMAL


def earliest_readiness(
    ds: Dataset, cfg: PlanConfig, t0: float
) -> tuple[PlanConfig, list[ReadinessStep], float]:
    """Each readiness step as early as the cost allows (the ``readiness`` goal).

    The cheapest roll-out's cost C is found first; then, for each crisis set in the order
    the ramp asks for them, the earliest year (from the first year with users on board:
    before it every set holds trivially) from which it can hold in a roll-out costing
    at most ``C (1 + tolerance)`` with the earlier sets' years already advanced (a binary
    search: holding a set from a later year is always easier). Returns the configuration
    with the advanced ramp, one record per set (asked, advanced to, proved or not), and
    the cost cap (a valid row for the roll-out on the advanced ramp: one was found under it).

    Raises
    ------
    InfeasibleError
        No roll-out meets the ramp as asked.
    """
    ro = rollout_of(cfg)
    base, proved = _cheapest(ds, cfg, t0, None)
    if base is None and not proved:
        raise NoSolutionError(
            "the time limit ran out before any roll-out on the ramp as asked was found "
            "(no proof that none exists)"
        )
    if base is None:
        raise InfeasibleError(
            "no roll-out meets the readiness ramp as asked (run without the readiness "
            "goal for the explanation)"
        )
    cap = base * (1.0 + ro.tolerance) + 1e-6
    ramp = ramp_of(cfg)
    order: list[tuple[str, int]] = []
    for y in ro.years:
        order += [(s, y) for s in ramp[y] if s not in {n for n, _y in order}]
    readiness = {str(y): [s for s in ramp[y] if (s, y) in order] for y in ro.years}
    readiness = {y: v for y, v in readiness.items() if v}
    current = ro.model_copy(update={"readiness": readiness})
    out: list[ReadinessStep] = []
    # before the first user joins every set holds trivially: readiness starts with users
    joined = [y for y in ro.years if year_dataset(ds, ro, y).demand]
    floor = joined[0] if joined else ro.last_year
    for name, asked in order:
        lo, hi = min(floor, asked), asked
        proved = True
        while lo < hi:
            mid = (lo + hi) // 2
            trial = current.model_copy(update={"readiness": _with_step(current, name, mid)})
            value, sure = _cheapest(ds, cfg.model_copy(update={"rollout": trial}), t0, cap)
            proved &= sure
            if value is not None:
                hi = mid
            else:
                lo = mid + 1
        current = current.model_copy(update={"readiness": _with_step(current, name, hi)})
        out.append(ReadinessStep(set=name, asked_from=asked, holds_from=hi, proved=proved))
        log.info("readiness: %s from %d (asked from %d)", name, hi, asked)
    update = {
        "readiness": current.readiness,
        "objective": [g for g in ro.objective if g != "readiness"],
    }
    return cfg.model_copy(update={"rollout": ro.model_copy(update=update)}), out, cap


def precheck(years: Sequence[Year], ro: RolloutConfig) -> None:
    """Users on board in a year when fewer than k sites can be in service: impossible,
    say so first (which year, who, and when enough sites could be ready).

    Raises
    ------
    InfeasibleError
    """
    pp = years[0].pp
    k = years[0].cfg.k

    def available(year: int) -> int:
        n = 0
        for j, s in enumerate(pp.site_ids):
            if not pp.allowed[j]:
                continue
            ex = ro.existing.get(s)
            if ex is not None:
                n += ex.close is None or year < ex.close
            elif any(
                np.isfinite(pp.cost[j, t])
                and year >= ro.first_year + ro.lead_time_years.get(tid, 0)
                for t, tid in enumerate(pp.type_ids)
            ):
                n += 1
        return n

    for yr in years:
        have = available(yr.year)
        if yr.ds.demand and have < k:
            later = [y.year for y in years if available(y.year) >= k]
            users = ", ".join(d.demand_id for d in yr.ds.demand[:3])
            more = ", …" if len(yr.ds.demand) > 3 else ""
            raise InfeasibleError(
                f"{yr.year}: {len(yr.ds.demand)} user(s) are on board ({users}{more}) but "
                f"only {have} site(s) can be in service that year and each user needs {k}"
                + (
                    f"; no site can be in service before {later[0]}"
                    if have == 0 and later
                    else f"; {k} sites can be in service from {later[0]}"
                    if later
                    else ""
                )
                + " (construction lead times, existing sites): move their onboarding "
                "(rollout.onboarding) or shorten rollout.lead_time_years"
            )
