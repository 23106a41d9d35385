"""Dask's preload module for nisd's workers: ``dask worker ADDRESS --preload nisd.study.warm``.

Importing it imports what a solve needs, so a worker's first task does not pay for
the imports.
"""

from nisd.study.runner import warm

warm()
