"""Solve OR-Library p-median instances with nisd and with spopt, in the same run.

Usage::

    python benchmarks/orlib.py --dir ../shared/data/orlib/pmed [--only pmed1,pmed2]
        [--solver highs|cbc] [--no-spopt] [--pcenter] [--json FILE]

Prints per instance nisd's time (build + solve), spopt's time with the same
solver, their ratio, and both objectives against the known optimum from
``optima.csv`` beside the instances (when present). ``--json`` writes a list
of records with ``instance``, ``objective``, ``optimum``, ``status``,
``seconds``, ``spopt_seconds`` (and more). The geometric mean of the ratios
closes the table.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from nisd.io.orlib import read_optima, read_pmed
from nisd.optimise.classic import pcenter, pmedian
from nisd.optimise.config import SolverOptions


def _pulp_solver(name: str) -> Any:
    import pulp

    if name == "highs":
        return pulp.HiGHS(msg=False)
    return pulp.PULP_CBC_CMD(msg=False)


def spopt_pmedian(cost: np.ndarray, p: int, solver: str) -> tuple[float, float]:
    from spopt.locate import PMedian

    t = time.perf_counter()
    model = PMedian.from_cost_matrix(cost, np.ones(cost.shape[0]), p_facilities=p)
    model.solve(_pulp_solver(solver), results=False)
    sec = time.perf_counter() - t
    return float(model.problem.objective.value()), sec


def spopt_pcenter(cost: np.ndarray, p: int, solver: str) -> tuple[float, float]:
    from spopt.locate import PCenter

    t = time.perf_counter()
    model = PCenter.from_cost_matrix(cost, p_facilities=p)
    model.solve(_pulp_solver(solver), results=False)
    sec = time.perf_counter() - t
    return float(model.problem.objective.value()), sec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--solver", default="highs", choices=["highs", "cbc"])
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument("--pcenter", action="store_true", help="Also solve the vertex p-center.")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    files = sorted(args.dir.glob("pmed*.txt"), key=lambda p: int(re.sub(r"\D", "", p.stem)))
    if args.only:
        wanted = set(args.only.split(","))
        files = [f for f in files if f.stem in wanted]
    optima = read_optima(args.dir / "optima.csv") if (args.dir / "optima.csv").exists() else {}
    opts = SolverOptions(name=args.solver)
    print(
        f"{'instance':<9}{'n':>5}{'p':>5}{'optimum':>9}{'nisd':>9}{'status':>9}{'build s':>9}"
        f"{'total s':>9}{'spopt':>9}{'spopt s':>9}{'ratio':>8}"
    )
    records = []
    ratios = []
    for f in files:
        inst = read_pmed(f)
        opt = optima.get(f.stem, {}).get("pmedian_optimum")
        t = time.perf_counter()
        res = pmedian(inst.cost, inst.p, opts)
        total = time.perf_counter() - t
        s_obj = s_sec = None
        if not args.no_spopt:
            s_obj, s_sec = spopt_pmedian(inst.cost, inst.p, args.solver)
            ratios.append(total / s_sec)
        rec: dict[str, Any] = {
            "instance": f.stem,
            "model": "p-median",
            "n": inst.n,
            "p": inst.p,
            "objective": res.objective,
            "optimum": opt,
            "status": res.status,
            "seconds": round(total, 3),
            "build_seconds": round(res.build_seconds, 3),
            "solve_seconds": round(res.seconds, 3),
            "spopt_objective": s_obj,
            "spopt_seconds": None if s_sec is None else round(s_sec, 3),
            "solver": args.solver,
        }
        records.append(rec)
        ratio = "" if s_sec is None else f"{total / s_sec:8.3f}"
        print(
            f"{f.stem:<9}{inst.n:>5}{inst.p:>5}{opt if opt is not None else '':>9}"
            f"{res.objective:>9g}{res.status:>9}{res.build_seconds:>9.2f}{total:>9.2f}"
            f"{'' if s_obj is None else f'{s_obj:g}':>9}"
            f"{'' if s_sec is None else f'{s_sec:.2f}':>9}{ratio}",
            flush=True,
        )
        if args.pcenter:
            t = time.perf_counter()
            pc = pcenter(inst.cost, inst.p, opts)
            pc_total = time.perf_counter() - t
            pc_opt = optima.get(f.stem, {}).get("pcenter_optimum")
            sp = spopt_pcenter(inst.cost, inst.p, args.solver) if not args.no_spopt else None
            records.append(
                {
                    "instance": f.stem,
                    "model": "p-center",
                    "objective": pc.objective,
                    "optimum": pc_opt,
                    "status": pc.status,
                    "seconds": round(pc_total, 3),
                    "spopt_seconds": None if sp is None else round(sp[1], 3),
                    "spopt_objective": None if sp is None else sp[0],
                    "solver": args.solver,
                }
            )
            print(
                f"  p-center: {pc.objective:g} (optimum {pc_opt}) {pc_total:.2f} s"
                + ("" if sp is None else f"; spopt {sp[0]:g} in {sp[1]:.2f} s"),
                flush=True,
            )
    if ratios:
        gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"geometric mean of nisd / spopt time: {gm:.3f} over {len(ratios)} instances")
    if args.json:
        args.json.write_text(json.dumps(records, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
