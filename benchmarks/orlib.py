"""Solve OR-Library p-median instances with nisd and with spopt, in the same run.

Usage::

    python benchmarks/orlib.py --dir ../shared/data/orlib/pmed [--only pmed1,pmed2]
        [--solver highs|cbc] [--no-spopt] [--pcenter] [--json FILE]
        [--generated 900:5,900:10] [--ufl-dir DIR] [--ufl-generated 1000x100]

``--generated N:P,...`` adds random graphs of the shape of OR-Library's large pmed
instances (N nodes, N²/50 edges of length 1–100, shortest-path costs), solved by nisd
with reduced radii beside nisd with every radius from the start (the peer, same run).
``--ufl-dir`` solves the uncapacitated ``cap`` files there (those that write the word
``capacity``) as uncapacitated facility location; ``--ufl-generated CxS`` adds a random
instance of C customers and S sites of that shape, again beside every radius.

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
from classic.models import pcenter, pmedian, ufl
from classic.orlib import read_cap, read_optima, read_pmed

from nisd.config import SolverOptions


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


def generated_pmed(n: int, seed: int) -> np.ndarray:
    """Shortest-path costs of a random connected graph of OR-Library's pmed shape."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    rng = np.random.default_rng(seed)
    edges = {(int(rng.integers(k)), k) for k in range(1, n)}  # a random spanning tree
    while len(edges) < n * n // 50:
        a, b = (int(x) for x in rng.integers(n, size=2))
        if a != b:
            edges.add((min(a, b), max(a, b)))
    a_, b_ = zip(*sorted(edges), strict=True)
    w = rng.integers(1, 101, len(a_)).astype(float)
    g = csr_matrix((w, (a_, b_)), shape=(n, n))
    return np.asarray(shortest_path(g, directed=False))


def generated_ufl(c: int, s: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed costs and assignment costs of a random instance of OR-Library's capa shape."""
    rng = np.random.default_rng(seed)
    cust = rng.random((c, 2))
    site = rng.random((s, 2))
    demand = rng.integers(1, 100, c).astype(float)
    dist = np.sqrt(((cust[:, None, :] - site[None, :, :]) ** 2).sum(axis=2))
    cost = np.round(demand[:, None] * dist * 1000)
    fixed = rng.integers(5000, 20000, s).astype(float) * 10
    return fixed, cost


def _peer_rows(label: str, solve_one: Any, repeat: int) -> dict[str, Any]:
    """Reduced radii against every radius from the start: min and median of each."""
    red, full, obj = [], [], None
    status = ""
    for _ in range(repeat):
        t = time.perf_counter()
        r = solve_one(True)
        red.append(time.perf_counter() - t)
        t = time.perf_counter()
        f = solve_one(False)
        full.append(time.perf_counter() - t)
        assert abs(r.objective - f.objective) < 1e-6 * max(1.0, abs(f.objective)), (r, f)
        obj, status = r.objective, r.status
    med_r, med_f = float(np.median(red)), float(np.median(full))
    print(
        f"{label:<22}{obj:>14g}{status:>9}{min(red):>9.2f}{med_r:>9.2f}"
        f"{min(full):>9.2f}{med_f:>9.2f}{med_r / med_f:>8.3f}",
        flush=True,
    )
    return {
        "instance": label,
        "objective": obj,
        "status": status,
        "reduced_seconds": red,
        "full_seconds": full,
    }


def extra(args: argparse.Namespace, opts: SolverOptions) -> list[dict[str, Any]]:
    if not (args.generated or args.ufl_dir or args.ufl_generated):
        return []
    print(
        f"\n{'instance':<22}{'objective':>14}{'status':>9}{'reduced':>9}{'median':>9}"
        f"{'every r':>9}{'median':>9}{'ratio':>8}"
    )
    out = []
    for spec in filter(None, args.generated.split(",")):
        n, p = (int(x) for x in spec.split(":"))
        cost = generated_pmed(n, seed=n + p)
        out.append(
            _peer_rows(
                f"pmed-shape n={n} p={p}",
                lambda red, c=cost, pp=p: pmedian(c, pp, opts, reduced=red),
                args.repeat,
            )
        )
    if args.ufl_dir:
        for f in sorted(Path(args.ufl_dir).glob("cap*.txt")):
            inst = read_cap(f)
            if not inst.uncapacitated:
                continue
            out.append(
                _peer_rows(
                    f.stem,
                    lambda red, i=inst: ufl(i.fixed_cost, i.cost, opts, reduced=red),
                    args.repeat,
                )
            )
    for spec in filter(None, args.ufl_generated.split(",")):
        c, s_ = (int(x) for x in spec.split("x"))
        fixed, cost = generated_ufl(c, s_, seed=c + s_)
        out.append(
            _peer_rows(
                f"ufl-shape {c}x{s_}",
                lambda red, f_=fixed, c_=cost: ufl(f_, c_, opts, reduced=red),
                args.repeat,
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--solver", default="highs", choices=["highs", "cbc"])
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument("--pcenter", action="store_true", help="Also solve the vertex p-center.")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--generated", default="", help="N:P,... random pmed-shaped instances")
    ap.add_argument("--ufl-dir", default="", help="directory of uncapacitated cap files")
    ap.add_argument("--ufl-generated", default="", help="CxS,... random UFL instances")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each extra instance")
    ap.add_argument("--skip-pmed", action="store_true", help="only the extra instances")
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
    for f in [] if args.skip_pmed else files:
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
    records += extra(args, opts)
    if args.json:
        args.json.write_text(json.dumps(records, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
