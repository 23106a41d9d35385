"""The one place that knows solvers: names, options, and honest statuses.

PuLP's own status is not trusted: it calls a time-limited HiGHS run
"Optimal" and a CBC run stopped in preprocessing "Infeasible". nisd reads
each solver's own report (CBC's log; HiGHS's model status and dual bound)
and maps it into :class:`Status`:

``optimal``     proved, to the model's precision (gap within the tolerance)
``feasible``    a solution, not proved optimal; ``bound`` and ``gap`` say how far
``infeasible``  proved infeasible, with no limit hit
``unknown``     neither a solution nor a proof
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulp

from nisd.config import SolverOptions
from nisd.errors import SolverError
from nisd.records.base import Status

ABS_GAP = 1e-6
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SolveResult:
    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    solver: str
    solver_version: str
    hit_limit: bool


def current_values(prob: pulp.LpProblem) -> Start:
    """A problem's current solution, by variable name (a start for the next solve)."""
    return {v.name: float(v.value()) for v in prob.variables() if v.value() is not None}


def weakest(
    results: list[SolveResult], about: SolveResult, steps: list[SolveResult]
) -> SolveResult:
    """One result for several solves of one answer (lexicographic steps): the weakest
    status of ``results``, objective, bound, gap and solver of ``about``, the time and
    whether a limit was hit over every solve of ``steps``."""
    status = Status.OPTIMAL
    if any(r.status is Status.FEASIBLE for r in results):
        status = Status.FEASIBLE
    return SolveResult(
        status,
        about.objective,
        about.bound,
        about.gap,
        sum(r.seconds for r in steps),
        about.solver,
        about.solver_version,
        any(r.hit_limit for r in steps),
    )


def available() -> list[str]:
    """Solver names nisd can run here (``cbc`` always, ``highs`` with highspy)."""
    names = ["cbc"]
    try:
        import highspy  # noqa: F401

        names.append("highs")
    except ImportError:
        pass
    return names


def relative_gap(obj: float, bound: float) -> float:
    """The relative gap between a solution's value and a bound: ``|obj - bound| / |obj|``
    (the one formula of every status nisd reports)."""
    return abs(obj - bound) / max(abs(obj), 1e-9)


def _gap(obj: float | None, bound: float | None) -> float | None:
    if obj is None or bound is None or not math.isfinite(bound):
        return None
    return relative_gap(obj, bound)


def _proved(obj: float | None, bound: float | None, rel: float | None) -> bool:
    if obj is None or bound is None:
        return False
    return abs(obj - bound) <= max(ABS_GAP, (rel or 0.0) * max(abs(obj), 1e-9)) + 1e-9


def resolve_name(name: str) -> str:
    """``auto`` becomes ``highs`` when highspy is installed, else ``cbc`` (bundled with PuLP)."""
    name = name.lower()
    if name == "auto":
        return "highs" if "highs" in available() else "cbc"
    return name


Start = Mapping[str, float]  # variable name → value of a known plan (a MIP start)


def solve(prob: pulp.LpProblem, opts: SolverOptions, start: Start | None = None) -> SolveResult:
    """Solve ``prob`` in a private temporary directory, removed afterwards.

    ``start`` hands the solver a known plan (HiGHS and CBC use it when it is
    feasible and ignore it otherwise); variables it does not name start at 0.
    """
    name = resolve_name(opts.name)
    with tempfile.TemporaryDirectory(prefix="nisd-solve-") as tmp:
        if name == "cbc":
            return _cbc(prob, opts, Path(tmp), start)
        if name == "highs":
            return _highs(prob, opts, start)
        return _other(prob, opts, Path(tmp))


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send what native solver code prints on file descriptor 1 to the null device.

    HiGHS prints its banner from C when PuLP creates it, whatever ``msg`` says;
    on stdout it would break ``--json`` output.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout (captured in tests)
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def _timed_solve(prob: pulp.LpProblem, solver: Any, label: str) -> float:
    """Run ``solver`` on ``prob``; seconds taken, or a SolverError naming the solver."""
    t0 = time.perf_counter()
    try:
        with quiet_stdout():
            prob.solve(solver)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"{label} failed: {exc}") from None
    return time.perf_counter() - t0


def _cbc(prob: pulp.LpProblem, opts: SolverOptions, tmp: Path, start: Start | None) -> SolveResult:
    log = tmp / "cbc.log"
    if start is not None:
        for v in prob.variables():
            v.setInitialValue(start.get(v.name, 0.0))
    solver = pulp.PULP_CBC_CMD(
        warmStart=start is not None,
        msg=False,
        timeLimit=opts.time_limit,
        gapRel=opts.gap,
        gapAbs=ABS_GAP,
        threads=opts.threads,
        logPath=str(log),
        options=[f"randomSeed {opts.seed + 1}", f"randomCbcSeed {opts.seed + 1}"],
    )
    solver.tmpDir = str(tmp)
    sec = _timed_solve(prob, solver, "CBC")
    text = log.read_text(errors="replace") if log.exists() else ""
    result = re.search(r"Result - (.+)", text)
    verdict = result.group(1).strip() if result else ""
    if not verdict and re.search(r"^Problem is infeasible", text, flags=re.M):
        verdict = "Problem proven infeasible (continuous relaxation or presolve)"
    m_obj = re.search(r"Objective value:\s+(\S+)", text)
    m_bound = re.search(r"Lower bound:\s+(\S+)", text)
    version = re.search(r"Version:\s+(\S+)", text)
    obj = (
        float(m_obj.group(1)) if m_obj and verdict and "infeasible" not in verdict.lower() else None
    )
    bound = float(m_bound.group(1)) if m_bound else None
    has_sol = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    if obj is None and has_sol:
        obj = pulp.value(prob.objective)
    hit = "stopped" in verdict.lower() or (
        opts.time_limit is not None and sec >= opts.time_limit * 0.98
    )
    if verdict.startswith("Optimal solution found") and has_sol:
        bound = obj if bound is None else bound
        status = Status.OPTIMAL if _proved(obj, bound, 0.0) else Status.FEASIBLE
    elif "infeasible" in verdict.lower() and not hit:
        status, obj = Status.INFEASIBLE, None
    elif has_sol:
        status = Status.FEASIBLE
    else:
        status, obj = Status.UNKNOWN, None
    if status is Status.OPTIMAL:
        bound = obj if bound is None else bound
    return SolveResult(
        status,
        obj,
        bound,
        _gap(obj, bound),
        sec,
        "cbc",
        version.group(1) if version else "bundled",
        hit,
    )


class _HighsWithStart(pulp.HiGHS):
    """PuLP's HiGHS door, handing HiGHS a MIP start before it runs (PuLP has no such option)."""

    def __init__(self, start: Start | None, presolve: str = "auto", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start = start
        self.presolve = presolve

    def callSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802 (PuLP's name)
        set_presolve(lp.solverModel, self.presolve)
        if self.start is not None:
            set_highs_start(
                lp.solverModel, [float(self.start.get(v.name, 0.0)) for v in lp.variables()]
            )
        run_highs(lp.solverModel)


# HiGHS's full presolve multiplies the nonzeros of large placement models (a synthetic
# country of 250 sites x 250 users: 1.3 million nonzeros became 5.3 million in 128 s of
# presolve, after which the root LP alone proved the optimum in seconds); its light presolve
# takes 1.6 s there. Below this size the full presolve pays (the capacity-true baseline:
# 9 s against 6 s, the war scenario 12 s against 19 s). Measured by benchmarks/scale.py.
LIGHT_PRESOLVE_NONZEROS = 400_000


def set_presolve(h: Any, presolve: str) -> None:
    """``auto``: HiGHS's full presolve for models up to LIGHT_PRESOLVE_NONZEROS, light above;
    ``full``, ``light`` or ``off`` as named."""
    if presolve == "off":
        h.setOptionValue("presolve", "off")
        return
    light = presolve == "light" or (presolve == "auto" and h.getNumNz() > LIGHT_PRESOLVE_NONZEROS)
    h.setOptionValue("presolve_mode", 2 if light else 0)


def set_highs_start(h: Any, values: Iterable[float]) -> None:
    """Hand a HiGHS model a MIP start (one value per column; ignored when infeasible)."""
    import highspy

    sol = highspy.HighsSolution()
    sol.col_value = [float(v) for v in values]
    sol.value_valid = True
    h.setSolution(sol)


# the thread count this process's HiGHS scheduler was started with (0: HiGHS's choice)
_scheduler_threads: int | None = None


def run_highs(h: Any) -> None:
    """Run a HiGHS model.

    HiGHS starts one thread scheduler per process, sized by the first run's ``threads``
    option, and refuses (with an error, solving nothing) a later run that asks for a
    different count: a notebook that plans with the default and then sweeps with one
    thread per solve would get no plan. The scheduler is started again when the count
    changes. A run that ends in an error is a SolverError.
    """
    import highspy

    global _scheduler_threads
    _status, want = h.getOptionValue("threads")
    if _scheduler_threads is not None and _scheduler_threads != want:
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads = want
    if h.run() == highspy.HighsStatus.kError:
        raise SolverError(f"HiGHS stopped with an error (model status {h.getModelStatus()})")


def highs_result(h: Any, seconds: float) -> SolveResult:
    """The honest result of a finished HiGHS run: ``optimal`` only when its bound proves it."""
    import highspy

    ms = h.getModelStatus()
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2
    obj = float(info.objective_function_value) if has_sol else None
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
    hit = ms in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt)
    if ms == highspy.HighsModelStatus.kOptimal and has_sol:
        bound = obj if bound is None else bound
        status = Status.OPTIMAL if _proved(obj, bound, 0.0) else Status.FEASIBLE
    elif ms == highspy.HighsModelStatus.kInfeasible:
        status, obj = Status.INFEASIBLE, None
    elif has_sol:
        status = Status.FEASIBLE
    else:
        status = Status.UNKNOWN
    version = str(h.version())
    return SolveResult(status, obj, bound, _gap(obj, bound), seconds, "highs", version, hit)


PROGRESS_SECONDS = 5.0


def _progress(_kind: int, _msg: str, out: Any, _data_in: Any, state: dict[str, float]) -> None:
    """HiGHS callback: a progress line every few seconds (elapsed, best plan, bound, gap)."""
    t = float(out.running_time)
    if t - state["last"] < PROGRESS_SECONDS:
        return
    state["last"] = t
    best, bound, gap = out.mip_primal_bound, out.mip_dual_bound, out.mip_gap
    log.info(
        "HiGHS %.0f s: best plan %s, bound %s, gap %s",
        t,
        f"{best:.6g}" if math.isfinite(best) else "none yet",
        f"{bound:.6g}" if math.isfinite(bound) else "none yet",
        f"{gap:.2%}" if math.isfinite(gap) else "n/a",
    )


def _highs(prob: pulp.LpProblem, opts: SolverOptions, start: Start | None) -> SolveResult:
    try:
        import highspy
    except ImportError:
        raise SolverError("HiGHS (highspy) is not installed; reinstall nisd") from None
    params: dict[str, Any] = {
        "mip_rel_gap": opts.gap or 0.0,
        "mip_abs_gap": ABS_GAP,
        "random_seed": opts.seed,
    }
    progress: dict[str, Any] = {}
    if log.isEnabledFor(logging.INFO):
        progress = {
            "callbackTuple": (_progress, {"last": 0.0}),
            "callbacksToActivate": [highspy.cb.HighsCallbackType.kCallbackMipInterrupt],
        }
    solver = _HighsWithStart(
        start,
        opts.presolve,
        msg=False,
        timeLimit=opts.time_limit,
        threads=opts.threads,
        **progress,
        **params,
    )
    sec = _timed_solve(prob, solver, "HiGHS")
    return highs_result(prob.solverModel, sec)


def _other(prob: pulp.LpProblem, opts: SolverOptions, tmp: Path) -> SolveResult:
    try:
        solver = pulp.getSolver(opts.name, msg=False, timeLimit=opts.time_limit)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"unknown solver {opts.name!r}: {exc}") from None
    if not solver.available():
        raise SolverError(
            f"solver {opts.name!r} is not available here; available: " + ", ".join(available())
        )
    if hasattr(solver, "tmpDir"):
        solver.tmpDir = str(tmp)
    sec = _timed_solve(prob, solver, opts.name)
    # Without the solver's own bound nothing is proved: a solution is only "feasible".
    has_sol = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    obj = pulp.value(prob.objective) if has_sol else None
    status = Status.FEASIBLE if has_sol else Status.UNKNOWN
    return SolveResult(status, obj, None, None, sec, opts.name, "unknown", False)
