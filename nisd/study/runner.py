"""One solve of a study, as a worker process runs it, and what a worker keeps between
solves.

The worker function, :func:`solve_point`, takes plain data (a data directory and a
configuration dict) and returns a :class:`PointResult` (a plan record or an error), so
the same task runs unchanged in any executor (:mod:`nisd.study.workers`), and results
do not depend on where they ran. Each worker process keeps the datasets it read and the
problems it derived, so a study that follows another on the same data pays neither again.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import InputError, NisdError, Problem
from nisd.io import load_dataset
from nisd.optimise import from_dataset, optimise
from nisd.optimise.problem import PlacementProblem, derived_settings, with_config
from nisd.records.plan import Plan

Draw = Callable[[Plan, Dataset], str]  # a plan's map page (given by the layer that draws)


def warm() -> None:
    """Import what a solve needs (a worker's start-up; also Dask's ``--preload`` module
    :mod:`nisd.study.warm`): nisd, every floor of it, and the solver."""
    for name in ("highspy", "nisd"):
        importlib.import_module(name)


def _signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file under a data directory with its size and modification time: a dataset
    a worker read before is used again only while this is unchanged."""
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            full = os.path.join(dirpath, name)
            st = os.stat(full)
            out.append((os.path.relpath(full, root), st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Recent(Generic[K, V]):
    """The ``size`` entries used last, by key (what a worker keeps between studies)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        value = self._items.pop(key, None)
        if value is not None:
            self._items[key] = value  # the most recently used is kept longest
        return value

    def put(self, key: K, value: V) -> None:
        self._items.pop(key, None)
        while len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()


# datasets this process read, by directory, with the signature they were read at; the
# four used last are kept (a sensitivity study's variants must not push out the data a
# kept worker was primed with while it is still in use)
_DATASETS: _Recent[str, tuple[tuple[tuple[str, int, int], ...], Dataset]] = _Recent(4)


def _dataset(path: str) -> Dataset:
    """``load_dataset(path)``, read again only when a file under ``path`` changed (a
    worker can outlive many studies, and the data can be edited between them)."""
    if not os.path.isdir(path):
        raise InputError(
            [
                Problem(
                    "data",
                    f"{path}: no such directory on the worker at {socket.gethostname()}; "
                    "workers read the data by its path: run them where the data is, or "
                    "on a shared file system",
                )
            ]
        )
    sig = _signature(Path(path))
    known = _DATASETS.get(path)
    if known is not None and known[0] == sig:
        return known[1]
    ds = load_dataset(Path(path))
    _DATASETS.put(path, (sig, ds))
    return ds


@dataclass(frozen=True)
class PointResult:
    """One solve of a study: its plan, or the error with its exit code; and the plan's map
    page when asked for (``page_error`` when it could not be drawn: the plan stands)."""

    plan: Plan | None = None
    error: str = ""
    error_type: str = ""
    exit_code: int = 0
    page: str | None = None
    page_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.plan is not None

    @property
    def infeasible(self) -> bool:
        """Whether the solver proved that no plan exists."""
        return self.error_type == "InfeasibleError"


def solve_point(
    data_dir: str,
    config: dict[str, Any],
    start: tuple[dict[str, str], dict[str, list[str]]] | None = None,
    explain_infeasible: bool = True,
    draw: Draw | None = None,
) -> PointResult:
    """Solve one configuration: the plan record, or the error with its code.

    ``start`` (sites → type, assignments) is a known plan handed to the solver;
    ``explain_infeasible = False`` reports "no plan" without what must give;
    ``draw`` also draws the plan's map page beside the solve.
    """
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
    except NisdError as exc:
        return PointResult(error=str(exc), error_type=type(exc).__name__, exit_code=exc.exit_code)
    except Exception as exc:  # a failing point is reported and the study goes on
        return PointResult(
            error=f"{type(exc).__name__}: {exc}", error_type=type(exc).__name__, exit_code=1
        )
    if draw is None:
        return PointResult(plan=plan)
    try:
        return PointResult(plan=plan, page=draw(plan, ds))
    except Exception as exc:  # the plan is good; its map is reported missing
        return PointResult(plan=plan, page_error=f"{type(exc).__name__}: {exc}")


def unproved(plan: Plan) -> str:
    """What a re-solve's row must say when its plan is not proved optimal (empty when it is):
    a time-limited cost is an upper bound, not the answer."""
    if plan.status.value == "optimal":
        return ""
    at = f", gap {plan.gap:.2%}" if plan.gap is not None else ""
    return f"not proved optimal ({plan.status.value}{at}; the time limit was reached)"


# the last problems this process derived, by data and the settings a problem is derived
# from (re-solves of one plan, and most sweep points, differ only in the others)
_PROBLEMS: _Recent[tuple[str, str, str], PlacementProblem] = _Recent(2)


def _problem(ds: Dataset, data_dir: str, cfg: PlanConfig) -> PlacementProblem:
    """``from_dataset(ds, cfg)``, or a problem this process derived before for the same
    data and derived settings, with its site masks and configuration replaced
    (:func:`nisd.optimise.problem.with_config`)."""
    key = (data_dir, ds.input_hash, json.dumps(derived_settings(cfg), sort_keys=True))
    known = _PROBLEMS.get(key)
    if known is not None:
        return with_config(ds, known, cfg)
    pp = from_dataset(ds, cfg)
    _PROBLEMS.put(key, pp)
    return pp


Task = tuple[str, Callable[..., Any], tuple[Any, ...]]


def replan_config(plan: Plan, threads: int | None = None) -> PlanConfig:
    """A plan's scenario parameters, ready to re-solve (``extends`` resolved away).

    ``threads`` caps each re-solve's solver threads (when the plan set none): solves
    that run side by side should not each claim every core.

    Raises
    ------
    ConfigError
        The plan has no parameters, or none this version can read.
    """
    cfg = plan.run.config().model_copy(update={"extends": None})
    if threads is not None and cfg.solver.threads is None:
        solver = cfg.solver.model_copy(update={"threads": threads})
        cfg = cfg.model_copy(update={"solver": solver})
    return cfg


def prime(data_dir: str | None, config: dict[str, Any] | None) -> None:
    """Read ``data_dir`` and derive the problem of ``config`` on it, in this process: the
    studies that follow on the same data and derived settings start from them."""
    if data_dir is None:
        return
    ds = _dataset(data_dir)
    if config is not None:
        _problem(ds, data_dir, PlanConfig.model_validate(config))


def _pool_start(data_dir: str | None = None, config: dict[str, Any] | None = None) -> None:
    warm()
    prime(data_dir, config)


def _ready() -> int:
    return os.getpid()


def _held() -> tuple[list[str], list[str]]:
    """The data directories and derived problems' directories this process keeps."""
    return sorted(_DATASETS), sorted(k[0] for k in _PROBLEMS)
