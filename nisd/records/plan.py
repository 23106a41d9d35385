"""The plan record: what ``plan.json`` holds, as the optimiser makes it and every layer
reads it.

A :class:`Plan` is a checked placement (opened sites and their types, each user's sites),
its key figures (:class:`Kpis`), its crisis scenarios as the served-load evaluator saw
them (:class:`ScenarioRow`), the use of each site (:class:`SiteUse`) and how it was
made (:class:`RunRecord`, with the parameters it was solved with).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import (
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from nisd.config import PlanConfig
from nisd.errors import ConfigError
from nisd.files import csv_text, write_files
from nisd.records.base import FileRecord, Record, Status, dumps
from nisd.records.run import (
    AlternativeOf,
    Certificate,
    Decomposition,
    DecompositionStep,
    MasterStats,
    ModelStats,
    RoundRecord,
    RunRecord,
    TieBreak,
    WarIteration,
    WarRecord,
)
from nisd.records.scenario import AttackRow, ClassShare, ScenarioRow

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

    from nisd.dataset import Dataset


class ObjectiveValue(Record):
    """The objective a solve minimised, by name, and its value."""

    name: str = ""
    value: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _none(cls, v: Any) -> Any:
        return {} if v is None else v


class Kpis(Record):
    """A plan's key figures, each from the one function that computes it for every
    command, page and file (:func:`nisd.optimise.figures.plan_kpis`)."""

    cost_msek: float | None = None
    sites: int = 0
    types: dict[str, int] = Field(default_factory=dict)
    mean_latency_ms: float | None = None
    max_latency_ms: float | None = None
    min_separation_km: float | None = None
    min_backup_separation_km: float | None = None
    capacity_racks: float | None = None
    primary_load_racks: float | None = None
    dedicated_backup_racks: float | None = None
    worst_case_share_served: float | None = None
    worst_case_scenario: str | None = None
    worst_case_by_class: dict[str, ClassShare] = Field(default_factory=dict)
    service_levels_met: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """The figures that are set, JSON-ready."""
        return {k: v for k, v in self.to_json().items() if v is not None and v != {}}


class SiteUse(Record):
    """An opened site's capacity, the load it serves as primary and backs up, and its
    busiest crisis scenario."""

    site_id: str
    type: str
    capacity: float
    primary_load: float
    backup_load: float
    peak_load: float
    peak_scenario: str = ""


class Plan(FileRecord):
    """A checked plan: immutable, typed; its JSON form is ``plan.json``.

    Attributes
    ----------
    status : Status
        ``optimal`` only when the solver proved it.
    objective : ObjectiveValue
        The objective's name and value.
    bound, gap : float or None
        The solver's bound and relative gap.
    sites : mapping
        Opened site id → type id (in the file: a list of ``{site_id, type}``).
    assignments : mapping
        User (demand) id → its sites, primary first.
    kpis : Kpis
    scenarios : tuple of ScenarioRow
        The crisis scenarios it was checked against.
    site_use : tuple of SiteUse
    run : RunRecord
    """

    KIND: ClassVar[str] = "plan"
    FILE: ClassVar[str] = "plan.json"

    status: Status = Status.UNKNOWN  # a hand-made plan ("what if these sites") may have none
    objective: ObjectiveValue = ObjectiveValue()
    bound: float | None = None
    gap: float | None = None
    sites: dict[str, str] = Field(min_length=1)
    assignments: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    kpis: Kpis = Kpis()
    scenarios: tuple[ScenarioRow, ...] = ()
    site_use: tuple[SiteUse, ...] = ()
    run: RunRecord = RunRecord()

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> Any:
        return Status.UNKNOWN if v is None else v

    @field_validator("sites", mode="before")
    @classmethod
    def _sites(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        out: dict[str, Any] = {}
        twice: list[str] = []
        for n, s in enumerate(v):
            if not isinstance(s, dict):
                raise ValueError(f"sites.{n} is not an object {{site_id, type}}")
            extra = sorted(set(s) - {"site_id", "type", "name"})
            if extra:
                raise ValueError(f"sites.{n}: unknown key '{extra[0]}'")
            for key in ("site_id", "type"):
                if not isinstance(s.get(key), str) or not s.get(key):
                    raise ValueError(f"sites.{n}.{key} must be non-empty text")
            sid, typ = str(s["site_id"]), str(s["type"])
            if sid in out:
                twice.append(sid)
            out[sid] = typ
        if twice:
            raise ValueError(f"sites listed twice: {', '.join(sorted(set(twice)))}")
        return out

    @field_validator("assignments", "scenarios", "site_use", "kpis", "run", mode="before")
    @classmethod
    def _empty(cls, v: Any, info: Any) -> Any:
        if v is not None:
            return v
        return {} if info.field_name in ("assignments", "kpis", "run") else ()

    @field_serializer("sites")
    def _sites_out(self, sites: dict[str, str]) -> list[dict[str, str]]:
        return [{"site_id": s, "type": t} for s, t in sorted(sites.items())]

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        for d, seq in self.assignments.items():
            bad = [s for s in seq if s not in self.sites]
            if bad:
                raise ValueError(
                    f"assignments.{d} names sites that are not opened: {', '.join(bad)}"
                )
            if len(set(seq)) != len(seq):
                raise ValueError(f"assignments.{d} names a site twice")
        return self

    @classmethod
    def of_sites(
        cls,
        sites: Mapping[str, str],
        assignments: Mapping[str, Sequence[str]] | None = None,
        data_dir: str | None = None,
    ) -> Plan:
        """A hand-made plan: these sites (and assignments), nothing solved."""
        return cls(
            sites=dict(sites),
            assignments={d: tuple(v) for d, v in (assignments or {}).items()},
            run=RunRecord(data_dir=data_dir),
        )

    # ---- derived views ---------------------------------------------------------------

    @cached_property
    def config(self) -> PlanConfig | None:
        """The parameters it was solved with; None for a hand-made plan or parameters this
        version cannot read (it still maps and reports; re-solving refuses it with
        :meth:`RunRecord.config`)."""
        if self.run.parameters is None:
            return None
        try:
            return self.run.config()
        except ConfigError:
            return None

    @property
    def value(self) -> float | None:
        """The objective's value."""
        return self.objective.value

    @property
    def split(self) -> bool:
        """Whether a user's load may be split over several sites after a failure."""
        return self.config.crisis.split if self.config is not None else True

    @property
    def islands(self) -> bool:
        """Whether users left on an island apart from the national network are skipped."""
        return self.config is not None and self.config.crisis.islands == "skip"

    @property
    def crisis_sets(self) -> list[str]:
        """Every scenario set of its service levels (main sets first, then the tiers')."""
        return self.config.crisis.set_names() if self.config is not None else []

    @property
    def use_by_site(self) -> dict[str, SiteUse]:
        """Opened site id → its use."""
        return {u.site_id: u for u in self.site_use}

    def levels(self, classes: Sequence[str]) -> dict[str, list[float]]:
        """Per scenario it was checked against: the share of each class to serve."""
        return {
            r.scenario: [float(r.levels.get(c, 0.0)) for c in classes]
            for r in self.scenarios
            if r.levels
        }

    # ---- files and frames -----------------------------------------------------------

    def files(self, names: Mapping[str, str] | None = None) -> dict[str, str]:
        """``plan.json``, ``sites.csv`` and ``assignments.csv`` as text (``names``: site id
        → name for ``sites.csv``)."""
        names = names or {}
        return {
            "plan.json": dumps(self.to_json()),
            "sites.csv": csv_text(
                ["site_id", "name", "type"],
                [[s, names.get(s, s), t] for s, t in sorted(self.sites.items())],
            ),
            "assignments.csv": csv_text(
                ["demand_id", "rank", "site_id"],
                [
                    [d, r + 1, s]
                    for d, seq in sorted(self.assignments.items())
                    for r, s in enumerate(seq)
                ],
            ),
        }

    def save(self, out_dir: str | Path, names: Mapping[str, str] | None = None) -> Path:
        """Write ``plan.json``, ``sites.csv`` and ``assignments.csv`` into ``out_dir``, all
        or none; returns the path of ``plan.json``."""
        return write_files(out_dir, self.files(names)) / self.FILE

    def sites_frame(self, ds: Dataset) -> gpd.GeoDataFrame:
        """Opened sites: type, capacity, primary, backed-up and busiest-crisis load, place."""
        import geopandas as gpd
        import pandas as pd

        use = self.use_by_site
        rows = []
        for sid, typ in sorted(self.sites.items()):
            s = ds.site_by_id[sid]
            u = use.get(sid)
            rows.append(
                {
                    "site_id": sid,
                    "name": s.name,
                    "type": typ,
                    "county": s.county,
                    "power_zone": s.power_zone,
                    "capacity": u.capacity if u else None,
                    "primary_load": u.primary_load if u else None,
                    "backup_load": u.backup_load if u else None,
                    "peak_load": u.peak_load if u else None,
                    "peak_scenario": u.peak_scenario if u else None,
                    "lat": s.lat,
                    "lon": s.lon,
                }
            )
        df = pd.DataFrame(rows)
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs="EPSG:4326")

    def assignments_frame(self, ds: Dataset | None = None) -> pd.DataFrame:
        """One row per user and rank (1 = primary), with the user's name when ``ds`` is given."""
        import pandas as pd

        by = ds.demand_by_id if ds is not None else {}
        return pd.DataFrame(
            [
                {
                    "demand_id": d,
                    "name": by[d].name if d in by else d,
                    "rank": r + 1,
                    "site_id": s,
                }
                for d, seq in self.assignments.items()
                for r, s in enumerate(seq)
            ],
            columns=["demand_id", "name", "rank", "site_id"],
        )

    def scenarios_frame(self) -> pd.DataFrame:
        """The crisis scenarios it was checked against, one row each."""
        import pandas as pd

        return pd.DataFrame([r.to_json() for r in self.scenarios])


__all__ = [
    "AlternativeOf",
    "AttackRow",
    "Certificate",
    "ClassShare",
    "Decomposition",
    "DecompositionStep",
    "Kpis",
    "MasterStats",
    "ModelStats",
    "ObjectiveValue",
    "Plan",
    "RoundRecord",
    "RunRecord",
    "ScenarioRow",
    "SiteUse",
    "TieBreak",
    "WarIteration",
    "WarRecord",
]
