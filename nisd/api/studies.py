"""Studies of many solves: sweeps, explanations, sensitivity, warm workers."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from nisd.api.solve import config, plan_value
from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.io.load import require_on_disk
from nisd.io.results import (
    dataset_of,
)
from nisd.records import (
    Explanation,
    Plan,
    Sensitivity,
)
from nisd.render.context import draw_plan_map
from nisd.render.sweep import index_page, pareto_plot, write_tables
from nisd.study.explain import explain_plan, nearest_rejected
from nisd.study.runner import PointResult, Task
from nisd.study.sensitivity import sensitivity_table
from nisd.study.sweep import Point, check_points, grid, run_sweep
from nisd.study.workers import Workers, run_tasks, side_by_side, start_cluster, stop_cluster

Progress = Callable[[int, int], None]  # (done, of) after each finished task


def _runner(
    workers: int | Workers | None, dask: str | None, progress: Progress | None
) -> Callable[[list[Task]], Iterator[tuple[str, Any]]]:
    def run(tasks: list[Task]) -> Iterator[tuple[str, Any]]:
        for n, item in enumerate(run_tasks(tasks, workers=workers, dask=dask), 1):
            if progress is not None:
                progress(n, len(tasks))
            yield item

    return run


def sweep(
    ds: Dataset,
    scenario: str | Path | PlanConfig,
    vary: Mapping[str, Sequence[Any]],
    out: str | Path,
    *,
    workers: int | Workers | None = 1,
    dask: str | None = None,
    maps: bool = False,
    progress: Callable[[Point, PointResult, bool], None] | None = None,
) -> pd.DataFrame:
    """Solve ``scenario`` for every combination of the ``vary`` values, as ``nisd sweep``.

    ``vary`` maps a key (``"p"``, ``"separation_km"``, a dotted key such as
    ``"crisis.capacity"``) to its values. Every point is validated before any is
    solved; each finished plan is written at once under ``out/points/``, and a second
    call with the same ``out`` solves only what is missing. Solves run on ``workers``
    processes (or a Dask cluster: ``dask``), or on the kept processes of a
    :class:`Workers`; ``maps=True`` has each worker draw its plan's map page
    (``plan.html``) too. Returns the table (one row per point: parameters, status,
    cost, key figures, ``pareto``); a failing point is a row with ``status = "error"``.

    Raises
    ------
    ConfigError
        A point's configuration is invalid (every point is named).
    InputError
        ``ds`` is a variant made in memory.
    """
    require_on_disk(ds, "a sweep solves")
    base = config(scenario).model_dump(mode="json")
    points = grid(base, {k: list(v) for k, v in vary.items()})
    check_points(points)
    return run_sweep(
        points,
        Path(out),
        Path(ds.path),
        lambda tasks: run_tasks(tasks, workers=workers, dask=dask),
        on_done=progress,
        draw=draw_plan_map if maps else None,
    )


def count_points(scenario: str | Path | PlanConfig, vary: Mapping[str, Sequence[Any]]) -> int:
    """How many points a sweep of these values has (every one checked first).

    Raises
    ------
    ConfigError
        A point's configuration is invalid (every point is named).
    """
    points = grid(config(scenario).model_dump(mode="json"), {k: list(v) for k, v in vary.items()})
    check_points(points)
    return len(points)


def sweep_outputs(df: pd.DataFrame, out: str | Path, title: str) -> list[Path]:
    """A sweep's table (CSV and Parquet), Pareto plot and index page, written into ``out``."""
    out = Path(out)
    paths = write_tables(df, out)
    paths += pareto_plot(df, out)
    paths.append(index_page(df, out, title))
    return paths


def explain(
    ds: Dataset,
    plan: Plan,
    *,
    rejected: int | None = 10,
    workers: int | Workers | None = 1,
    dask: str | None = None,
    progress: Progress | None = None,
) -> Explanation:
    """Each opened site's regret and the cost of forcing in rejected candidates.

    Re-solves ``plan``'s scenario once per opened site (forbidden) and once per
    rejected candidate (required), the ``rejected`` nearest to the opened sites
    (``None``: every one), on ``workers`` processes, a Dask cluster or the kept
    processes of a :class:`Workers`.

    Raises
    ------
    ConfigError
        The plan has no scenario parameters or no value.
    InputError
        ``ds`` is a variant made in memory, or the plan does not match it.
    """
    plan.run.config()
    plan_value(plan)
    dataset_of(plan, ds)
    require_on_disk(ds, "explain re-solves")
    return explain_plan(
        plan,
        ds,
        str(Path(ds.path).resolve()),
        nearest_rejected(ds, sorted(plan.sites), rejected),
        _runner(workers, dask, progress),
        threads=1 if side_by_side(workers or 1, dask) else None,
    )


def sensitivity(
    ds: Dataset,
    plan: Plan,
    *,
    workers: int | Workers | None = 1,
    dask: str | None = None,
    progress: Progress | None = None,
) -> Sensitivity:
    """Re-plan ``plan``'s scenario with each labelled assumption low and high.

    The variants (site type costs and capacities ± 20 %, every load ± 20 %, the cost
    factors' spread, judged hazard buffers, separation, protection levels) are written as
    copies of the data directory ``ds.path`` and planned side by side, each with the plan
    as a start (so a change of sites is a real change, not a tie broken anew).

    Raises
    ------
    InputError
        ``ds`` is a variant made in memory (it cannot be copied from disk).
    ConfigError
        The plan has no scenario parameters or no cost.
    """
    plan.run.config()
    plan_value(plan)
    dataset_of(plan, ds)
    require_on_disk(ds, "sensitivity re-plans")
    with tempfile.TemporaryDirectory(prefix="nisd-sensitivity-") as work:
        return sensitivity_table(
            plan,
            ds,
            str(Path(ds.path).resolve()),
            _runner(workers, dask, progress),
            Path(work),
            threads=1 if side_by_side(workers or 1, dask) else None,
        )


def serve_workers(
    n: int | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8786,
    data: str | Path | None = None,
    scenario: str | Path | None = None,
) -> Any:
    """A Dask LocalCluster of warm workers that this user's other processes reach at its
    ``scheduler_address`` (``tls://…``: ``nisd workers``); its credentials are written
    where only this user can read them. Stop it with :func:`stop_workers`."""
    return start_cluster(n, host=host, port=port, data=data, scenario=scenario, publish=True)


def stop_workers(cluster: Any) -> None:
    """Stop the workers of :func:`serve_workers` and remove their credentials."""
    stop_cluster(cluster)
