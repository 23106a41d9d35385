"""What a map shows, as plain JSON-ready data: built from the dataset, a plan and scenarios.

Nothing here formats HTML: every string stays raw data, and the page turns
it into text nodes. ``redact`` snaps every site, demand point and node to
its county's representative point (or a deterministic 25 km jitter when the
county is unknown), for circulation beyond the planning team.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from shapely.geometry import mapping

from nisd.dataset import Dataset
from nisd.render.words import worst_by_class
from nisd.result import Plan
from nisd.topology import build_graph
from nisd.topology.resilience import evaluate
from nisd.topology.scenarios import Scenario


def _round(x: float) -> float:
    return round(float(x), 5)


def _jitter(ident: str, lat: float, lon: float, km: float = 25.0) -> tuple[float, float]:
    h = hashlib.sha256(ident.encode()).digest()
    ang = h[0] / 255 * 2 * math.pi
    r = km * (0.5 + h[1] / 510)
    return lat + r / 111.0 * math.sin(ang), lon + r / (
        111.0 * math.cos(math.radians(lat))
    ) * math.cos(ang)


def group_places(ds: Dataset, pos: Mapping[str, tuple[float, float]]) -> list[dict[str, Any]]:
    """The dataset's users grouped by their position in ``pos``, in order of first
    appearance: each place's position, users, total load and most critical class.

    Users at one place (every agency's users in one municipality or county) would be
    drawn as markers stacked on one point, only the top one clickable; the map and
    ``Plan.explore`` draw one marker per place instead, listing every user there.
    """
    at: dict[tuple[float, float], list[str]] = {}
    for d in ds.demand:
        lat, lon = pos[d.demand_id]
        at.setdefault((_round(lat), _round(lon)), []).append(d.demand_id)
    order = {c: i for i, c in enumerate(ds.config.criticality.levels)}
    places = []
    for (lat, lon), ids in at.items():
        here = [ds.demand_by_id[i] for i in ids]
        places.append(
            {
                "lat": lat,
                "lon": lon,
                "users": ids,
                "load": round(sum(d.load for d in here), 6),
                "criticality": min(
                    (d.criticality for d in here), key=lambda c: order.get(c, len(order))
                ),
            }
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


def build_payload(
    ds: Dataset,
    plan: Plan | None,
    scenarios: Sequence[Scenario] = (),
    *,
    title: str = "nisd plan",
    redact: bool = False,
    regrets: Mapping[str, Any] | None = None,
    extra_levels: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, Any]:
    """The map's data: regions, links, hazards, sites, demand, assignments, scenarios, KPIs."""
    sites_open: dict[str, str] = dict(plan.sites) if plan else {}
    assignments: dict[str, list[str]] = (
        {d: list(v) for d, v in plan.assignments.items()} if plan else {}
    )
    county_pt: dict[str, tuple[float, float]] = {}
    for reg in ds.regions:
        if reg.kind == "county":
            rp = reg.geometry.representative_point()
            county_pt[reg.region_id] = (rp.y, rp.x)

    def place(ident: str, lat: float, lon: float, county: str | None) -> tuple[float, float]:
        if not redact:
            return lat, lon
        if county and county in county_pt:
            return county_pt[county]
        return _jitter(ident, lat, lon)

    haz = _hazard_distance(ds)
    use = plan.site_use if plan else {}
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
    pos: dict[str, tuple[float, float]] = {}
    sites = []
    for s in ds.sites:
        lat, lon = place(s.site_id, s.lat, s.lon, s.county_code)
        pos[s.site_id] = (lat, lon)
        t = sites_open.get(s.site_id)
        dist, hname = haz.get(s.site_id, (math.inf, ""))
        cap = None if t is None else (s.capacity if s.capacity is not None else caps.get(t))
        sites.append(
            {
                "id": s.site_id,
                "name": s.name,
                "lat": _round(lat),
                "lon": _round(lon),
                "county": s.county or s.county_code or "",
                "zone": s.power_zone or "",
                "type": t,
                "cost_factor": s.cost_factor,
                # an overlay of several plans marks sites "kept", "added", "removed": no cost
                "cost_msek": None if t not in type_cost else round(type_cost[t] * s.cost_factor, 3),
                "capacity": None if cap is None or not math.isfinite(cap) else cap,
                "used": round(used.get(s.site_id, 0.0), 3),
                "primary_for": sorted(primary_of.get(s.site_id, [])),
                "backup_for": sorted(backup_of.get(s.site_id, [])),
                "hazard_km": None if not math.isfinite(dist) else round(dist, 1),
                "hazard": hname,
                "regret": None if not regrets or s.site_id not in regrets else regrets[s.site_id],
                "backup_load": use.get(s.site_id, {}).get("backup_load"),
                "peak_load": use.get(s.site_id, {}).get("peak_load"),
                "peak_scenario": use.get(s.site_id, {}).get("peak_scenario"),
            }
        )
    demand = []
    for d in ds.demand:
        lat, lon = place(d.demand_id, d.lat, d.lon, d.county_code)
        pos[d.demand_id] = (lat, lon)
        demand.append(
            {
                "id": d.demand_id,
                "name": d.name,
                "lat": _round(lat),
                "lon": _round(lon),
                "load": d.load,
                "criticality": d.criticality,
                "protection": d.protection,
                "assigned": assignments.get(d.demand_id, []),
            }
        )
    places = group_places(ds, pos)
    for n in ds.nodes:
        pos[n.node_id] = place(n.node_id, n.lat, n.lon, None) if redact else (n.lat, n.lon)
    lines = []
    for did, seq in sorted(assignments.items()):
        for rank, sid in enumerate(seq):
            if did in pos and sid in pos:
                lines.append(
                    {
                        "demand": did,
                        "site": sid,
                        "rank": rank,
                        "coords": [
                            [_round(pos[did][0]), _round(pos[did][1])],
                            [_round(pos[sid][0]), _round(pos[sid][1])],
                        ],
                    }
                )
    links = [
        {
            "id": lk.link_id,
            "srlg": list(lk.srlg),
            "path": lk.path or "",
            "length_km": round(lk.length_km, 1),
            "coords": [
                [_round(pos[lk.a][0]), _round(pos[lk.a][1])],
                [_round(pos[lk.b][0]), _round(pos[lk.b][1])],
            ],
        }
        for lk in ds.links
        if lk.a in pos and lk.b in pos
    ]
    nodes = [
        {
            "id": n.node_id,
            "name": n.name,
            "lat": _round(pos[n.node_id][0]),
            "lon": _round(pos[n.node_id][1]),
            "operator": n.operator or "",
        }
        for n in ds.nodes
    ]
    hazards = [
        {
            "id": h.hazard_id,
            "name": h.name,
            "class": h.hazard_class,
            "buffer_km": h.buffer_km,
            "geometry": mapping(h.geometry),
        }
        for h in ds.hazards
    ]
    regions = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": r.region_id, "name": r.name, "kind": r.kind},
                "geometry": mapping(r.geometry),
            }
            for r in ds.regions
        ],
    }
    scen_rows: list[dict[str, Any]] = []
    if scenarios and sites_open:
        g = build_graph(ds)
        classes = list(ds.config.criticality.levels)
        levels = {**(extra_levels or {}), **(plan.levels(classes) if plan else {})}
        res = evaluate(
            ds,
            g,
            sites_open,
            list(scenarios),
            assignments=assignments or None,
            levels=levels or None,
            check_two_routes=False,
            split=plan.split if plan else True,
            islands=plan.islands if plan else False,
        )
        for sc, row in zip(scenarios, res.table.to_dict("records"), strict=True):
            # links also fail with their end nodes (a lost node takes its fibres with it)
            down = set(sc.links) | {
                lk.link_id for lk in ds.links if lk.a in sc.nodes or lk.b in sc.nodes
            }
            scen_rows.append(
                {
                    "name": sc.name,
                    "meaning": sc.meaning,
                    "sites": sorted(sc.sites),
                    "nodes": sorted(sc.nodes),
                    "links": sorted(down),
                    "srlgs": sorted(sc.srlgs),
                    "unserved": list(row["unserved"]),
                    "partly": dict(row["partly_served"]),
                    "cut_off": list(row["cut_off"]),
                    "islanded": list(row["islanded"]),
                    "reachable_by_class": dict(row["reachable_by_class"]),
                    "full_sites": list(row["full_sites"]),
                    "site_load": dict(row["site_load"]),
                    "by_class": dict(row["served_by_class"]),
                    "levels_met": row["levels_met"],
                    "share": round(float(row["demand_served_share"]), 6),
                }
            )
    kpis = plan.kpis.as_dict() if plan else {}
    if plan:
        kpis["status"] = plan.status.value
        kpis["gap"] = plan.gap
        kpis["objective"] = f"{plan.objective}: {plan.value}"
    if scen_rows:
        kpis["worst_case_share_served"] = min(float(row["share"]) for row in scen_rows)
        kpis["worst_case_by_class"] = {
            c: {"share": row["by_class"][c], "scenario": row["name"]}
            for c, row in worst_by_class(scen_rows, list(ds.config.criticality.levels))
        }
    lon0, lat0, lon1, lat1 = ds.config.bbox
    return {
        "title": title,
        "bbox": [[lat0, lon0], [lat1, lon1]],
        "regions": regions,
        "links": links,
        "nodes": nodes,
        "hazards": hazards,
        "sites": sites,
        "demand": demand,
        "places": places,
        "protection": {t.type_id: t.protection for t in ds.site_types},
        "lines": lines,
        "scenarios": scen_rows,
        "kpis": kpis,
        "redacted": redact,
        "types": sorted({t for t in sites_open.values()}),
        "classes": list(ds.config.criticality.levels),
    }
