"""The records of nisd's results: typed, frozen, and each one's JSON form is its file.

The optimiser returns them, the Python door hands them out, and every page, study and
command reads them by attribute. This floor imports nothing of nisd but the errors,
the settings and the configuration models (and the dataset for type hints only).
"""

from nisd.records.attack import AttackResult, Fortification
from nisd.records.base import SCHEMA, FileRecord, Record, Status, dumps, read_json
from nisd.records.fees import FeeMethod, FeeRow, Fees, FeeYear
from nisd.records.plan import (
    AttackRow,
    ClassShare,
    Kpis,
    ObjectiveValue,
    Plan,
    RunRecord,
    ScenarioRow,
    SiteUse,
    WarRecord,
)
from nisd.records.rollout import BranchResult, FirstStage, Hedge, Rollout, ScheduleRow, YearRow
from nisd.records.study import Explanation, Probe, Sensitivity, Variant

__all__ = [
    "SCHEMA",
    "AttackResult",
    "AttackRow",
    "BranchResult",
    "ClassShare",
    "Explanation",
    "FeeMethod",
    "FeeRow",
    "FeeYear",
    "Fees",
    "FileRecord",
    "FirstStage",
    "Fortification",
    "Hedge",
    "Kpis",
    "ObjectiveValue",
    "Plan",
    "Probe",
    "Record",
    "Rollout",
    "RunRecord",
    "ScenarioRow",
    "ScheduleRow",
    "Sensitivity",
    "SiteUse",
    "Status",
    "Variant",
    "WarRecord",
    "YearRow",
    "dumps",
    "read_json",
]
