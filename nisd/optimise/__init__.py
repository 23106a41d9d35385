"""The NISD placement MILP: problem data, model, solving in rounds, checking, records.

The stages of :func:`optimise` are one module each (see :mod:`nisd.optimise.pipeline`).
"""

from nisd.optimise.pipeline import optimise
from nisd.optimise.problem import PlacementProblem, from_dataset

__all__ = ["PlacementProblem", "from_dataset", "optimise"]
