"""A mixed-integer programme as arrays, solved by HiGHS directly or through PuLP.

The classic models build their rows with numpy instead of PuLP expressions:
on an OR-Library p-median instance PuLP's expression building and model
hand-over cost more than HiGHS's own solve. With HiGHS (the default) the
arrays go to ``highspy`` as they are (``passModel``); any other solver (CBC)
gets the same programme through PuLP, so the solver stays a choice.
Statuses follow :mod:`nisd.optimise.solve`: ``optimal`` only when proved.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pulp
from scipy.sparse import csr_matrix

from nisd.config import SolverOptions
from nisd.errors import SolverError
from nisd.optimise.solve import (
    ABS_GAP,
    SolveResult,
    highs_result,
    quiet_stdout,
    resolve_name,
    run_highs,
    set_highs_start,
    set_presolve,
    solve,
)


@dataclass(frozen=True)
class MatrixMILP:
    """``min c·x + const`` s.t. ``row_lo ≤ A x ≤ row_hi``, ``lb ≤ x ≤ ub``; ``integer`` marks
    integer columns."""

    c: np.ndarray
    a: csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    const: float = 0.0


def solve_matrix(
    p: MatrixMILP, opts: SolverOptions, start: np.ndarray | None = None
) -> tuple[SolveResult, np.ndarray | None]:
    """Solve ``p``; return the result and the column values (None without a solution).

    ``start`` (one value per column) is handed to HiGHS as a MIP start.
    """
    if resolve_name(opts.name) == "highs":
        return _highs(p, opts, start)
    return _pulp(p, opts)


def _highs(
    p: MatrixMILP, opts: SolverOptions, start: np.ndarray | None
) -> tuple[SolveResult, np.ndarray | None]:
    try:
        import highspy
    except ImportError:
        raise SolverError("HiGHS (highspy) is not installed; reinstall nisd") from None
    with quiet_stdout():  # HiGHS prints its banner from C when created
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", opts.gap or 0.0)
    h.setOptionValue("mip_abs_gap", ABS_GAP)
    h.setOptionValue("random_seed", opts.seed)
    if opts.time_limit is not None:
        h.setOptionValue("time_limit", float(opts.time_limit))
    if opts.threads is not None:
        h.setOptionValue("threads", int(opts.threads))
    lp = highspy.HighsLp()
    n_row, n_col = p.a.shape
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.col_cost_ = np.asarray(p.c, float)
    lp.offset_ = float(p.const)
    lp.col_lower_ = np.asarray(p.lb, float)
    lp.col_upper_ = np.asarray(p.ub, float)
    lp.row_lower_ = np.asarray(p.row_lo, float)
    lp.row_upper_ = np.asarray(p.row_hi, float)
    a = p.a.tocsr()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = n_row
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in p.integer
    ]
    h.passModel(lp)
    set_presolve(h, opts.presolve)
    if start is not None:
        set_highs_start(h, start)
    t = time.perf_counter()
    with quiet_stdout():
        run_highs(h)
    res = highs_result(h, time.perf_counter() - t)
    x = np.asarray(h.getSolution().col_value, float) if res.objective is not None else None
    return res, x


def _pulp(p: MatrixMILP, opts: SolverOptions) -> tuple[SolveResult, np.ndarray | None]:
    prob = pulp.LpProblem("matrix", pulp.LpMinimize)
    cols = [
        pulp.LpVariable(
            f"x{k}",
            lowBound=float(p.lb[k]) if np.isfinite(p.lb[k]) else None,
            upBound=float(p.ub[k]) if np.isfinite(p.ub[k]) else None,
            cat="Integer" if p.integer[k] else "Continuous",
        )
        for k in range(len(p.c))
    ]
    prob.setObjective(
        pulp.LpAffineExpression([(cols[k], float(v)) for k, v in enumerate(p.c) if v], p.const)
    )
    a = p.a.tocsr()
    for r in range(a.shape[0]):
        lo, hi = a.indptr[r], a.indptr[r + 1]
        expr = pulp.LpAffineExpression(
            [(cols[int(j)], float(v)) for j, v in zip(a.indices[lo:hi], a.data[lo:hi], strict=True)]
        )
        if p.row_lo[r] == p.row_hi[r]:
            prob.addConstraint(expr == float(p.row_lo[r]), f"r{r}")
            continue
        if np.isfinite(p.row_lo[r]):
            prob.addConstraint(expr >= float(p.row_lo[r]), f"r{r}l")
        if np.isfinite(p.row_hi[r]):
            prob.addConstraint(expr <= float(p.row_hi[r]), f"r{r}u")
    res = solve(prob, opts)
    if res.objective is None:
        return res, None
    return res, np.array([c.value() or 0.0 for c in cols])
