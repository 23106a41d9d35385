"""Workers kept between studies, and running many solves: serially, on a local process
pool, or on a Dask cluster (started for the study, or kept running by ``nisd workers``).

:class:`Workers` keeps worker processes (a pool or a Dask cluster) alive between
studies: their imports are done once, and each worker keeps the datasets it read and the
problems it derived (:mod:`nisd.study.runner`), so a second sweep on the same data pays
neither again.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from nisd.config import PlanConfig
from nisd.errors import InputError, Problem, SolverError
from nisd.io import default_data_dir, load_dataset
from nisd.io.scenario import load_plan_config
from nisd.optimise.problem import check_config
from nisd.study import security
from nisd.study.runner import Task, _pool_start, _ready, prime


class Workers:
    """Worker processes started once and used for many studies.

    A local process pool (``Workers(2)``), a Dask LocalCluster
    (``Workers(2, dask="local")``) or an existing Dask cluster
    (``Workers(dask="tcp://host:8786")``). Every worker imports nisd and the solver
    when it starts; between studies it keeps the datasets it read (read again when a
    file changes) and the problems it derived, so a study that follows another on
    the same data starts at once. Use it as a context manager, or call
    :meth:`close`::

        with Workers(2, dask="local") as w:
            for key, result in w.run(tasks):
                ...

    Parameters
    ----------
    n : int, optional
        Processes (pool or LocalCluster workers). Default: the number of CPUs.
        Ignored for an existing cluster, which has the workers it has.
    dask : str, optional
        ``"local"`` for a LocalCluster, the ``"tls://HOST:PORT"`` that ``nisd workers``
        printed (its credentials are read from :func:`nisd.study.security.credentials_dir`),
        or the ``"tcp://HOST:PORT"`` of a cluster started some other way.
    timeout : float
        Seconds to wait for an existing cluster's scheduler.
    data, scenario : optional
        A data directory every worker reads when it starts, and a scenario (a library
        name, a file or a PlanConfig) whose problem on that data each derives: the
        first study on them starts as warm as the next.

    Raises
    ------
    InputError
        Dask is not installed, the address is not ``local``, ``tls://…`` or ``tcp://…``,
        no credentials of this user are there for a ``tls://`` address, the scheduler
        cannot be reached, or the data directory is invalid.
    ConfigError
        The scenario is invalid or does not fit the data.
    """

    def __init__(
        self,
        n: int | None = None,
        *,
        dask: str | None = None,
        timeout: float = 10.0,
        data: str | Path | None = None,
        scenario: str | Path | PlanConfig | None = None,
    ) -> None:
        self.n = n or os.cpu_count() or 1
        self.dask = dask
        self._pool: ProcessPoolExecutor | None = None
        self._client: Any = None
        self._cluster: Any = None
        self._closed = False
        data_dir, config = _priming(data, scenario)
        self._prime = (data_dir, config)
        if dask:
            self._client, self._cluster = _dask_client(dask, self.n, timeout)
            try:
                _prime_all(self._client, data_dir, config)
            except InputError:
                self.close()
                raise
        else:
            self._pool = self._start_pool()

    def _start_pool(self) -> ProcessPoolExecutor:
        # Spawned, not forked: a solver's thread pool started in this process (HiGHS)
        # does not survive a fork, and a forked worker can spin forever on it.
        pool = ProcessPoolExecutor(
            max_workers=self.n,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_pool_start,
            initargs=self._prime,
        )
        # started now, not at the first task: a started Workers is a warm one
        try:
            for fut in [pool.submit(_ready) for _ in range(self.n)]:
                fut.result()
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)
            raise InputError(
                [
                    Problem(
                        "workers",
                        "the worker processes stopped while starting (reading "
                        f"{self._prime[0]} or deriving the scenario; their message is above)",
                    )
                ]
            ) from None
        return pool

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[str, Any]]:
        """Run ``(key, function, args)`` tasks; yield ``(key, result)`` as each finishes."""
        tasks = list(tasks)
        if self._client is not None:
            yield from self._run_dask(tasks)
            return
        if self._closed:
            raise RuntimeError("these workers are closed")
        if self._pool is None:  # the last one lost a process
            self._pool = self._start_pool()
        futures: dict[Future[Any], str] = {
            self._pool.submit(fn, *args): key for key, fn, args in tasks
        }
        for fut in as_completed(futures):
            try:
                result = fut.result()
            except BrokenProcessPool:
                # a worker process died (killed, out of memory, a crash in native code):
                # the pool is lost; the next run gets a new one
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                raise SolverError(
                    f"a worker process stopped while running {futures[fut]!r} (killed, out "
                    "of memory, or a crash in the solver); the results before it are kept"
                ) from None
            yield futures[fut], result

    def _run_dask(self, tasks: list[Task]) -> Iterator[tuple[str, Any]]:
        from distributed import as_completed as dask_completed
        from distributed.scheduler import KilledWorker

        # keys unique per run: studies that share a long-lived cluster must not meet
        run = uuid.uuid4().hex[:8]
        futures = {
            self._client.submit(fn, *args, key=f"nisd-{key}-{run}", pure=False): key
            for key, fn, args in tasks
        }
        try:
            for fut in dask_completed(list(futures)):
                try:
                    result = fut.result()
                except Exception as exc:  # the worker could not run the task at all
                    if isinstance(exc, KilledWorker):
                        raise SolverError(
                            f"workers of {self.dask} stopped while running {futures[fut]!r} "
                            "(killed, out of memory, or a crash in the solver); the results "
                            "before it are kept"
                        ) from None
                    raise InputError(
                        [
                            Problem(
                                "dask",
                                f"a worker of {self.dask} could not run {futures[fut]!r}: "
                                f"{type(exc).__name__}: {exc} (does it have nisd installed?)",
                            )
                        ]
                    ) from None
                yield futures[fut], result
        finally:
            for fut in futures:
                fut.release()

    def close(self) -> None:
        """Stop the pool or the LocalCluster (an existing cluster is only disconnected)."""
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_cluster(
    n: int | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    data: str | Path | None = None,
    scenario: str | Path | PlanConfig | None = None,
    publish: bool = False,
) -> Any:
    """A Dask LocalCluster of warm workers (one thread each, nisd imported at start),
    speaking TLS with a key made for it (:mod:`nisd.study.security`): only a client
    holding that key can submit work.

    Parameters
    ----------
    n : int, optional
        Worker processes. Default: the number of CPUs.
    host, port : str, int
        Where the scheduler listens; port 0 takes any free port.
    data, scenario : optional
        What every worker reads and derives at start (see :class:`Workers`).
    publish : bool
        Write the client's credentials where ``Workers(dask=address)`` of the same user
        finds them (``nisd workers``); :func:`stop_cluster` removes them.

    Raises
    ------
    InputError
        Dask is not installed, the port is taken or cannot be opened, or the data
        directory is invalid.
    ConfigError
        The scenario is invalid or does not fit the data.
    """
    data_dir, config = _priming(data, scenario)
    _distributed()
    from distributed import LocalCluster

    if port:
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise InputError(
                    [Problem("port", f"cannot listen on {host}:{port}: {exc.strerror}")]
                ) from None
    sec = security.temporary()
    try:
        cluster = LocalCluster(
            n_workers=n or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host=host,
            scheduler_port=port,
            protocol="tls://",
            security=sec,
            # the scheduler's HTTP server (health, metrics) runs anyway: on a free port
            # of the same host, not on 8787, which another cluster may hold
            dashboard_address=f"{host}:0",
            preload=["nisd.study.warm"],
        )
    except (OSError, RuntimeError) as exc:
        raise InputError([Problem("dask", f"the cluster did not start: {exc}")]) from None
    try:
        if data_dir is not None:
            from distributed import Client

            with Client(cluster, security=sec) as client:
                _prime_all(client, data_dir, config)
        if publish:
            security.save(sec, cluster.scheduler_address)
    except InputError:
        cluster.close()
        raise
    return cluster


def stop_cluster(cluster: Any) -> None:
    """Stop a cluster of :func:`start_cluster` and remove the credentials it published."""
    address = cluster.scheduler_address
    cluster.close()
    security.remove(address)


def _priming(
    data: str | Path | None, scenario: str | Path | PlanConfig | None
) -> tuple[str | None, dict[str, Any] | None]:
    """The data directory and scenario configuration workers start from, checked here
    (a bad one is an error of this call, not of every worker)."""
    if data is None and scenario is None:
        return None, None
    root = Path(data) if data is not None else default_data_dir()
    ds = load_dataset(root)
    if scenario is None:
        return str(root.resolve()), None
    cfg = scenario if isinstance(scenario, PlanConfig) else load_plan_config(Path(scenario))
    check_config(ds, cfg)  # what deriving would refuse; the workers derive it
    return str(root.resolve()), cfg.model_dump(mode="json")


def _prime_all(client: Any, data_dir: str | None, config: dict[str, Any] | None) -> None:
    """:func:`prime` on every worker of a Dask cluster."""
    if data_dir is None:
        return
    try:
        client.run(prime, data_dir, config)
    except Exception as exc:  # a worker that cannot see the directory, or has no nisd
        raise InputError(
            [Problem("dask", f"the workers could not read {data_dir}: {type(exc).__name__}: {exc}")]
        ) from None


def _distributed() -> None:
    """Dask's ``distributed`` is an extra: its absence is an input error, said once."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError(
            [Problem("dask", "Dask is not installed: pip install 'nisd[dask]'")]
        ) from None


def _dask_client(address: str, n: int, timeout: float) -> tuple[Any, Any]:
    _distributed()
    from distributed import Client

    if address == "local":
        cluster = start_cluster(n)
        return Client(cluster, security=cluster.security), cluster
    if address.startswith(("tls://", "tcp://")):
        # nisd's own workers speak TLS (their key is this user's alone); tcp:// is a
        # cluster started some other way, whose safety is its owner's
        sec = security.load(address) if address.startswith("tls://") else None
        try:
            return Client(address, timeout=f"{timeout}s", security=sec), None
        except OSError as exc:
            raise InputError([Problem("dask", f"cannot reach {address}: {exc}")]) from None
    raise InputError(
        [Problem("dask", "give 'local', the tls://HOST:PORT of nisd workers, or tcp://HOST:PORT")]
    )


def side_by_side(workers: int | Workers | None, dask: str | None = None) -> bool:
    """Whether solves run side by side (then each gets one solver thread)."""
    if isinstance(workers, Workers):
        return workers.dask is not None or workers.n > 1
    return dask is not None or (workers or os.cpu_count() or 1) > 1


def run_tasks(
    tasks: Iterable[Task],
    *,
    workers: int | Workers | None = None,
    dask: str | None = None,
) -> Iterator[tuple[str, Any]]:
    """Run ``(key, function, args)`` tasks; yield ``(key, result)`` as each finishes.

    Parameters
    ----------
    workers : int or Workers, optional
        Processes (local pool or LocalCluster workers), started for these tasks and
        stopped after them; 1 runs serially in this process. Default: the number of
        CPUs. A :class:`Workers` runs the tasks on its processes and leaves them running.
    dask : str, optional
        ``"local"`` for a Dask LocalCluster, or a scheduler address such as
        ``"tcp://host:8786"`` (ignored when ``workers`` is a :class:`Workers`).
    """
    tasks = list(tasks)
    if isinstance(workers, Workers):
        yield from workers.run(tasks)
        return
    n = workers or os.cpu_count() or 1
    if not dask and (n <= 1 or len(tasks) <= 1):
        for key, fn, args in tasks:
            yield key, fn(*args)
        return
    with Workers(n, dask=dask) as pool:
        yield from pool.run(tasks)
