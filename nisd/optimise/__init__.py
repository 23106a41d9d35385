"""The NISD placement MILP: problem data, model, solving, checking, plans."""

from nisd.optimise.config import PlanConfig, load_plan_config
from nisd.optimise.plan import Plan, optimise, write_plan
from nisd.optimise.problem import PlacementProblem, from_dataset

__all__ = [
    "PlacementProblem",
    "Plan",
    "PlanConfig",
    "from_dataset",
    "load_plan_config",
    "optimise",
    "write_plan",
]
