"""The typed, immutable planning dataset that every part of nisd reads.

A :class:`Dataset` is built by :func:`nisd.io.load_dataset` after full
validation; its records are frozen dataclasses, so no later step can change
the input behind another's back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from nisd.errors import Problem
from nisd.settings import DatasetConfig, LatencyClass

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Site:
    """A candidate site for a datacenter."""

    site_id: str
    name: str
    lat: float
    lon: float
    county_code: str | None = None
    county: str | None = None
    municipality_code: str | None = None
    municipality: str | None = None
    power_zone: str | None = None
    macroregion: str | None = None
    population: int = 0
    is_county_seat: bool = False
    allowed_types: tuple[str, ...] = ("*",)
    cost_factor: float = 1.0
    capacity: float | None = None
    existing: bool = False
    existing_type: str | None = None
    existing_basis: str | None = None
    candidate_basis: str | None = None


@dataclass(frozen=True)
class DemandPoint:
    """A user of the system's services, with its latency bounds resolved."""

    demand_id: str
    name: str
    lat: float
    lon: float
    load: float
    kind: str = "other"
    county_code: str | None = None
    criticality: str = ""
    latency_class: str = ""
    primary_ms: float = math.inf
    backup_ms: float = math.inf
    crisis_ms: float = math.inf
    protection: int = 0
    # the service this row's users use: rows of one workload share their sites
    workload: str | None = None
    # who pays for this row's load (None: the workload's agency, see nisd.study.payers)
    payer: str | None = None
    # workloads this row's users need as well (nisd.topology.depends)
    depends_on: tuple[str, ...] = ()
    # where the load figure comes from (indicator, source, rule)
    load_basis: str | None = None

    @property
    def workload_id(self) -> str:
        """The workload this row belongs to: its ``workload``, else its own id."""
        return self.workload or self.demand_id


@dataclass(frozen=True)
class Node:
    """A backbone point of presence."""

    node_id: str
    name: str
    lat: float
    lon: float
    operator: str | None = None
    source_label: str | None = None


@dataclass(frozen=True)
class Link:
    """A fibre link; ``length_km`` is resolved (given or estimated)."""

    link_id: str
    a: str
    b: str
    length_km: float
    srlg: tuple[str, ...]
    path: str | None = None
    length_basis: str | None = None


@dataclass(frozen=True)
class SiteType:
    """A kind of datacenter that can be built."""

    type_id: str
    name: str
    capacity: float
    cost_msek: float
    description: str | None = None
    protection: int = 0


@dataclass(frozen=True)
class Hazard:
    """A hazard (point, line or area) with the distance sites must keep from it."""

    hazard_id: str
    name: str
    hazard_class: str
    buffer_km: float
    geometry: BaseGeometry
    inner_zone_km: float | None = None
    outer_zone_km: float | None = None
    planning_zone_km: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Region:
    """A county, power zone or other area."""

    region_id: str
    name: str
    kind: str
    geometry: BaseGeometry
    power_zone: str | None = None
    macroregion: str | None = None


def _frame(records: tuple[Any, ...], cls: type, index: str) -> pd.DataFrame:
    cols = [f.name for f in fields(cls) if f.name != "geometry"]
    rows = [{c: getattr(r, c) for c in cols} for r in records]
    return pd.DataFrame(rows, columns=cols).set_index(index, drop=False)


@dataclass(frozen=True)
class Dataset:
    """A validated data directory.

    Attributes
    ----------
    path : Path
        The data directory.
    config : DatasetConfig
        ``dataset.toml``.
    sites, demand, nodes, links, site_types, hazards, regions : tuple
        The records, in file order.
    warnings : tuple of Problem
        What validation accepted but reported.
    input_hash : str
        SHA-256 over the names and bytes of the files read.
    """

    path: Path
    config: DatasetConfig
    sites: tuple[Site, ...]
    demand: tuple[DemandPoint, ...]
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    site_types: tuple[SiteType, ...]
    hazards: tuple[Hazard, ...] = ()
    regions: tuple[Region, ...] = ()
    warnings: tuple[Problem, ...] = ()
    input_hash: str = ""
    files: Mapping[str, str] = field(default_factory=dict)

    # ---- look-ups -----------------------------------------------------------
    @cached_property
    def site_ids(self) -> tuple[str, ...]:
        return tuple(s.site_id for s in self.sites)

    @cached_property
    def demand_ids(self) -> tuple[str, ...]:
        return tuple(d.demand_id for d in self.demand)

    @cached_property
    def site_by_id(self) -> dict[str, Site]:
        return {s.site_id: s for s in self.sites}

    @cached_property
    def demand_by_id(self) -> dict[str, DemandPoint]:
        return {d.demand_id: d for d in self.demand}

    @cached_property
    def node_by_id(self) -> dict[str, Node]:
        return {n.node_id: n for n in self.nodes}

    @cached_property
    def type_by_id(self) -> dict[str, SiteType]:
        return {t.type_id: t for t in self.site_types}

    def position(self, ident: str) -> tuple[float, float]:
        """``(lat, lon)`` of a site, demand point or node by id."""
        for table in (self.node_by_id, self.site_by_id, self.demand_by_id):
            rec = table.get(ident)
            if rec is not None:
                return rec.lat, rec.lon
        raise KeyError(ident)

    def latency_class(self, name: str) -> LatencyClass:
        return self.config.latency_classes[name]

    def allowed_types(self, site: Site) -> tuple[str, ...]:
        """The site types that may be built at ``site``, in site_types order."""
        if "*" in site.allowed_types:
            return tuple(t.type_id for t in self.site_types)
        return tuple(t.type_id for t in self.site_types if t.type_id in site.allowed_types)

    def regions_of_kind(self, kind: str) -> tuple[Region, ...]:
        return tuple(r for r in self.regions if r.kind == kind)

    def criticality_rank(self, level: str) -> int:
        """0 for the most critical level."""
        return self.config.criticality.levels.index(level)

    # ---- geometry -------------------------------------------------------------
    @cached_property
    def to_metric(self) -> Transformer:
        """WGS 84 (lon, lat) to the dataset's metric CRS (x, y in metres)."""
        return Transformer.from_crs(4326, self.config.crs, always_xy=True)

    def metric_xy(self, lats: Any, lons: Any) -> np.ndarray:
        """``(n, 2)`` metric coordinates in km."""
        x, y = self.to_metric.transform(np.asarray(lons, float), np.asarray(lats, float))
        return np.column_stack([x, y]) / 1000.0

    def metric_geometry(self, geom: BaseGeometry) -> BaseGeometry:
        """A WGS 84 geometry in the dataset's metric CRS, in km."""
        tf = self.to_metric

        def project(xy: np.ndarray) -> np.ndarray:
            x, y = tf.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y]) / 1000.0

        return shapely.transform(geom, project)

    @cached_property
    def site_hazard_km(self) -> np.ndarray:
        """``(sites, hazards)`` distance in km from each candidate site to each hazard
        (its point, line or area), in file order."""
        if not self.hazards or not self.sites:
            return np.zeros((len(self.sites), len(self.hazards)))
        pts = shapely.points(
            self.metric_xy([s.lat for s in self.sites], [s.lon for s in self.sites])
        )
        return np.column_stack(
            [shapely.distance(self.metric_geometry(h.geometry), pts) for h in self.hazards]
        )

    # ---- tables ---------------------------------------------------------------
    def frame(self, table: str) -> pd.DataFrame:
        """A pandas copy of one table (``sites``, ``demand``, ``nodes``, ``links``, ...)."""
        spec = {
            "sites": (Site, "site_id"),
            "demand": (DemandPoint, "demand_id"),
            "nodes": (Node, "node_id"),
            "links": (Link, "link_id"),
            "site_types": (SiteType, "type_id"),
            "hazards": (Hazard, "hazard_id"),
        }
        if table == "regions":
            return pd.DataFrame(
                [{k: v for k, v in asdict(r).items() if k != "geometry"} for r in self.regions]
            )
        cls, index = spec[table]
        return _frame(getattr(self, table), cls, index)


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in km (vectorised over numpy arrays)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
