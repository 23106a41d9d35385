"""From a problem to a checked plan record, in stages (as PyPSA's ``optimization/``):

1. derive the problem (:func:`nisd.optimise.problem.from_dataset`, which checks the
   configuration against the data first);
2. build the model (:func:`nisd.optimise.model.build`), or sites first
   (:mod:`nisd.optimise.decompose`) for the cost objective;
3. solve it in rounds (:mod:`nisd.optimise.rounds`, :mod:`nisd.optimise.placement`);
4. extract the plan (:mod:`nisd.optimise.extract`);
5. among plans of the proved least cost, the first by a stated rule
   (:mod:`nisd.optimise.ties`);
6. verify it without trusting the solver (:mod:`nisd.optimise.verify`);
7. record it (:mod:`nisd.optimise.figures` and the :class:`~nisd.records.Plan` record).
"""

from __future__ import annotations

import dataclasses
import platform
import time
from collections.abc import Mapping, Sequence

from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, InputError
from nisd.optimise import decompose
from nisd.optimise import ties as tie_rule
from nisd.optimise.deadline import Deadline
from nisd.optimise.explain import explain, what_must_give
from nisd.optimise.extract import Assign, Sites, start_of
from nisd.optimise.figures import plan_kpis
from nisd.optimise.model import build
from nisd.optimise.placement import Solved, solve_rounds
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.rounds import seconds
from nisd.optimise.verify import verify
from nisd.optimise.war import attack
from nisd.records.plan import (
    AttackRow,
    Decomposition,
    ModelStats,
    ObjectiveValue,
    Plan,
    RunRecord,
    TieBreak,
)
from nisd.topology import build_graph
from nisd.version import __version__

Start = tuple[Mapping[str, str], Mapping[str, Sequence[str]]]  # a known plan's sites, users


def optimise(
    ds: Dataset,
    pp: PlacementProblem,
    inputs: Mapping[str, object] | None = None,
    start: Start | None = None,
    explain_infeasible: bool = True,
    t0: float | None = None,
    ties: bool = True,
) -> Plan:
    """Build, solve, extract, verify and record the plan of ``pp``.

    ``inputs`` is what the plan records of its inputs
    (:func:`nisd.io.paths.run_inputs`). ``start`` (sites → type, assignments) is a
    known plan handed to the solver as a MIP start (used when feasible, ignored
    otherwise; it never changes the answer). ``explain_infeasible = False`` leaves out
    what must give when no plan exists. ``ties = False`` skips the tie rule
    (:mod:`nisd.optimise.ties`) for callers that read only the cost.

    With the cost objective (``[solver] method = "auto"``) the plan is found sites first
    (:mod:`nisd.optimise.decompose`); ``run.decomposition`` records how.

    Raises
    ------
    InputError
        ``[solver] method = "sites-first"`` with an objective it cannot serve.
    InfeasibleError
        The solver proved that no plan exists.
    NoSolutionError
        The solver stopped without a plan and without a proof, or the time
        limit ran out before a plan met every scenario.
    PlanCheckError
        The solver's plan violates a constraint (never returned as a result).
    """
    t0 = time.perf_counter() if t0 is None else t0
    cfg = pp.config
    start_given = start is not None
    decomposition: Decomposition | None = None
    solved: Solved | None = None
    t_build = 0.0
    if decompose.chosen(pp):
        solved, decomposition, start = _sites_first(pp, t0, start, explain_infeasible)
        if solved is not None:
            t_build = decomposition.master.build_seconds
    if solved is None:
        t_full = time.perf_counter()
        m = build(pp, check=Deadline.of(cfg.solver, t0).checker("building the model"))
        t_build = time.perf_counter() - t_full
        warm = start_of(m, pp, *start) if start is not None else None
        solved = solve_rounds(pp, m, t0, start=warm, explain_infeasible=explain_infeasible)
    tie_break: TieBreak | None = None
    if ties and tie_rule.applies(solved.pp, solved):
        solved, tie_break = tie_rule.break_ties(solved.pp, solved, t0)
    pp, m = solved.pp, solved.model
    res, sites, assign, steps = solved.result, solved.sites, solved.assign, solved.steps
    rows = verify(ds, pp, sites, assign)
    kpis, use = plan_kpis(pp, sites, assign, rows)
    war = solved.war
    if war is not None:
        war = war.model_copy(update={"worst_attack": _worst_attack(ds, pp, sites, assign)})
    run = RunRecord(
        nisd_version=__version__,
        python=platform.python_version(),
        solver=res.solver,
        solver_version=res.solver_version,
        threads=cfg.solver.threads,
        seed=cfg.solver.seed,
        time_limit=cfg.solver.time_limit,
        gap_limit=cfg.solver.gap,
        hit_limit=any(s.hit_limit for s in steps),
        build_seconds=round(t_build, 3),
        solve_seconds=round(seconds(steps), 3),
        wall_seconds=round(time.perf_counter() - t0, 3),
        parameters=cfg.model_dump(mode="json"),
        model=ModelStats(
            variables=len(m.prob.variables()),
            constraints=len(m.prob.constraints),
            nonzeros=sum(len(c) for c in m.prob.constraints.values()),
            families=dict(sorted(m.families.items())),
            crisis_rows_before_reduction=m.crisis_rows_raw,
            scenarios=len(pp.scenarios),
            scenarios_with_flow_rows=tuple(m.flow_scenarios),
        ),
        rounds=tuple(solved.rounds),
        decomposition=decomposition,
        war=war,
        ties=tie_break,
        start_given=start_given,
        **(inputs or {}),
    )
    return Plan(
        status=res.status,
        objective=ObjectiveValue(name=solved.objective_name, value=res.objective),
        bound=res.bound,
        gap=res.gap,
        sites=sites,
        assignments={d: tuple(v) for d, v in sorted(assign.items())},
        kpis=kpis,
        scenarios=rows,
        site_use=use,
        run=run,
    )


def _sites_first(
    pp: PlacementProblem,
    t0: float,
    start: Start | None,
    explain_infeasible: bool,
) -> tuple[Solved | None, Decomposition, Start | None]:
    """Solve ``pp`` sites first (:mod:`nisd.optimise.decompose`): the solved best check
    (with ``pp`` itself, not the restricted copy) and the record; or, when ``auto``'s
    master solves ran out, None, the record, and the best plan as the full model's start.

    Raises
    ------
    InputError
        ``method = "sites-first"`` where it does not apply.
    InfeasibleError
        Proved; with what must give unless ``explain_infeasible`` is False.
    """
    reason = decompose.why_not(pp)
    if reason is not None:
        raise InputError(f"[solver] method = 'sites-first': {reason}")
    auto = pp.config.solver.method == "auto"
    try:
        out = decompose.solve_sites_first(
            pp, t0, set(start[0]) if start else None, decompose.AUTO_MASTERS if auto else None
        )
    except decompose.UndecidedError as stop:
        # a master too weak for this problem: the one model from here, from its best plan
        if stop.best is not None:
            start = (stop.best.sites, stop.best.assign)
        return None, stop.record.model_copy(update={"then": "full model"}), start
    except InfeasibleError as exc:
        if not explain_infeasible:
            raise
        raise InfeasibleError(str(exc) + what_must_give(explain(pp))) from None
    # the best plan's check ran on a copy of pp with the other sites forbidden
    solved = dataclasses.replace(out.best, result=out.result, steps=out.steps, pp=pp)
    return solved, out.record, start


def _worst_attack(
    ds: Dataset, pp: PlacementProblem, sites: Sites, assign: Assign
) -> AttackRow | None:
    """The worst attack within the war budget on the final plan, as the evaluator sees it."""
    w = pp.config.war
    res = attack(
        ds,
        build_graph(ds),
        sites,
        assign,
        budget=w.attacks,
        kinds=w.targets,
        costs={str(k): float(v) for k, v in w.cost.items()},
        top=1,
        levels=[float(w.serve.get(c, 0.0)) for c in pp.classes],
        opts=pp.config.solver.model_copy(update={"time_limit": None}),
        islands=pp.config.crisis.islands == "skip",
    )
    return res.worst
