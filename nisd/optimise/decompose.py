"""Sites first: exact plans for countries too large for the full assignment model.

With the cost objective (and no network cost per rack·km), what a plan costs depends
only on the sites it builds and their types; the assignments only have to exist. The
full model's assignment variables grow as workloads × candidates × k (8 million for a
synthetic country of 2,000 candidates and 2,000 demand points), and HiGHS does not
finish its root LP long before that. This module solves the same problem in two parts
that meet only through proofs (a logic-based Benders decomposition):

* the **master** holds the site variables alone, with every row of the full model that
  reads only sites (count, budget, required, spread, presence, replication, the crisis
  covering and crisis-room rows) and rows the assignments imply, written once per
  distinct set of sites: each workload reaches an open site of a type protected enough
  for every rank, and k such sites in all; its sites are never all in one conflict class
  (power zone, county); the sites a set of workloads must use as primaries hold their
  primary load (Hall's condition). Every plan of the full model meets these rows, so the
  master's bound is a lower bound of the full model's cost.
* the **check** solves the full model (every family, the capacity-true crisis rounds)
  with every site the master did not open forbidden: a small model. Its plan is a plan
  of the full problem; its cost is an upper bound.

A master plan whose sites leave some workload without a primary and backups apart (a
quick test with arrays) gets a cut at once: that workload needs an open site outside
the master's sites. Otherwise the check runs; whether its answer is "infeasible" or a
plan of cost C, every plan on the master's sites alone is no cheaper than C, so the
cut "open a site outside these" is valid for every plan cheaper than the best known.
The loop ends when the best plan's cost meets the master's bound within the gap (the
plan is then optimal, with the master's bound as the proof), when the master proves
that no cheaper plan exists, or at the time limit, with the gap between the two.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
import pulp

from nisd.errors import InfeasibleError, NoSolutionError
from nisd.optimise.deadline import Deadline
from nisd.optimise.model import (
    Model,
    Reach,
    add_count,
    add_crisis_cover,
    add_crisis_room,
    add_presence,
    add_replication,
    add_required,
    add_spread,
    build,
    cost_expr,
    create_sites,
    reach,
)
from nisd.optimise.placement import Solved, solve_rounds
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.solve import ABS_GAP, SolveResult, Status, relative_gap, solve
from nisd.records.plan import Decomposition, DecompositionStep, MasterStats
from nisd.topology.latency import unique_rows

log = logging.getLogger(__name__)


def why_not(pp: PlacementProblem) -> str | None:
    """Why ``pp`` cannot be solved sites first (None when it can)."""
    cfg = pp.config
    if cfg.objective.name != "cost":
        return f"objective {cfg.objective.name!r} reads the assignments (sites first needs 'cost')"
    if cfg.objective.network_cost_msek_per_rack_km:
        return "a network cost per rack·km reads the assignments"
    if cfg.war.on:
        return "robust plans against attacks search attacks on the full model"
    return None


def chosen(pp: PlacementProblem) -> bool:
    """Whether :func:`nisd.optimise.plan.optimise` solves ``pp`` sites first: with
    ``[solver] method = "sites-first"``, or ``"auto"`` whenever the objective allows it."""
    method = pp.config.solver.method
    if method == "full":
        return False
    return method == "sites-first" or why_not(pp) is None


@dataclasses.dataclass
class Master:
    """The master model, its (site, type) pairs as one flat index, and its cuts."""

    model: Model
    pairs: list[tuple[int, int]]
    by_rank: np.ndarray  # (k, L, P): lead l may have pair p as its rank-r site
    conflict: np.ndarray  # (P, P): the pairs' sites may not back each other up
    cuts: int = 0

    def row(self, mask: np.ndarray) -> pulp.LpAffineExpression:
        """``Σ y[j,t]`` over the pairs set in ``mask`` (flat over ``pairs``)."""
        y = self.model.y
        return pulp.lpSum(y[self.pairs[p]] for p in np.nonzero(mask)[0].tolist())


def _distinct(masks: np.ndarray) -> np.ndarray:
    """The distinct non-empty rows of a (N, P) bool array."""
    some = masks[masks.any(axis=1)]
    if not len(some):
        return some
    return some[unique_rows(some)[0]]


def _rank_pairs(ra: Reach) -> np.ndarray:
    """(k, L, J, T): lead l may have (j, t) as its rank-r site."""
    return ra.site[:, :, :, None] & ra.types[None, :, None, :] & ra.built[None, None, :, :]


def build_master(pp: PlacementProblem, ra: Reach) -> Master:
    """The master (see the module's docstring): site rows only, objective the cost."""
    cfg = pp.config
    m = create_sites(pp)
    for fam in (add_presence, add_count, add_required, add_spread, add_replication):
        fam(m, pp)
    if pp.crisis_rows:
        add_crisis_cover(m, pp)
    if pp.scenarios:
        add_crisis_room(m, pp)
    pairs = sorted(m.y)
    js = np.array([j for j, _t in pairs], dtype=int)
    ts = np.array([t for _j, t in pairs], dtype=int)
    ms = Master(m, pairs, _rank_pairs(ra)[:, :, js, ts], pp.conflict()[np.ix_(js, js)])
    by_rank = ms.by_rank
    empty = np.argwhere(~by_rank.any(axis=2))
    if len(empty):
        r, n = (int(v) for v in empty[0])
        raise InfeasibleError(
            f"no plan: {pp.demand_ids[int(ra.leads[n])]} has no site it may use as its "
            f"{'primary' if r == 0 else 'backup'} (none within its latency bound, allowed "
            "and of a type protected enough)"
        )
    union = np.asarray(by_rank.any(axis=0))
    for mask in _distinct(np.concatenate(list(by_rank))):
        m.add("reach_cover", ms.row(mask) >= 1)
    if cfg.k > 1:
        for mask in _distinct(union):
            m.add("reach_k", ms.row(mask) >= cfg.k)
        apart = [
            union & ~np.isin(js, g)[None, :] for g in pp.conflict_classes() if np.isin(js, g).any()
        ]
        if apart:
            # every workload keeps a primary and backups apart: not all in one class
            for mask in _distinct(np.concatenate(apart)):
                m.add("reach_apart", ms.row(mask) >= 1)
    if cfg.capacity:
        _hall(ms, pp, by_rank[0], ra.load(pp) * pp.load_factor, "hall_capacity")
    if pp.scenarios and cfg.crisis.backup == "dedicated":
        _hall(ms, pp, union, _dedicated_load(pp, ra), "hall_dedicated")
    m.prob.setObjective(cost_expr(m, pp))
    return ms


def _hall(
    ms: Master, pp: PlacementProblem, usable: np.ndarray, load: np.ndarray, family: str
) -> None:
    """Room for load that must stay within sets of sites (Hall's condition): for every
    distinct set S among the rows of ``usable`` (L, P) and all pairs at once,
    ``Σ_{(j,t) ∈ S} Q_jt y_jt ≥ Σ_{workloads w : usable_w ⊆ S} load_w``."""
    sets = _distinct(np.vstack([usable, np.ones((1, usable.shape[1]), dtype=bool)]))
    # workload w lies inside S when it has no pair outside S
    outside = usable.astype(np.float32) @ (~sets).astype(np.float32).T  # (L, S)
    need = (outside < 0.5).astype(float).T @ load  # (S,)
    cap = np.array([pp.capacity[j, t] for j, t in ms.pairs])
    for mask, room in zip(sets, need.tolist(), strict=True):
        if room <= 1e-9 or not np.isfinite(cap[mask]).all():
            continue
        ms.model.add(
            family,
            pulp.lpSum(
                float(cap[p]) * ms.model.y[ms.pairs[p]] for p in np.nonzero(mask)[0].tolist()
            )
            >= room,
            f"room for the {room:g} racks that must use these sites",
        )


def _dedicated_load(pp: PlacementProblem, ra: Reach) -> np.ndarray:
    """(L,) racks each workload reserves over its k sites with dedicated (1+1) backup: its
    load at the primary and the protected share at each backup
    (:func:`nisd.optimise.model.add_dedicated_backup`)."""
    protect = pp.backup_share()
    per_user = pp.load * (1.0 + (pp.config.k - 1) * protect)
    return np.array([float(per_user[g].sum()) for g in ra.members])


def _open_pairs(ms: Master) -> np.ndarray:
    """(P,) the master solution's built (site, type) pairs."""
    return np.array([(ms.model.y[p].value() or 0.0) > 0.5 for p in ms.pairs])


def pair_cuts(ms: Master, pp: PlacementProblem, ra: Reach, built: np.ndarray) -> int:
    """Cuts for workloads that the built pairs cannot serve apart; the number added.

    A workload needs a primary among its rank-1 pairs and k − 1 more distinct sites
    among its backup pairs, none in conflict with the primary. When the built pairs
    cannot give that, every plan builds one of the workload's pairs not built now:
    ``Σ_{(j,t) usable by w, not built} y_jt ≥ 1``.
    """
    k = pp.config.k
    by_rank = ms.by_rank
    have = by_rank & built[None, None, :]
    ok = np.zeros(len(ra.leads), dtype=bool)
    if k == 1:
        ok = have[0].any(axis=1)
    else:
        conflict = ms.conflict  # the diagonal (same site) included
        backup = have[1:].any(axis=0)  # (L, P): built pairs usable as some backup
        for p in np.nonzero(built)[0].tolist():
            first = have[0][:, p]
            if not first.any():
                continue
            # one type per site: distinct built pairs are distinct sites
            apart = (backup & ~conflict[p][None, :]).sum(axis=1)
            ok |= first & (apart >= k - 1)
    usable = by_rank.any(axis=0) & ~built[None, :]
    never = np.nonzero(~ok & ~usable.any(axis=1))[0]
    if len(never):
        lead = int(ra.leads[never[0]])
        raise InfeasibleError(
            f"no plan serves {pp.demand_ids[lead]}: even every site it may use, built, "
            f"gives it no primary and {k - 1} backup(s) apart within its latency bounds"
        )
    cuts = _distinct(usable[~ok])
    for mask in cuts:
        ms.model.add("cut_serve", ms.row(mask) >= 1)
    ms.cuts += len(cuts)
    return int((~ok).sum())


def leave_cut(ms: Master, pp: PlacementProblem, sites: np.ndarray) -> None:
    """Every cheaper plan builds a site outside ``sites`` (J,): ``Σ_{j ∉ sites} o_j ≥ 1``."""
    mask = np.array([not sites[j] for j, _t in ms.pairs])
    ms.model.add("cut_leave", ms.row(mask) >= 1)
    ms.cuts += 1


# ``method = "auto"`` gives sites first this many master solves; a problem whose master
# needs more is solved as one model from there, with the best plan found as a start. The
# master holds no assignments, so it cannot see which sites hold a workload's data after a
# crisis; where that decides the plan its proposals can keep failing the check. Every
# scenario of the default and its sensitivity variants needs one master solve.
AUTO_MASTERS = 20


@dataclasses.dataclass
class _Step:
    """One step of the loop as it goes (its record: :class:`DecompositionStep`)."""

    start: tuple[str, ...] | None = None
    master_status: str | None = None
    master_objective: float | None = None
    master_bound: float | None = None
    master_seconds: float | None = None
    sites: int | None = None
    unserved_workloads: int | None = None
    check: str | None = None
    check_objective: float | None = None
    check_seconds: float | None = None
    cuts: int | None = None


class UndecidedError(Exception):
    """Sites first stopped at its number of master solves without closing the gap."""

    def __init__(self, record: Decomposition, best: Solved | None) -> None:
        super().__init__(f"sites first: no proof after {len(record.iterations)} step(s)")
        self.record, self.best = record, best


@dataclasses.dataclass
class Outcome:
    """What the sites-first loop found: the best plan's check (a solved restricted model),
    the combined result (best cost, master bound, gap) and the loop's record."""

    result: SolveResult
    best: Solved  # the solved restricted model that gave the best plan
    steps: list[SolveResult]
    record: Decomposition


def restricted(pp: PlacementProblem, sites: np.ndarray) -> PlacementProblem:
    """``pp`` with every site outside ``sites`` (J,) forbidden."""
    return dataclasses.replace(pp, allowed=pp.allowed & sites)


class _Loop:
    """The state of one sites-first solve: master, best plan, bounds, record."""

    def __init__(self, pp: PlacementProblem, t0: float, max_masters: int | None) -> None:
        self.pp, self.t0, self.max_masters = pp, t0, max_masters
        self.masters = 0
        t_build = time.perf_counter()
        self.ra = reach(pp)
        self.ms = build_master(pp, self.ra)
        m = self.ms.model
        self.master_stats = MasterStats(
            variables=len(m.prob.variables()),
            constraints=len(m.prob.constraints),
            families=dict(sorted(m.families.items())),
            build_seconds=round(time.perf_counter() - t_build, 3),
        )
        self.iterations: list[_Step] = []
        self.steps: list[SolveResult] = []
        self.best: Solved | None = None
        self.upper = float("inf")
        self.lower = -float("inf")
        self.rel = pp.config.solver.gap or 0.0
        self.hit = False

    def closed(self) -> bool:
        """The best plan meets the bound within the gap."""
        if self.best is None:
            return False
        return self.upper - self.lower <= max(ABS_GAP, self.rel * abs(self.upper)) + 1e-9

    def left(self) -> float | None:
        return Deadline.of(self.pp.config.solver, self.t0).left()

    def decomposition(self, **totals: float | int | None) -> Decomposition:
        """The loop's record so far (with ``totals``: cuts, upper and lower bound)."""
        return Decomposition(
            method="sites-first",
            master=self.master_stats,
            iterations=tuple(DecompositionStep(**dataclasses.asdict(s)) for s in self.iterations),
            **totals,
        )

    def check(self, sites: np.ndarray, it: _Step) -> bool:
        """Solve the full model on ``sites`` (J,) and cut them off; False when the loop
        must stop (the time limit, or a check not proved, whose cut would not be valid)."""
        sub = restricted(self.pp, sites)
        t_sub = time.perf_counter()
        try:
            solved = solve_rounds(sub, build(sub), self.t0, explain_infeasible=False)
        except InfeasibleError:
            it.check = "infeasible"
        except NoSolutionError:
            it.check = "no plan (time limit)"
            self.hit = True
            return False
        else:
            self.steps.extend(solved.steps)
            r = solved.result
            assert r.objective is not None
            it.check = r.status.value
            it.check_objective = r.objective
            if r.objective < self.upper:
                self.upper, self.best = r.objective, solved
            if r.status is not Status.OPTIMAL and (
                r.bound is None or r.bound < self.upper - ABS_GAP
            ):
                # plans on these sites may be cheaper than the best known: no valid cut
                self.hit = True
                return False
        finally:
            it.check_seconds = round(time.perf_counter() - t_sub, 3)
        leave_cut(self.ms, self.pp, sites)
        it.cuts = self.ms.cuts
        return True

    def master(self) -> SolveResult | None:
        """Solve the master; None when the loop is over."""
        if self.max_masters is not None and self.masters >= self.max_masters:
            raise UndecidedError(self.decomposition(), self.best)
        self.masters += 1
        left = self.left()
        if left is not None and left <= 0:
            self.hit = True
            return None
        opts = self.pp.config.solver.model_copy(update={"time_limit": left})
        res = solve(self.ms.model.prob, opts)
        self.steps.append(res)
        self.iterations.append(
            _Step(
                master_status=res.status.value,
                master_objective=res.objective,
                master_bound=res.bound,
                master_seconds=round(res.seconds, 3),
            )
        )
        if res.status is Status.INFEASIBLE:
            self.lower = self.upper  # no plan cheaper than the best known (or none at all)
            return None
        if res.bound is not None:
            self.lower = max(self.lower, min(res.bound, self.upper))
        if res.objective is None:
            self.hit = self.hit or res.hit_limit
            return None
        return res

    def run(self, start: set[str] | None) -> None:
        if start:
            sites = np.array([s in start for s in self.pp.site_ids]) & self.pp.allowed
            if sites.any():
                first = _Step(start=tuple(sorted(start)), sites=int(sites.sum()))
                self.iterations.append(first)
                if not self.check(sites, first):
                    return
        while True:
            res = self.master()
            if res is None or self.closed():
                return
            it = self.iterations[-1]
            built = _open_pairs(self.ms)
            it.sites = int(built.sum())
            it.unserved_workloads = pair_cuts(self.ms, self.pp, self.ra, built)
            log.info(
                "sites first, master %d: %.6g (bound %s) on %d site(s), %d workload(s) "
                "without sites apart, %.1f s",
                len(self.iterations),
                res.objective,
                "n/a" if res.bound is None else f"{res.bound:.6g}",
                it.sites,
                it.unserved_workloads,
                time.perf_counter() - self.t0,
            )
            if it.unserved_workloads:
                it.cuts = self.ms.cuts
                continue
            sites = np.zeros(self.pp.n_sites, dtype=bool)
            for p in np.nonzero(built)[0].tolist():
                sites[self.ms.pairs[p][0]] = True
            if not self.check(sites, it) or self.closed():
                return
            if res.status is not Status.OPTIMAL:
                return  # the master stopped at its limit: its bound is the best known


def solve_sites_first(
    pp: PlacementProblem,
    t0: float | None = None,
    start: set[str] | None = None,
    max_masters: int | None = None,
) -> Outcome:
    """Plan ``pp`` sites first (see the module's docstring).

    ``start``: site ids of a known plan, checked first (its cost is the first upper bound).
    ``max_masters``: the most master solves (None: until the gap closes or time runs out).

    Raises
    ------
    UndecidedError
        ``max_masters`` master solves did not close the gap.
    InfeasibleError
        The master proved that no plan exists.
    NoSolutionError
        The time limit ran out before any checked plan.
    """
    loop = _Loop(pp, time.perf_counter() if t0 is None else t0, max_masters)
    loop.run(start)
    steps = loop.steps
    n_it = sum(1 for it in loop.iterations if it.master_status is not None)
    if loop.best is None:
        if loop.lower == loop.upper:  # the master proved infeasibility before any plan
            raise InfeasibleError(
                f"no plan satisfies the constraints (proved by {steps[-1].solver} in "
                f"{sum(s.seconds for s in steps):.1f} s, sites first: the master has no plan "
                f"after {n_it} iteration(s) and {loop.ms.cuts} cut(s))."
            )
        raise NoSolutionError(
            f"sites first: no checked plan after {n_it} master solve(s)"
            + (" (time limit reached)" if loop.hit else "")
        )
    upper = loop.upper
    lower = min(loop.lower, upper)
    bound = lower if np.isfinite(lower) else None
    gap = None if bound is None else relative_gap(upper, bound)
    last = loop.best.result
    result = SolveResult(
        Status.OPTIMAL if loop.closed() else Status.FEASIBLE,
        upper,
        bound,
        gap,
        sum(s.seconds for s in steps),
        last.solver,
        last.solver_version,
        loop.hit or any(s.hit_limit for s in steps),
    )
    log.info(
        "sites first: %d master solve(s), %d cut(s), best %.6g, bound %s",
        n_it,
        loop.ms.cuts,
        upper,
        "n/a" if bound is None else f"{bound:.6g}",
    )
    return Outcome(
        result, loop.best, steps, loop.decomposition(cuts=loop.ms.cuts, upper=upper, lower=bound)
    )
