"""From problem to checked plan: solve (single, weighted or lexicographic), extract, check.

Build, solve and extract are separate steps; every plan passes
:func:`nisd.optimise.check.check_plan` and an independent re-evaluation of
its crisis scenarios over the surviving fibre graph before it is returned.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pulp

from nisd.version import __version__
from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, InputError, NoSolutionError, PlanCheckError
from nisd.io.planfile import write_plan_files
from nisd.optimise import decompose
from nisd.optimise.check import check_plan
from nisd.optimise.config import SolverOptions
from nisd.optimise.model import Model, add_crisis_flow, build, objective_names, scenario_need
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.solve import (
    ABS_GAP,
    SolveResult,
    Start,
    Status,
    current_values,
    solve,
    weakest,
)
from nisd.topology import build_graph
from nisd.topology.resilience import ResilienceResult, evaluate, figures
from nisd.topology.served import Flow, FlowCache


@dataclass
class Plan:
    """A checked placement and how it was obtained."""

    status: str
    objective_name: str
    objective_value: float | None
    bound: float | None
    gap: float | None
    sites: dict[str, str]
    assignments: dict[str, list[str]]
    kpis: dict[str, Any]
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)
    site_use: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "objective": {"name": self.objective_name, "value": self.objective_value},
            "bound": self.bound,
            "gap": self.gap,
            "sites": [{"site_id": s, "type": t} for s, t in sorted(self.sites.items())],
            "assignments": {d: list(v) for d, v in sorted(self.assignments.items())},
            "kpis": self.kpis,
            "scenarios": self.scenarios,
            "site_use": self.site_use,
            "run": self.run,
        }


def _value(expr: Any) -> float:
    v = pulp.value(expr)
    return float(v) if v is not None else 0.0


def _set_objective(m: Model, names: tuple[str, ...], weights: dict[str, float] | None) -> None:
    if weights:
        m.prob.setObjective(pulp.lpSum(w * m.terms[n] for n, w in weights.items()))
    else:
        m.prob.setObjective(m.terms[names[0]])


def _run(
    pp: PlacementProblem,
    m: Model,
    opts: SolverOptions,
    objective: pulp.LpAffineExpression | None = None,
    start: Start | None = None,
) -> tuple[SolveResult, str, list[SolveResult]]:
    if objective is not None:  # a caller's own objective (modelling to generate alternatives)
        m.prob.setObjective(objective)
        res = solve(m.prob, opts, start)
        return res, "custom", [res]
    obj = pp.config.objective
    names = objective_names(pp)
    results = []
    if obj.name == "lexicographic":
        held: list[str] = []
        try:
            for step, name in enumerate(names):
                _set_objective(m, (name,), None)
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
        # the reported status is the weakest of the steps
        final = weakest(results, results[-1], results)
        return final, "lexicographic:" + ">".join(names), results
    weights = obj.weights if obj.name == "weighted" else None
    _set_objective(m, names, {str(n): w for n, w in weights.items()} if weights else None)
    res = solve(m.prob, opts, start)
    return res, obj.name, [res]


def _extract(pp: PlacementProblem, m: Model) -> tuple[dict[str, str], dict[str, list[str]]]:
    sites = {}
    for (j, t), v in sorted(m.y.items()):
        if (v.value() or 0) > 0.5:
            sites[pp.site_ids[j]] = pp.type_ids[t]
    # a workload's points share their lead's variables
    chosen: dict[tuple[int, int], int] = {}
    for (a, j, r), v in m.x_lead.items():
        if (v.value() or 0) > 0.5 and j < chosen.get((a, r), pp.n_sites):
            chosen[a, r] = j
    lead = pp.leads()
    assign: dict[str, list[str]] = {}
    for i, d in enumerate(pp.demand_ids):
        a = int(lead[i])
        assign[d] = [pp.site_ids[chosen[a, r]] for r in range(pp.config.k) if (a, r) in chosen]
    return sites, assign


def kpis(
    pp: PlacementProblem, sites: dict[str, str], assign: dict[str, list[str]]
) -> dict[str, Any]:
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    cost = sum(pp.cost[sidx[s], tidx[t]] for s, t in sites.items())
    prim = np.array(
        [pp.latency[i, sidx[assign[d][0]]] for i, d in enumerate(pp.demand_ids) if assign.get(d)]
    )
    load = np.array([pp.load[i] for i, d in enumerate(pp.demand_ids) if assign.get(d)])
    js = sorted(sidx[s] for s in sites)
    seps = [pp.distance_km[a, b] for a in js for b in js if a < b]
    return {
        "sites": len(sites),
        "cost_msek": round(float(cost), 6),
        "mean_latency_ms": round(float((prim * load).sum() / max(load.sum(), 1e-12)), 6)
        if len(prim)
        else None,
        "max_latency_ms": round(float(prim.max()), 6) if len(prim) else None,
        "min_separation_km": round(float(min(seps)), 3) if seps else None,
        "min_backup_separation_km": _backup_separation(pp, assign, sidx),
        "types": dict(sorted(pd.Series(list(sites.values())).value_counts().items()))
        if sites
        else {},
    }


def _backup_separation(
    pp: PlacementProblem, assign: dict[str, list[str]], sidx: dict[str, int]
) -> float | None:
    """Smallest distance between a user's primary site and one of its backups (what
    ``separation_km`` binds; two opened sites that no user pairs may stand closer)."""
    best: float | None = None
    for seq in assign.values():
        js = [sidx[s] for s in seq if s in sidx]
        for b in js[1:]:
            d = float(pp.distance_km[js[0], b])
            best = d if best is None else min(best, d)
    return None if best is None else round(best, 3)


log = logging.getLogger(__name__)

MAX_NEW_SCENARIOS = 8  # scenarios added to the model per round (the most violated first)


def crisis_evaluation(
    ds: Dataset,
    pp: PlacementProblem,
    sites: dict[str, str],
    assign: dict[str, list[str]],
    g: nx.MultiGraph | None = None,
) -> ResilienceResult:
    """The plan under every crisis scenario of ``pp``, by the served-load evaluator."""
    return evaluate(
        ds,
        g if g is not None else build_graph(ds),
        sites,
        list(pp.scenarios),
        assignments=assign,
        levels={k: v.tolist() for k, v in pp.scenario_levels.items()},
        check_two_routes=False,
        split=pp.config.crisis.split,
        islands=pp.config.crisis.islands == "skip",
    )


def scenario_rows(pp: PlacementProblem, r: ResilienceResult) -> list[dict[str, Any]]:
    """The per-scenario record of ``plan.json`` (every figure from the evaluator)."""
    out = []
    for row in r.table.to_dict("records"):
        lv = pp.scenario_levels.get(row["scenario"])
        out.append(
            {
                **figures(row),
                "kind": row["kind"],
                "meaning": row["meaning"],
                "levels": None
                if lv is None
                else {c: float(v) for c, v in zip(pp.classes, lv, strict=True) if v > 0},
            }
        )
    return out


def site_use(
    pp: PlacementProblem,
    sites: dict[str, str],
    assign: dict[str, list[str]],
    scen: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Per opened site: capacity, primary load, backed-up load, busiest scenario."""
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    load = dict(zip(pp.demand_ids, pp.load, strict=True))
    out = []
    for s, t in sorted(sites.items()):
        prim = sum(load[d] for d, seq in assign.items() if seq and seq[0] == s)
        back = sum(load[d] for d, seq in assign.items() if s in seq[1:])
        peak, peak_name = prim, ""
        for row in scen:
            v = row["site_load"].get(s)
            if v is not None and v > peak + 1e-6:
                peak, peak_name = v, row["scenario"]
        cap = float(pp.capacity[sidx[s], tidx[t]])
        out.append(
            {
                "site_id": s,
                "type": t,
                "capacity": round(cap, 6),
                "primary_load": round(float(prim), 6),
                "backup_load": round(float(back), 6),
                "peak_load": round(float(peak), 6),
                "peak_scenario": peak_name,
            }
        )
    return out


def problem_flows(
    pp: PlacementProblem,
    sites: dict[str, str],
    assign: dict[str, list[str]],
    names: list[str] | None = None,
) -> dict[str, Flow]:
    """The served flow of a plan under each crisis scenario of ``pp``, from its matrices.

    The same evaluator as :func:`nisd.topology.resilience.evaluate` (which
    recomputes every route from the graph for the independent check), on the
    latencies the model was built from.
    """
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    opened = sorted(sidx[s] for s in sites)
    col = {j: c for c, j in enumerate(opened)}
    cap = np.array([pp.capacity[j, tidx[sites[pp.site_ids[j]]]] for j in opened])
    holds = np.zeros((pp.n_demand, len(opened)), dtype=bool)
    primary = np.full(pp.n_demand, -1, dtype=np.int64)
    for i, d in enumerate(pp.demand_ids):
        seq = [col[sidx[s]] for s in assign.get(d, []) if s in sidx and sidx[s] in col]
        holds[i, seq] = True
        if seq:
            primary[i] = seq[0]
    cache = FlowCache(pp.load, pp.rank, primary, pp.config.crisis.split)
    out = {}
    for sc in pp.scenarios:
        if names is not None and sc.name not in names:
            continue
        up = pp.crisis_up[sc.name][opened]
        lat = pp.crisis_latency[sc.name].columns(opened)
        usable = (lat <= pp.crisis_ms[:, None] + 1e-9) & holds & up[None, :]
        base = np.where(pp.crisis_cut[sc.name], 0.0, pp.load)
        out[sc.name] = cache.serve(
            np.where(up, cap, 0.0), usable, pp.scenario_levels[sc.name], base
        )
    return out


def violated(pp: PlacementProblem, flows: dict[str, Flow]) -> list[tuple[float, str]]:
    """Scenarios whose service levels a plan misses, most racks short first."""
    out = []
    for name, fl in flows.items():
        if fl.met is not False:
            continue
        need = scenario_need(pp, name)
        got = np.bincount(pp.rank, weights=fl.served, minlength=len(need))[: len(need)]
        out.append((max(float(np.clip(need - got, 0, None).sum()), 1e-9), name))
    return sorted(out, key=lambda x: (-x[0], x[1]))


@dataclass
class Solved:
    """What the solving loop found: the last round's result and plan, and its record."""

    result: SolveResult
    objective_name: str
    sites: dict[str, str]
    assign: dict[str, list[str]]
    model: Model
    steps: list[SolveResult]
    rounds: list[dict[str, Any]]
    pp: PlacementProblem  # with the attacks found while planning, when robust to attacks
    war: dict[str, Any] | None = None


def _keep_sites(
    pp: PlacementProblem,
    m: Model,
    opts: SolverOptions,
    last: dict[str, Any] | None,
    steps: list[SolveResult],
    objective: pulp.LpAffineExpression | None = None,
) -> tuple[tuple[SolveResult, str, list[SolveResult]] | None, Start | None]:
    """Try the last round's sites again with only the assignments free.

    The last round's bound is valid for the full model. When the sites it
    opened, re-assigned under the scenarios added since, reach that bound, the
    result is optimal for this round too, without a search over the sites.
    Otherwise the round is solved in full, and a plan this attempt found is
    handed to the solver as a start (the second value).
    """
    if (
        last is None
        or last["status"] != Status.OPTIMAL.value
        or last["bound"] is None
        or pp.config.objective.name == "lexicographic"
    ):
        return None, None
    saved = {key: (v.lowBound, v.upBound) for key, v in m.y.items()}
    for v in m.y.values():
        val = round(v.value() or 0.0)
        v.lowBound = v.upBound = val
    try:
        res, name, done = _run(pp, m, opts, objective)
    finally:
        for key, (lo, hi) in saved.items():
            m.y[key].lowBound, m.y[key].upBound = lo, hi
    steps.extend(done)  # the time counts even when the attempt fails
    bound = float(last["bound"])
    if res.status not in (Status.OPTIMAL, Status.FEASIBLE) or res.objective is None:
        return None, None
    if res.objective > bound + max(ABS_GAP, 1e-9 * abs(bound)):
        return None, current_values(m.prob)
    return (
        SolveResult(
            Status.OPTIMAL,
            res.objective,
            bound,
            _gap_of(res.objective, bound),
            0.0,
            res.solver,
            res.solver_version,
            res.hit_limit,
        ),
        name,
        [],
    ), None


def start_of(
    m: Model, pp: PlacementProblem, sites: dict[str, str], assign: dict[str, list[str]]
) -> Start:
    """A MIP start from a known plan: its sites as built and its assignments (others 0)."""
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    out: dict[str, float] = {}
    for s, t in sites.items():
        key = (sidx.get(s, -1), tidx.get(t, -1))
        if key in m.y:
            out[m.y[key].name] = 1.0
    for i, d in enumerate(pp.demand_ids):
        for r, s in enumerate(assign.get(d, [])):
            key3 = (i, sidx.get(s, -1), r)
            if key3 in m.x:
                out[m.x[key3].name] = 1.0
    return out


def _gap_of(obj: float, bound: float) -> float:
    return abs(obj - bound) / max(abs(obj), 1e-9)


def solve_rounds(
    pp: PlacementProblem,
    m: Model,
    t0: float | None = None,
    objective: pulp.LpAffineExpression | None = None,
    start: Start | None = None,
    explain_infeasible: bool = True,
) -> Solved:
    """Solve ``m``; with crisis scenarios, add the violated ones' rows until none is.

    ``explain_infeasible = False`` skips the elastic explanation of a proved
    infeasibility (studies that only need "no plan").

    Each round's model is a relaxation of the full one (it holds the rows of
    some scenarios only), so its bound is valid for the full model; the loop
    stops when the served-load evaluator finds no violated scenario, so the
    last plan is feasible for the full model, and optimal when the last round
    was solved to optimality (constraint generation).

    Raises
    ------
    InfeasibleError, NoSolutionError, PlanCheckError
    """
    t0 = time.perf_counter() if t0 is None else t0
    cfg = pp.config
    steps: list[SolveResult] = []
    rounds: list[dict[str, Any]] = []
    war = _War(pp) if cfg.war.on else None
    while True:
        opts = cfg.solver
        if cfg.solver.time_limit is not None:
            left = cfg.solver.time_limit - (time.perf_counter() - t0)
            if left <= 0:
                raise NoSolutionError(
                    f"time limit {cfg.solver.time_limit:g} s reached after {len(rounds)} "
                    "round(s) of scenarios, before a plan met every scenario's service levels"
                )
            opts = cfg.solver.model_copy(update={"time_limit": left})
        t_round = time.perf_counter()
        kept, found = _keep_sites(pp, m, opts, rounds[-1] if rounds else None, steps, objective)
        if kept is not None:
            res, name, round_steps = kept
        else:
            res, name, round_steps = _run(pp, m, opts, objective, found or start)
        start = None  # a given start belongs to the first round
        steps += round_steps
        if res.status is Status.INFEASIBLE:
            from nisd.optimise.explain import explain, what_must_give

            reasons = explain(pp, m.flow_scenarios) if explain_infeasible else []
            raise InfeasibleError(
                f"no plan satisfies the constraints (proved by {res.solver} in "
                f"{sum(s.seconds for s in steps):.1f} s)." + what_must_give(reasons)
            )
        if res.status is Status.UNKNOWN:
            raise NoSolutionError(
                f"{res.solver} stopped after {res.seconds:.1f} s without a plan "
                "and without a proof of infeasibility"
                + (" (time limit reached)" if res.hit_limit else "")
            )
        sites, assign = _extract(pp, m)
        if not pp.scenarios and war is None:
            return Solved(res, name, sites, assign, m, steps, rounds, pp)
        t_eval = time.perf_counter()
        short = violated(pp, problem_flows(pp, sites, assign))
        rounds.append(
            {
                "round": len(rounds) + 1,
                "scenarios_in_model": len(m.flow_scenarios),
                "objective": res.objective,
                "bound": res.bound,
                "status": res.status.value,
                "violated": len(short),
                "solve_seconds": round(sum(s.seconds for s in round_steps), 3),
                "evaluate_seconds": round(time.perf_counter() - t_eval, 3),
                "wall_seconds": round(time.perf_counter() - t_round, 3),
            }
        )
        log.info(
            "round %d: %s %.6g (bound %s), %d scenario(s) in the model, %d violated, %.1f s",
            len(rounds),
            res.status.value,
            res.objective,
            "n/a" if res.bound is None else f"{res.bound:.6g}",
            len(m.flow_scenarios),
            len(short),
            time.perf_counter() - t0,
        )
        if not short and war is not None:
            pp, added = war.check(pp, sites, assign, res, time.perf_counter() - t_round)
            if added is not None:
                add_crisis_flow(m, pp, [added])
                continue
        if not short:
            return Solved(
                res, name, sites, assign, m, steps, rounds, pp, None if war is None else war.record
            )
        again = [n for _v, n in short if n in m.flow_scenarios]
        if again:
            raise PlanCheckError(
                "the model and the served-load evaluator disagree: the plan violates "
                f"scenario(s) already in the model: {', '.join(again[:5])}"
            )
        add_crisis_flow(m, pp, [n for _v, n in short[:MAX_NEW_SCENARIOS]])


class _War:
    """The attacks of a robust plan: find the worst one on each plan, add it, until none breaks
    the levels (the last search is the certificate)."""

    def __init__(self, pp: PlacementProblem) -> None:
        from nisd.optimise.interdict import TARGET_KINDS

        w = pp.config.war
        self.levels = np.array([float(w.serve.get(c, 0.0)) for c in pp.classes])
        self.costs: dict[str, float] = {
            str(k): float(v) for k, v in w.cost.items() if k in TARGET_KINDS
        }
        self.record: dict[str, Any] = {
            "attacks": w.attacks,
            "targets": list(w.targets),
            "cost": dict(self.costs),
            "serve": {c: v for c, v in zip(pp.classes, self.levels, strict=True) if v > 0},
            "method": "constraint generation: plan, find the worst attack on the plan "
            "(interdiction MILP), add it as a scenario, repeat",
            "iterations": [],
            "certificate": None,
        }

    def check(
        self,
        pp: PlacementProblem,
        sites: dict[str, str],
        assign: dict[str, list[str]],
        res: SolveResult,
        plan_seconds: float,
    ) -> tuple[PlacementProblem, str | None]:
        """``pp`` with the attack that breaks this plan's levels (and its name), or the
        certificate that none does."""
        from nisd.optimise.interdict import (
            attack_scenario,
            flow_data,
            targets_of,
            violating_attack,
        )
        from nisd.optimise.problem import with_scenarios

        assert pp.routing is not None
        w = pp.config.war
        sidx = {s: j for j, s in enumerate(pp.site_ids)}
        tidx = {t: k for k, t in enumerate(pp.type_ids)}
        fd = flow_data(
            pp.routing,
            pp.demand_ids,
            pp.load,
            pp.rank,
            pp.classes,
            pp.crisis_ms,
            {s: float(pp.capacity[sidx[s], tidx[t]]) for s, t in sites.items()},
            assign,
        )
        targets = targets_of(
            pp.routing, sites, pp.backbone_nodes, pp.srlg_ids, w.targets, self.costs
        )
        t = time.perf_counter()
        rejected: list[Any] = []
        solves = 0
        opts = pp.config.solver.model_copy(update={"time_limit": None})
        while True:
            found, margin, search = violating_attack(
                fd, targets, w.attacks, self.levels, opts=opts, rejected=rejected
            )
            solves += len(search.solves)
            entry: dict[str, Any] = {
                "iteration": len(self.record["iterations"]) + 1,
                "plan_objective": res.objective,
                "plan_bound": res.bound,
                "plan_status": res.status.value,
                "plan_seconds": round(plan_seconds, 3),
                "attack": None,
                "short_racks": None,
                "attack_search_seconds": None,
                "attack_solves": None,
            }
            if found is None:
                entry.update(
                    attack_search_seconds=round(time.perf_counter() - t, 3),
                    attack_solves=solves,
                )
                self.record["iterations"].append(entry)
                self.record["certificate"] = {
                    "margin_racks": round(margin, 6) + 0.0,
                    "targets_considered": len(targets),
                    "rejected_cut_off_attacks": len(rejected),
                    "statement": f"no attack of budget {w.attacks:g} on "
                    f"{', '.join(w.targets)} leaves less than the service levels "
                    "(proved by the last interdiction search)",
                }
                log.info(
                    "attacks: none within budget %g breaks the levels (margin %.3f racks)",
                    w.attacks,
                    round(margin, 6) + 0.0,
                )
                return pp, None
            sc = attack_scenario(found.targets)
            if sc.name in pp.crisis_latency:
                raise PlanCheckError(
                    f"the model and the attack search disagree: {sc.name} is in the model "
                    "and still breaks the plan"
                )
            grown = with_scenarios(pp, [sc], self.levels)
            fl = problem_flows(grown, sites, assign, [sc.name])[sc.name]
            if fl.met is not False:  # broke the levels only by counting cut-off load
                rejected.append(found.targets)
                continue
            entry.update(
                attack=[x.name for x in found.targets],
                short_racks=round(-margin, 6),
                attack_search_seconds=round(time.perf_counter() - t, 3),
                attack_solves=solves,
            )
            self.record["iterations"].append(entry)
            log.info(
                "attack %d: %s leaves %.3g racks short; added",
                entry["iteration"],
                " + ".join(entry["attack"]),
                -margin,
            )
            return grown, sc.name


def optimise(
    ds: Dataset,
    pp: PlacementProblem,
    inputs: dict[str, Any] | None = None,
    start: tuple[dict[str, str], dict[str, list[str]]] | None = None,
    explain_infeasible: bool = True,
) -> Plan:
    """Build, solve (:func:`solve_rounds`), extract and check the plan of ``pp``.

    ``start`` (sites → type, assignments) is a known plan handed to the solver as a
    MIP start (used when feasible, ignored otherwise; it never changes the answer).
    ``explain_infeasible = False`` leaves out what must give when no plan exists.

    The plan is checked constraint by constraint by
    :func:`nisd.optimise.check.check_plan`, and its crisis service levels again
    by :func:`nisd.topology.resilience.evaluate`, which recomputes every route
    over the surviving fibre graph; its scenario rows are the ones written.

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
    t0 = time.perf_counter()
    cfg = pp.config
    start_given = start is not None
    decomposition: dict[str, Any] | None = None
    solved: Solved | None = None
    t_build = 0.0
    if decompose.chosen(pp):
        solved, decomposition, start = _sites_first(pp, t0, start, explain_infeasible)
        if solved is not None:
            t_build = float(decomposition["master"]["build_seconds"])
            m = solved.model
    if solved is None:
        t_full = time.perf_counter()
        m = build(pp)
        t_build = time.perf_counter() - t_full
        warm = start_of(m, pp, *start) if start is not None else None
        solved = solve_rounds(pp, m, t0, start=warm, explain_infeasible=explain_infeasible)
    pp = solved.pp
    res, name, sites, assign = solved.result, solved.objective_name, solved.sites, solved.assign
    steps, rounds = solved.steps, solved.rounds
    if pp.scenarios:
        evaluation = crisis_evaluation(ds, pp, sites, assign)
    violations = check_plan(pp, sites, assign)
    scen_rows: list[dict[str, Any]] = []
    if pp.scenarios:
        scen_rows = scenario_rows(pp, evaluation)
        for row in scen_rows:
            if row["levels_met"] is False:
                violations.append(
                    f"{row['scenario']}: service levels {row['levels']} not met on re-check "
                    f"(served {row['served_by_class']})"
                )
    if violations:
        raise PlanCheckError(
            "the solver's plan failed the independent check:\n  " + "\n  ".join(violations[:20])
        )
    k, use = plan_kpis(pp, sites, assign, scen_rows)
    war = solved.war
    if war is not None:
        war = {**war, "worst_attack": _worst_attack(ds, pp, sites, assign)}
    total = time.perf_counter() - t0
    run = {
        "nisd_version": __version__,
        "python": platform.python_version(),
        "solver": res.solver,
        "solver_version": res.solver_version,
        "threads": cfg.solver.threads,
        "seed": cfg.solver.seed,
        "time_limit": cfg.solver.time_limit,
        "gap_limit": cfg.solver.gap,
        "hit_limit": any(s.hit_limit for s in steps),
        "build_seconds": round(t_build, 3),
        "solve_seconds": round(sum(s.seconds for s in steps), 3),
        "wall_seconds": round(total, 3),
        "parameters": cfg.model_dump(mode="json"),
        "model": {
            "variables": len(m.prob.variables()),
            "constraints": len(m.prob.constraints),
            "nonzeros": sum(len(c) for c in m.prob.constraints.values()),
            "families": dict(sorted(m.families.items())),
            "crisis_rows_before_reduction": m.crisis_rows_raw,
            "scenarios": len(pp.scenarios),
            "scenarios_with_flow_rows": list(m.flow_scenarios),
        },
        "rounds": rounds,
        "decomposition": decomposition,
        "war": war,
        "start_given": start_given,
        **(inputs or {}),
    }
    return Plan(
        res.status.value,
        name,
        res.objective,
        res.bound,
        res.gap,
        sites,
        assign,
        k,
        scen_rows,
        run,
        use,
    )


def _sites_first(
    pp: PlacementProblem,
    t0: float,
    start: tuple[dict[str, str], dict[str, list[str]]] | None,
    explain_infeasible: bool,
) -> tuple[Solved | None, dict[str, Any], tuple[dict[str, str], dict[str, list[str]]] | None]:
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
        return None, {**stop.record, "then": "full model"}, start
    except InfeasibleError as exc:
        if not explain_infeasible:
            raise
        from nisd.optimise.explain import explain, what_must_give

        raise InfeasibleError(str(exc) + what_must_give(explain(pp))) from None
    # the best plan's check ran on a copy of pp with the other sites forbidden
    solved = dataclasses.replace(out.best, result=out.result, steps=out.steps, pp=pp)
    return solved, out.record, start


def _worst_attack(
    ds: Dataset, pp: PlacementProblem, sites: dict[str, str], assign: dict[str, list[str]]
) -> dict[str, Any] | None:
    """The worst attack within the war budget on the final plan, as the evaluator sees it."""
    from nisd.optimise.war import attack

    w = pp.config.war
    levels = [float(w.serve.get(c, 0.0)) for c in pp.classes]
    res = attack(
        ds,
        build_graph(ds),
        sites,
        assign,
        budget=w.attacks,
        kinds=w.targets,
        costs={str(k): float(v) for k, v in w.cost.items()},
        top=1,
        levels=levels,
        opts=pp.config.solver.model_copy(update={"time_limit": None}),
    )
    return res.worst


def plan_kpis(
    pp: PlacementProblem,
    sites: dict[str, str],
    assign: dict[str, list[str]],
    scen_rows: list[dict[str, Any]],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every key figure of a plan, and the use of each site (one function for every plan)."""
    k = kpis(pp, sites, assign)
    use = site_use(pp, sites, assign, scen_rows)
    k["capacity_racks"] = round(sum(u["capacity"] for u in use), 6)
    k["primary_load_racks"] = round(sum(u["primary_load"] for u in use), 6)
    # what dedicated (1+1) backup would reserve: the protected part of every backed-up load
    protect = pp.backup_share()
    backups = np.array([max(0, len(assign.get(d, [])) - 1) for d in pp.demand_ids])
    k["dedicated_backup_racks"] = round(float((protect * pp.load * backups).sum()), 6)
    if scen_rows:
        k.update(worst_case(scen_rows, pp.classes))
    return k, use


def worst_case(scen_rows: list[dict[str, Any]], classes: tuple[str, ...]) -> dict[str, Any]:
    """Worst served share over the scenarios: of all load, and per class (with the scenario)."""
    worst = min(scen_rows, key=lambda r: (r["demand_served_share"], r["scenario"]))
    by_class: dict[str, Any] = {}
    for c in classes:
        vals = [
            (r["served_by_class"].get(c), r["scenario"])
            for r in scen_rows
            if r["served_by_class"].get(c) is not None
        ]
        if vals:
            v, n = min(vals)
            by_class[c] = {"share": v, "scenario": n}
    return {
        "worst_case_share_served": worst["demand_served_share"],
        "worst_case_scenario": worst["scenario"],
        "worst_case_by_class": by_class,
        "service_levels_met": all(r["levels_met"] is not False for r in scen_rows),
    }


def write_plan(plan: Plan, out_dir: Path, pp: PlacementProblem) -> Path:
    """Write ``plan.json``, ``sites.csv`` and ``assignments.csv`` atomically into ``out_dir``
    (:func:`nisd.io.planfile.write_plan_files`)."""
    return write_plan_files(
        plan.to_json(), dict(zip(pp.site_ids, pp.site_names, strict=True)), out_dir
    )
