"""What a map shows, as typed data: built from the dataset, a plan record and its evaluated
scenarios, and handed to the page's script as JSON.

Nothing here formats HTML: every string stays raw data, and the page turns it into
text nodes. ``redact`` snaps every site, demand point and node to its county's
representative point (or a deterministic 25 km jitter when the county is unknown), for
circulation beyond the planning team.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field, JsonValue
from shapely.geometry import mapping

from nisd.dataset import Dataset
from nisd.records.base import Record
from nisd.records.plan import ClassShare, Kpis, Plan, ScenarioRow
from nisd.topology.scenarios import Scenario

Point = tuple[float, float]


def _geo(geometry: Any) -> dict[str, JsonValue]:
    """A shapely geometry as GeoJSON made of lists (JSON's own types)."""
    out: dict[str, JsonValue] = json.loads(json.dumps(mapping(geometry)))
    return out


def _round(x: float) -> float:
    return round(float(x), 5)


def _jitter(ident: str, lat: float, lon: float, km: float = 25.0) -> Point:
    h = hashlib.sha256(ident.encode()).digest()
    ang = h[0] / 255 * 2 * math.pi
    r = km * (0.5 + h[1] / 510)
    return lat + r / 111.0 * math.sin(ang), lon + r / (
        111.0 * math.cos(math.radians(lat))
    ) * math.cos(ang)


class SiteMark(Record):
    """A candidate site on the map; ``type`` is set when it is opened."""

    id: str
    name: str
    lat: float
    lon: float
    county: str = ""
    zone: str = ""
    type: str | None = None
    cost_factor: float = 1.0
    cost_msek: float | None = None
    capacity: float | None = None
    used: float = 0.0
    primary_for: tuple[str, ...] = ()
    backup_for: tuple[str, ...] = ()
    hazard_km: float | None = None
    hazard: str = ""
    # what the plan loses without it (MSEK/yr), or why not ("no plan without it: essential")
    regret: float | str | None = None
    backup_load: float | None = None
    peak_load: float | None = None
    peak_scenario: str | None = None


class UserMark(Record):
    """A user (demand point) on the map, with its sites."""

    id: str
    name: str
    lat: float
    lon: float
    load: float
    criticality: str
    protection: int = 0
    assigned: tuple[str, ...] = ()


class PlaceMark(Record):
    """One place with users: one marker, listing every user there."""

    lat: float
    lon: float
    users: tuple[str, ...]
    load: float
    criticality: str


class LineMark(Record):
    """One assignment: a user to one of its sites (rank 0: primary)."""

    demand: str
    site: str
    rank: int
    coords: tuple[Point, Point]


class LinkMark(Record):
    """A fibre link."""

    id: str
    srlg: tuple[str, ...] = ()
    path: str = ""
    length_km: float
    coords: tuple[Point, Point]


class NodeMark(Record):
    """A backbone node."""

    id: str
    name: str
    lat: float
    lon: float
    operator: str = ""


class HazardMark(Record):
    """A hazard area with its buffer."""

    id: str
    name: str
    hazard_class: str = Field(serialization_alias="class")
    buffer_km: float
    geometry: dict[str, JsonValue]


class ScenarioView(Record):
    """A failure scenario as the map draws it: what fails, and the evaluator's row."""

    name: str
    meaning: str
    sites: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    links: tuple[str, ...] = ()  # with the links that fail with their end nodes
    srlgs: tuple[str, ...] = ()
    row: ScenarioRow


class YearView(Record):
    """One year of a roll-out on the map."""

    year: int
    sites: dict[str, str]
    building: tuple[str, ...] = ()
    assigned: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    lines: tuple[LineMark, ...] = ()
    holds: tuple[str, ...] = ()


class BranchView(Record):
    """One future of a roll-out under uncertainty on the map: its years."""

    name: str
    probability: float
    years: tuple[YearView, ...] = ()


class MapKpis(Kpis):
    """The key figures the map's panel shows: the plan's (its worst case over the scenarios
    it was checked against), how it was solved, and the worst case over every scenario
    the page evaluates (presets and attacks included)."""

    status: str = ""
    gap: float | None = None
    objective: str = ""
    worst_all_share: float | None = None
    worst_all_scenario: str | None = None
    worst_all_by_class: dict[str, ClassShare] = Field(default_factory=dict)


class MapData(Record):
    """Everything a map page draws (its JSON form is the page's data)."""

    title: str
    bbox: tuple[Point, Point]
    regions: dict[str, JsonValue]
    links: tuple[LinkMark, ...] = ()
    nodes: tuple[NodeMark, ...] = ()
    hazards: tuple[HazardMark, ...] = ()
    sites: tuple[SiteMark, ...] = ()
    demand: tuple[UserMark, ...] = ()
    places: tuple[PlaceMark, ...] = ()
    protection: dict[str, int] = Field(default_factory=dict)
    lines: tuple[LineMark, ...] = ()
    scenarios: tuple[ScenarioView, ...] = ()
    kpis: MapKpis = MapKpis()
    redacted: bool = False
    types: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    years: tuple[YearView, ...] = ()
    # a roll-out under uncertainty: every future's years (``years`` is the one shown first)
    branches: tuple[BranchView, ...] = ()
    shown_branch: int | None = None
    tiles: str | None = None

    @property
    def opened(self) -> list[SiteMark]:
        """The opened sites."""
        return [s for s in self.sites if s.type]

    def site_names(self) -> dict[str, str]:
        return {s.id: s.name for s in self.sites}

    def rows(self) -> list[ScenarioRow]:
        """The evaluated scenarios' rows, in the page's order."""
        return [v.row for v in self.scenarios]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=False)


def group_places(ds: Dataset, pos: Mapping[str, Point]) -> list[PlaceMark]:
    """The dataset's users grouped by their position in ``pos``, in order of first
    appearance: each place's position, users, total load and most critical class.

    Users at one place (every agency's users in one municipality or county) would be
    drawn as markers stacked on one point, only the top one clickable; the map and
    ``nisd.explore`` draw one marker per place instead, listing every user there.
    """
    at: dict[Point, list[str]] = {}
    for d in ds.demand:
        lat, lon = pos[d.demand_id]
        at.setdefault((_round(lat), _round(lon)), []).append(d.demand_id)
    order = {c: i for i, c in enumerate(ds.config.criticality.levels)}
    places = []
    for (lat, lon), ids in at.items():
        here = [ds.demand_by_id[i] for i in ids]
        places.append(
            PlaceMark(
                lat=lat,
                lon=lon,
                users=tuple(ids),
                load=round(sum(d.load for d in here), 6),
                criticality=min(
                    (d.criticality for d in here), key=lambda c: order.get(c, len(order))
                ),
            )
        )
    return places


def _hazard_distance(ds: Dataset) -> dict[str, tuple[float, str]]:
    if not ds.hazards or not ds.sites:
        return {}
    d = ds.site_hazard_km
    nearest = d.argmin(axis=1)
    return {
        s.site_id: (float(d[j, nearest[j]]), ds.hazards[int(nearest[j])].name)
        for j, s in enumerate(ds.sites)
    }


def positions(ds: Dataset, redact: bool) -> dict[str, Point]:
    """Where the map draws every site, user and node (at its county when redacted)."""
    county_pt: dict[str, Point] = {}
    for reg in ds.regions:
        if reg.kind == "county":
            rp = reg.geometry.representative_point()
            county_pt[reg.region_id] = (rp.y, rp.x)

    def place(ident: str, lat: float, lon: float, county: str | None) -> Point:
        if not redact:
            return lat, lon
        if county and county in county_pt:
            return county_pt[county]
        return _jitter(ident, lat, lon)

    pos: dict[str, Point] = {}
    for s in ds.sites:
        pos[s.site_id] = place(s.site_id, s.lat, s.lon, s.county_code)
    for u in ds.demand:
        pos[u.demand_id] = place(u.demand_id, u.lat, u.lon, u.county_code)
    for n in ds.nodes:
        pos[n.node_id] = place(n.node_id, n.lat, n.lon, None) if redact else (n.lat, n.lon)
    return pos


def lines_of(
    assignments: Mapping[str, Sequence[str]], pos: Mapping[str, Point]
) -> tuple[LineMark, ...]:
    """The assignment lines of a plan (or a year of a roll-out)."""
    return tuple(
        LineMark(
            demand=did,
            site=sid,
            rank=rank,
            coords=(
                (_round(pos[did][0]), _round(pos[did][1])),
                (_round(pos[sid][0]), _round(pos[sid][1])),
            ),
        )
        for did, seq in sorted(assignments.items())
        for rank, sid in enumerate(seq)
        if did in pos and sid in pos
    )


def scenario_views(
    ds: Dataset, scenarios: Sequence[Scenario], rows: Sequence[ScenarioRow]
) -> tuple[ScenarioView, ...]:
    """Each scenario with what fails and its row (links fail with their end nodes too)."""
    out = []
    for sc, row in zip(scenarios, rows, strict=True):
        down = set(sc.links) | {
            lk.link_id for lk in ds.links if lk.a in sc.nodes or lk.b in sc.nodes
        }
        out.append(
            ScenarioView(
                name=sc.name,
                meaning=sc.meaning,
                sites=tuple(sorted(sc.sites)),
                nodes=tuple(sorted(sc.nodes)),
                links=tuple(sorted(down)),
                srlgs=tuple(sorted(sc.srlgs)),
                row=row,
            )
        )
    return tuple(out)


def worst_by_class(rows: Sequence[ScenarioRow], classes: Sequence[str]) -> dict[str, ClassShare]:
    """Per class with load: the smallest share served and its scenario (ties: the smaller
    share of all load, then the name)."""
    out = {}
    for c in classes:
        have = [r for r in rows if r.served(c) is not None]
        if have:
            w = min(have, key=lambda r: (r.served(c) or 0.0, r.demand_served_share, r.scenario))
            out[c] = ClassShare(share=float(w.served(c) or 0.0), scenario=w.scenario)
    return out


def build_payload(
    ds: Dataset,
    plan: Plan | None,
    scenarios: Sequence[Scenario] = (),
    rows: Sequence[ScenarioRow] = (),
    *,
    title: str = "nisd plan",
    redact: bool = False,
    regrets: Mapping[str, float | str | None] | None = None,
) -> MapData:
    """The map's data: regions, links, hazards, sites, users, assignments, the evaluated
    scenarios (``rows``, one per scenario) and the key figures."""
    sites_open: dict[str, str] = dict(plan.sites) if plan else {}
    assignments = dict(plan.assignments) if plan else {}
    pos = positions(ds, redact)
    haz = _hazard_distance(ds)
    use = plan.use_by_site if plan else {}
    load = {d.demand_id: d.load for d in ds.demand}
    primary_of: dict[str, list[str]] = {}
    backup_of: dict[str, list[str]] = {}
    used: dict[str, float] = {}
    for did, seq in assignments.items():
        for rank, sid in enumerate(seq):
            (primary_of if rank == 0 else backup_of).setdefault(sid, []).append(
                ds.demand_by_id[did].name if did in ds.demand_by_id else did
            )
            if rank == 0:
                used[sid] = used.get(sid, 0.0) + load.get(did, 0.0)
    caps = {t.type_id: t.capacity for t in ds.site_types}
    type_cost = {t.type_id: t.cost_msek for t in ds.site_types}
    sites = []
    for s in ds.sites:
        lat, lon = pos[s.site_id]
        t = sites_open.get(s.site_id)
        dist, hname = haz.get(s.site_id, (math.inf, ""))
        cap = None if t is None else (s.capacity if s.capacity is not None else caps.get(t))
        u = use.get(s.site_id)
        sites.append(
            SiteMark(
                id=s.site_id,
                name=s.name,
                lat=_round(lat),
                lon=_round(lon),
                county=s.county or s.county_code or "",
                zone=s.power_zone or "",
                type=t,
                cost_factor=s.cost_factor,
                # an overlay of several plans marks sites "kept", "added", "removed": no cost
                cost_msek=None if t not in type_cost else round(type_cost[t] * s.cost_factor, 3),
                capacity=None if cap is None or not math.isfinite(cap) else cap,
                used=round(used.get(s.site_id, 0.0), 3),
                primary_for=tuple(sorted(primary_of.get(s.site_id, []))),
                backup_for=tuple(sorted(backup_of.get(s.site_id, []))),
                hazard_km=None if not math.isfinite(dist) else round(dist, 1),
                hazard=hname,
                regret=(regrets or {}).get(s.site_id),
                backup_load=u.backup_load if u else None,
                peak_load=u.peak_load if u else None,
                peak_scenario=u.peak_scenario if u else None,
            )
        )
    demand = [
        UserMark(
            id=d.demand_id,
            name=d.name,
            lat=_round(pos[d.demand_id][0]),
            lon=_round(pos[d.demand_id][1]),
            load=d.load,
            criticality=d.criticality,
            protection=d.protection,
            assigned=tuple(assignments.get(d.demand_id, ())),
        )
        for d in ds.demand
    ]
    links = [
        LinkMark(
            id=lk.link_id,
            srlg=tuple(lk.srlg),
            path=lk.path or "",
            length_km=round(lk.length_km, 1),
            coords=(
                (_round(pos[lk.a][0]), _round(pos[lk.a][1])),
                (_round(pos[lk.b][0]), _round(pos[lk.b][1])),
            ),
        )
        for lk in ds.links
        if lk.a in pos and lk.b in pos
    ]
    nodes = [
        NodeMark(
            id=n.node_id,
            name=n.name,
            lat=_round(pos[n.node_id][0]),
            lon=_round(pos[n.node_id][1]),
            operator=n.operator or "",
        )
        for n in ds.nodes
    ]
    hazards = [
        HazardMark(
            id=h.hazard_id,
            name=h.name,
            hazard_class=h.hazard_class,
            buffer_km=h.buffer_km,
            geometry=_geo(h.geometry),
        )
        for h in ds.hazards
    ]
    regions: dict[str, JsonValue] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": r.region_id, "name": r.name, "kind": r.kind},
                "geometry": _geo(r.geometry),
            }
            for r in ds.regions
        ],
    }
    classes = tuple(ds.config.criticality.levels)
    kpis = MapKpis()
    if plan:
        kpis = MapKpis(
            **plan.kpis.model_dump(),
            status=plan.status.value,
            gap=plan.gap,
            objective=f"{plan.objective.name}: {plan.value}",
        )
    if rows:
        worst = min(rows, key=lambda r: (r.demand_served_share, r.scenario))
        update: dict[str, Any] = {
            "worst_all_share": worst.demand_served_share,
            "worst_all_scenario": worst.scenario,
            "worst_all_by_class": worst_by_class(rows, classes),
        }
        if plan is None or not plan.scenarios:  # nothing required: the page's own worst
            update |= {
                "worst_case_share_served": worst.demand_served_share,
                "worst_case_scenario": worst.scenario,
                "worst_case_by_class": update["worst_all_by_class"],
            }
        kpis = kpis.model_copy(update=update)
    lon0, lat0, lon1, lat1 = ds.config.bbox
    return MapData(
        title=title,
        bbox=((lat0, lon0), (lat1, lon1)),
        regions=regions,
        links=tuple(links),
        nodes=tuple(nodes),
        hazards=tuple(hazards),
        sites=tuple(sites),
        demand=tuple(demand),
        places=tuple(group_places(ds, pos)),
        protection={t.type_id: t.protection for t in ds.site_types},
        lines=lines_of(assignments, pos),
        scenarios=scenario_views(ds, scenarios, rows) if rows else (),
        kpis=kpis,
        redacted=redact,
        types=tuple(sorted(set(sites_open.values()))),
        classes=classes,
    )
