"""The typed, immutable plan: what ``plan.json`` holds, as an object.

Every layer above the optimiser (render, study, the Python door) takes a
:class:`Plan`; :mod:`nisd.io.planfile` reads and writes its file form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pandas as pd

from nisd.dataset import Dataset
from nisd.errors import ConfigError
from nisd.io import default_data_dir, load_dataset
from nisd.io.planfile import write_plan_files
from nisd.optimise.config import PlanConfig, config_of_plan
from nisd.optimise.solve import Status

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import geopandas as gpd


def _config_of(doc: Mapping[str, Any], name: str) -> PlanConfig | None:
    """The parameters a plan or roll-out was made with; None when it has none or this
    version cannot read them (it still maps and reports; re-solving refuses it)."""
    if not isinstance((doc.get("run") or {}).get("parameters"), dict):
        return None
    try:
        return config_of_plan(dict(doc), name)
    except ConfigError:
        return None


def _dataset_of(doc: Mapping[str, Any], dataset: Dataset | None) -> Dataset:
    """``dataset``, else the data directory the document was made from, else the default."""
    if dataset is not None:
        return dataset
    data = (doc.get("run") or {}).get("data_dir")
    return load_dataset(Path(data) if data and Path(data).is_dir() else default_data_dir())


@dataclass(frozen=True)
class Kpis:
    """A plan's key figures (every one from the function that ``plan.json`` uses)."""

    cost_msek: float | None
    sites: int
    mean_latency_ms: float | None
    max_latency_ms: float | None
    min_separation_km: float | None
    worst_case_share_served: float | None = None
    worst_case_scenario: str | None = None
    service_levels_met: bool | None = None
    capacity_racks: float | None = None
    primary_load_racks: float | None = None
    dedicated_backup_racks: float | None = None
    min_backup_separation_km: float | None = None
    worst_case_by_class: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def as_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready key figures (the ones that are set)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["worst_case_by_class"] = {k: dict(v) for k, v in self.worst_case_by_class.items()}
        return {k: v for k, v in out.items() if v is not None and v != {}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Kpis:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw.setdefault("cost_msek", None)
        kw.setdefault("sites", 0)
        for k in ("mean_latency_ms", "max_latency_ms", "min_separation_km"):
            kw.setdefault(k, None)
        kw["worst_case_by_class"] = MappingProxyType(dict(kw.get("worst_case_by_class") or {}))
        return cls(**kw)


@dataclass(frozen=True)
class Plan:
    """A checked plan: immutable, typed; ``plan.json`` is its file form.

    Attributes
    ----------
    status : Status
        ``optimal`` only when the solver proved it.
    objective, value, bound, gap
        The objective's name and value; the solver's bound and relative gap.
    sites : mapping
        Opened site id → type id.
    assignments : mapping
        Demand id → its sites, primary first.
    kpis : Kpis
    config : PlanConfig or None
        The parameters it was solved with (None for a hand-made plan).
    """

    status: Status
    objective: str
    value: float | None
    bound: float | None
    gap: float | None
    sites: Mapping[str, str]
    assignments: Mapping[str, tuple[str, ...]]
    kpis: Kpis
    config: PlanConfig | None
    dataset: Dataset | None = field(default=None, compare=False, repr=False)
    _doc: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_doc(
        cls, doc: Mapping[str, Any], dataset: Dataset | None = None, name: str = "plan"
    ) -> Plan:
        """A Plan from a checked ``plan.json`` document (``name`` says where it came from).

        ``config`` is None when the document has no ``run.parameters`` or parameters
        this version cannot read (a plan from an older nisd still maps and reports);
        the commands that re-solve a plan check them with
        :func:`nisd.optimise.config.config_of_plan` and refuse such a plan.
        """
        config = _config_of(doc, name)
        frozen = json.loads(json.dumps(doc))
        return cls(
            status=Status(doc.get("status") or "unknown"),
            objective=str((doc.get("objective") or {}).get("name") or ""),
            value=(doc.get("objective") or {}).get("value"),
            bound=doc.get("bound"),
            gap=doc.get("gap"),
            sites=MappingProxyType({s["site_id"]: s["type"] for s in doc["sites"]}),
            assignments=MappingProxyType(
                {d: tuple(v) for d, v in sorted((doc.get("assignments") or {}).items())}
            ),
            kpis=Kpis.from_dict(doc.get("kpis") or {}),
            config=config,
            dataset=dataset,
            _doc=MappingProxyType(frozen),
        )

    def to_json(self) -> dict[str, Any]:
        """The ``plan.json`` document (a fresh copy)."""
        return json.loads(json.dumps(dict(self._doc)))

    @property
    def scenarios(self) -> tuple[Mapping[str, Any], ...]:
        """The crisis scenarios it was checked against, as the evaluator reported them."""
        return tuple(self._doc.get("scenarios") or ())

    @property
    def site_use(self) -> Mapping[str, Mapping[str, Any]]:
        """Opened site id → capacity, primary, backed-up and busiest-crisis load."""
        return {u["site_id"]: u for u in self._doc.get("site_use") or [] if isinstance(u, dict)}

    @property
    def run(self) -> Mapping[str, Any]:
        """The run record: solver, times, rounds, parameters, input hashes."""
        return self._doc.get("run") or {}

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

    def levels(self, classes: list[str]) -> dict[str, list[float]]:
        """Per scenario it was checked against: the share of each class to serve."""
        return {
            r["scenario"]: [float((r.get("levels") or {}).get(c, 0.0)) for c in classes]
            for r in self.scenarios
            if r.get("levels")
        }

    def _ds(self) -> Dataset:
        return _dataset_of(self._doc, self.dataset)

    def save(self, out_dir: str | Path) -> Path:
        """Write ``plan.json``, ``sites.csv`` and ``assignments.csv`` atomically."""
        ds = self._ds()
        names = {s.site_id: s.name for s in ds.sites}
        return write_plan_files(self.to_json(), names, Path(out_dir))

    def sites_frame(self) -> gpd.GeoDataFrame:
        """Opened sites: type, capacity, primary, backed-up and busiest-crisis load, place."""
        import geopandas as gpd

        ds = self._ds()
        use = {u["site_id"]: u for u in self._doc.get("site_use") or []}
        rows = []
        for sid, typ in sorted(self.sites.items()):
            s = ds.site_by_id[sid]
            u = use.get(sid, {})
            rows.append(
                {
                    "site_id": sid,
                    "name": s.name,
                    "type": typ,
                    "county": s.county,
                    "power_zone": s.power_zone,
                    "capacity": u.get("capacity"),
                    "primary_load": u.get("primary_load"),
                    "backup_load": u.get("backup_load"),
                    "peak_load": u.get("peak_load"),
                    "peak_scenario": u.get("peak_scenario"),
                    "lat": s.lat,
                    "lon": s.lon,
                }
            )
        df = pd.DataFrame(rows)
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs="EPSG:4326")

    def assignments_frame(self) -> pd.DataFrame:
        """One row per demand point and rank (1 = primary)."""
        ds = self._ds()
        return pd.DataFrame(
            [
                {
                    "demand_id": d,
                    "name": ds.demand_by_id[d].name if d in ds.demand_by_id else d,
                    "rank": r + 1,
                    "site_id": s,
                }
                for d, seq in self.assignments.items()
                for r, s in enumerate(seq)
            ],
            columns=["demand_id", "name", "rank", "site_id"],
        )

    def scenarios_frame(self) -> pd.DataFrame:
        """The crisis scenarios the plan was checked against, as the evaluator reported them."""
        rows = [dict(r) for r in self._doc.get("scenarios") or []]
        return pd.DataFrame(rows)

    def explore(self, **kwargs: Any) -> folium.Map:
        """The plan as a folium map for notebooks (offline; every text escaped).

        See :func:`nisd.render.explore.explore`.
        """
        from nisd.render.explore import explore

        return explore(self._ds(), self, **kwargs)


@dataclass(frozen=True)
class Rollout:
    """A checked roll-out: immutable, typed; ``rollout.json`` is its file form.

    Attributes
    ----------
    status : Status
        ``optimal`` only when the solver proved the first goal (the discounted cost).
    value, bound, gap
        The first goal's value, the solver's bound and relative gap.
    years : tuple of int
        The years, in order.
    config : PlanConfig or None
        The parameters it was solved with.
    """

    status: Status
    value: float | None
    bound: float | None
    gap: float | None
    years: tuple[int, ...]
    config: PlanConfig | None
    dataset: Dataset | None = field(default=None, compare=False, repr=False)
    _doc: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_doc(
        cls, doc: Mapping[str, Any], dataset: Dataset | None = None, name: str = "rollout"
    ) -> Rollout:
        """A Rollout from a checked ``rollout.json`` document."""
        config = _config_of(doc, name)
        frozen = json.loads(json.dumps(doc))
        return cls(
            status=Status(doc.get("status") or "unknown"),
            value=(doc.get("objective") or {}).get("value"),
            bound=doc.get("bound"),
            gap=doc.get("gap"),
            years=tuple(int(y["year"]) for y in doc["years"]),
            config=config,
            dataset=dataset,
            _doc=MappingProxyType(frozen),
        )

    def to_json(self) -> dict[str, Any]:
        """The ``rollout.json`` document (a fresh copy)."""
        return json.loads(json.dumps(dict(self._doc)))

    @property
    def totals(self) -> Mapping[str, Any]:
        """Discounted and undiscounted cost, capital, running cost, migrations."""
        return self._doc.get("totals") or {}

    def year(self, year: int) -> Mapping[str, Any]:
        """The record of one year (sites, assignments, costs, readiness)."""
        for y in self._doc["years"]:
            if int(y["year"]) == year:
                return y
        raise KeyError(f"{year} is not a year of this roll-out ({self.years[0]}–{self.years[-1]})")

    def plan_of(self, year: int) -> Plan:
        """One year's placement as a :class:`Plan` (for maps, fees and comparisons)."""
        y = self.year(year)
        doc = {
            "status": self.status.value,
            "objective": {"name": "cost", "value": (y.get("kpis") or {}).get("cost_msek")},
            "sites": [{"site_id": s, "type": t} for s, t in sorted(y["sites"].items())],
            "assignments": y["assignments"],
            "kpis": y.get("kpis") or {},
            "run": {
                **{k: v for k, v in (self._doc.get("run") or {}).items() if k != "parameters"},
                "year": year,
            },
        }
        return Plan.from_doc(doc, self.dataset)

    def _ds(self) -> Dataset:
        return _dataset_of(self._doc, self.dataset)

    def save(self, out_dir: str | Path) -> Path:
        """Write ``rollout.json`` and its CSV tables atomically."""
        from nisd.io.rolloutfile import write_rollout_files

        return write_rollout_files(self.to_json(), Path(out_dir))

    def years_frame(self) -> pd.DataFrame:
        """One row per year: sites in service, users, moves, costs, readiness."""
        rows = []
        for y in self._doc["years"]:
            c = y["cost_msek"]
            holds = (y.get("readiness") or {}).get("holds") or {}
            rows.append(
                {
                    "year": y["year"],
                    "sites": len(y["sites"]),
                    "opened": ";".join(y.get("opened", [])),
                    "users": len(y["assignments"]),
                    "onboarded": len(y.get("onboarded", [])),
                    "migrations": len(y.get("migrations", [])),
                    "running_msek": c.get("running"),
                    "capital_msek": c.get("capital"),
                    "capital_budget_msek": (y.get("budget_msek") or {}).get("capital"),
                    "total_msek": c.get("total"),
                    "discounted_msek": c.get("discounted"),
                    "sets_holding": ";".join(s for s, ok in holds.items() if ok),
                }
            )
        return pd.DataFrame(rows)

    def schedule_frame(self) -> pd.DataFrame:
        """One row per site: type, construction and service years, capital."""
        return pd.DataFrame([dict(s) for s in self._doc.get("sites") or []])
