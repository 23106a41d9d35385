"""Dask's preload module for nisd's workers: ``dask worker ADDRESS --preload nisd.study.warm``.

Importing it imports what a solve needs, so a worker's first task does not pay for
the imports, and turns off the worker's statistical profiler, which samples the
running task every 10 ms for a dashboard that nisd's workers do not serve (about
5 % of a sweep's time, measured by ``benchmarks/sweep.py``).
"""

import dask

from nisd.study.runner import warm

dask.config.set({"distributed.worker.profile.enabled": False})
warm()
