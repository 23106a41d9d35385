"""Many independent solves: serially, on a local process pool, or on a Dask cluster.

One worker function, :func:`solve_point`, takes plain data (a data directory
and a configuration dict) and returns plain data, so the same task runs
unchanged in any executor, and results do not depend on where they ran.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nisd.errors import ConfigError, InputError, NisdError, Problem

if TYPE_CHECKING:  # pragma: no cover
    from nisd.result import Plan


@lru_cache(maxsize=4)
def _dataset(path: str) -> Any:
    from nisd.io import load_dataset

    return load_dataset(Path(path))


def solve_point(
    data_dir: str,
    config: dict[str, Any],
    start: tuple[dict[str, str], dict[str, list[str]]] | None = None,
    explain_infeasible: bool = True,
) -> dict[str, Any]:
    """Solve one configuration; return the plan document, or the error with its code.

    ``start`` (sites → type, assignments) is a known plan handed to the solver;
    ``explain_infeasible = False`` reports "no plan" without what must give.
    """
    from nisd.optimise import PlanConfig, optimise

    try:
        ds = _dataset(data_dir)
        cfg = PlanConfig.model_validate(config)
        plan = optimise(
            ds,
            _problem(ds, data_dir, cfg),
            {"data_dir": data_dir, "input_hash": ds.input_hash},
            start=start,
            explain_infeasible=explain_infeasible,
        )
        return {"ok": True, "plan": plan.to_json()}
    except NisdError as exc:
        return {
            "ok": False,
            "error": str(exc),
            "error_type": type(exc).__name__,
            "exit_code": exc.exit_code,
        }
    except Exception as exc:  # a failing point is reported and the study goes on
        return {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "error_type": type(exc).__name__,
            "exit_code": 1,
        }


def unproved(doc: dict[str, Any]) -> str:
    """What a re-solve's row must say when its plan is not proved optimal (empty when it is):
    a time-limited cost is an upper bound, not the answer."""
    if doc.get("status") == "optimal":
        return ""
    gap = doc.get("gap")
    at = f", gap {gap:.2%}" if isinstance(gap, int | float) else ""
    return f"not proved optimal ({doc.get('status')}{at}; the time limit was reached)"


# the last problems this process derived, by data and the settings a problem is derived
# from (re-solves of one plan, and most sweep points, differ only in the others)
_PROBLEMS: dict[tuple[str, str, str], Any] = {}
_KEEP = 2


def _problem(ds: Any, data_dir: str, cfg: Any) -> Any:
    """``from_dataset(ds, cfg)``, or a problem this process derived before for the same
    data and derived settings, with its site masks and configuration replaced
    (:func:`nisd.optimise.problem.with_config`)."""
    from nisd.optimise import from_dataset
    from nisd.optimise.problem import derived_settings, with_config

    key = (data_dir, ds.input_hash, json.dumps(derived_settings(cfg), sort_keys=True))
    known = _PROBLEMS.get(key)
    if known is not None:
        return with_config(ds, known, cfg)
    pp = from_dataset(ds, cfg)
    while len(_PROBLEMS) >= _KEEP:
        _PROBLEMS.pop(next(iter(_PROBLEMS)))
    _PROBLEMS[key] = pp
    return pp


Task = tuple[str, Callable[..., dict[str, Any]], tuple[Any, ...]]


def replan_params(plan: Plan, threads: int | None = None) -> dict[str, Any]:
    """A plan's scenario parameters, ready to re-solve (``extends`` resolved away).

    ``threads`` caps each re-solve's solver threads (when the plan set none): solves
    that run side by side should not each claim every core.
    """
    if plan.config is None:
        raise ConfigError([Problem("plan", "has no run.parameters: it cannot be re-solved")])
    params = plan.config.model_dump(mode="json")
    params.pop("extends", None)
    if threads is not None and params["solver"].get("threads") is None:
        params["solver"] = {**params["solver"], "threads": threads}
    return params


def run_tasks(
    tasks: Iterable[Task], *, workers: int | None = None, dask: str | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Run ``(key, function, args)`` tasks; yield ``(key, result)`` as each finishes.

    Parameters
    ----------
    workers : int, optional
        Processes (local pool or LocalCluster workers); 1 runs serially in
        this process. Default: the number of CPUs.
    dask : str, optional
        ``"local"`` for a Dask LocalCluster, or a scheduler address such as
        ``"tcp://host:8786"``.
    """
    tasks = list(tasks)
    n = workers or os.cpu_count() or 1
    if dask:
        yield from _run_dask(tasks, n, dask)
        return
    if n <= 1 or len(tasks) <= 1:
        for key, fn, args in tasks:
            yield key, fn(*args)
        return
    # Spawned, not forked: a solver's thread pool started in this process (HiGHS) does
    # not survive a fork, and a forked worker can spin forever on it.
    with ProcessPoolExecutor(
        max_workers=n, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        futures = {pool.submit(fn, *args): key for key, fn, args in tasks}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()


def _run_dask(tasks: list[Task], n: int, address: str) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(
            [Problem("dask", "Dask is not installed: pip install 'nisd[dask]'")]
        ) from None
    cluster = None
    if address == "local":
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    elif address.startswith("tcp://"):
        try:
            client = Client(address, timeout="10s")
        except OSError as exc:
            raise InputError([Problem("dask", f"cannot reach {address}: {exc}")]) from None
    else:
        raise InputError([Problem("dask", "give 'local' or a tcp://HOST:PORT address")])
    try:
        futures = {
            client.submit(fn, *args, key=f"nisd-{key}", pure=False): key for key, fn, args in tasks
        }
        for fut in dask_completed(list(futures)):
            yield futures[fut], fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
