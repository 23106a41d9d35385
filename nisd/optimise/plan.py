"""From problem to checked plan: solve (single, weighted or lexicographic), extract, check.

Build, solve and extract are separate steps; every plan passes
:func:`nisd.optimise.check.check_plan` and an independent re-evaluation of
its crisis scenarios over the surviving fibre graph before it is returned.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pulp

from nisd import __version__
from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, NoSolutionError, PlanCheckError
from nisd.optimise.check import check_plan
from nisd.optimise.model import Model, build, objective_names
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.solve import SolveResult, Status, solve
from nisd.topology import build_graph
from nisd.topology.resilience import evaluate


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


def _run(pp: PlacementProblem, m: Model) -> tuple[SolveResult, str, list[SolveResult]]:
    obj = pp.config.objective
    names = objective_names(pp)
    results = []
    if obj.name == "lexicographic":
        for step, name in enumerate(names):
            _set_objective(m, (name,), None)
            res = solve(m.prob, pp.config.solver)
            results.append(res)
            if res.status in (Status.INFEASIBLE, Status.UNKNOWN) or res.objective is None:
                return res, name, results
            if step < len(names) - 1:
                slack = obj.tolerance * abs(res.objective) + 1e-6
                m.add(f"lex_{name}", m.terms[name] <= res.objective + slack)
        # the reported status is the weakest of the steps
        worst = Status.OPTIMAL
        for r in results:
            if r.status is Status.FEASIBLE:
                worst = Status.FEASIBLE
        last = results[-1]
        final = SolveResult(
            worst,
            last.objective,
            last.bound,
            last.gap,
            sum(r.seconds for r in results),
            last.solver,
            last.solver_version,
            any(r.hit_limit for r in results),
        )
        return final, "lexicographic:" + ">".join(names), results
    weights = obj.weights if obj.name == "weighted" else None
    _set_objective(m, names, {str(n): w for n, w in weights.items()} if weights else None)
    res = solve(m.prob, pp.config.solver)
    return res, obj.name, [res]


def _extract(pp: PlacementProblem, m: Model) -> tuple[dict[str, str], dict[str, list[str]]]:
    sites = {}
    for (j, t), v in sorted(m.y.items()):
        if (v.value() or 0) > 0.5:
            sites[pp.site_ids[j]] = pp.type_ids[t]
    assign: dict[str, list[str]] = {}
    for i, d in enumerate(pp.demand_ids):
        seq: list[str] = []
        for r in range(pp.config.k):
            js = [
                j
                for j in range(pp.n_sites)
                if (i, j, r) in m.x and (m.x[i, j, r].value() or 0) > 0.5
            ]
            seq.extend(pp.site_ids[j] for j in js[:1])
        assign[d] = seq
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
        "types": dict(sorted(pd.Series(list(sites.values())).value_counts().items()))
        if sites
        else {},
    }


def optimise(ds: Dataset, pp: PlacementProblem, inputs: dict[str, Any] | None = None) -> Plan:
    """Build, solve, extract and check the plan of ``pp``.

    Raises
    ------
    InfeasibleError
        The solver proved that no plan exists.
    NoSolutionError
        The solver stopped without a plan and without a proof.
    PlanCheckError
        The solver's plan violates a constraint (never returned as a result).
    """
    t0 = time.perf_counter()
    m = build(pp)
    t_build = time.perf_counter() - t0
    res, name, steps = _run(pp, m)
    if res.status is Status.INFEASIBLE:
        from nisd.optimise.explain import explain

        reasons = explain(pp)
        raise InfeasibleError(
            f"no plan satisfies the constraints (proved by {res.solver} in {res.seconds:.1f} s)."
            + ("" if not reasons else " What must give:\n  " + "\n  ".join(reasons))
        )
    if res.status is Status.UNKNOWN:
        raise NoSolutionError(
            f"{res.solver} stopped after {res.seconds:.1f} s without a plan "
            "and without a proof of infeasibility; raise --time-limit"
        )
    sites, assign = _extract(pp, m)
    violations = check_plan(pp, sites, assign)
    scen_rows: list[dict[str, Any]] = []
    if pp.scenarios:
        g = build_graph(ds)
        r = evaluate(ds, g, sorted(sites), list(pp.scenarios), check_two_routes=False)
        crit = {pp.demand_ids[i] for i in np.nonzero(pp.critical)[0]}
        for row in r.table.to_dict("records"):
            cut = {d for name, d in pp.cut_off if name == row["scenario"]}
            lost = sorted((set(row["unserved"]) & crit) - cut)
            if lost:
                violations.append(
                    f"{row['scenario']}: critical demand unserved on re-check: " + ", ".join(lost)
                )
            scen_rows.append(
                {
                    "scenario": row["scenario"],
                    "kind": row["kind"],
                    "demand_served_share": round(float(row["demand_served_share"]), 6),
                    "critical_served": not lost,
                    "cut_off": sorted(cut),
                }
            )
    if violations:
        raise PlanCheckError(
            "the solver's plan failed the independent check:\n  " + "\n  ".join(violations[:20])
        )
    k = kpis(pp, sites, assign)
    if scen_rows:
        k["worst_case_share_served"] = min(s["demand_served_share"] for s in scen_rows)
    total = time.perf_counter() - t0
    cfg = pp.config
    run = {
        "nisd_version": __version__,
        "python": platform.python_version(),
        "solver": res.solver,
        "solver_version": res.solver_version,
        "threads": cfg.solver.threads,
        "seed": cfg.solver.seed,
        "time_limit": cfg.solver.time_limit,
        "gap_limit": cfg.solver.gap,
        "hit_limit": res.hit_limit,
        "build_seconds": round(t_build, 3),
        "solve_seconds": round(sum(s.seconds for s in steps), 3),
        "wall_seconds": round(total, 3),
        "parameters": cfg.model_dump(mode="json"),
        "model": {
            "variables": len(m.prob.variables()),
            "constraints": len(m.prob.constraints),
            "families": dict(sorted(m.families.items())),
            "crisis_rows_before_reduction": m.crisis_rows_raw,
        },
        **(inputs or {}),
    }
    return Plan(
        res.status.value, name, res.objective, res.bound, res.gap, sites, assign, k, scen_rows, run
    )


def write_plan(plan: Plan, out_dir: Path, pp: PlacementProblem) -> Path:
    """Write ``plan.json``, ``sites.csv`` and ``assignments.csv`` atomically into ``out_dir``.

    Files are written to a temporary directory beside ``out_dir`` and moved in
    only when all are complete, so a failed run never leaves half a result
    nor replaces an existing one.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".nisd-plan-", dir=out_dir.parent))
    try:
        doc = plan.to_json()
        (tmp / "plan.json").write_text(
            json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        names = dict(zip(pp.site_ids, pp.site_names, strict=True))
        pd.DataFrame(
            [{"site_id": s, "name": names[s], "type": t} for s, t in sorted(plan.sites.items())]
        ).to_csv(tmp / "sites.csv", index=False, lineterminator="\n")
        rows = [
            {"demand_id": d, "rank": r + 1, "site_id": s}
            for d, seq in sorted(plan.assignments.items())
            for r, s in enumerate(seq)
        ]
        pd.DataFrame(rows).to_csv(tmp / "assignments.csv", index=False, lineterminator="\n")
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ("plan.json", "sites.csv", "assignments.csv"):
            os.replace(tmp / name, out_dir / name)
    finally:
        for leftover in tmp.iterdir():
            leftover.unlink()
        tmp.rmdir()
    return out_dir / "plan.json"
