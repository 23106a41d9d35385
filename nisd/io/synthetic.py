"""Synthetic countries: data directories of any size, for scale benchmarks and tests.

A synthetic country has Sweden's extent and settings (latency classes, site types,
access links) but random places: ``sites`` candidate sites and ``demand`` demand
points drawn from a seeded generator, denser in the south as Sweden's population
is; a backbone grid of fibre nodes (every link its own shared-risk group);
counties as a grid of rectangles and four power zones as latitude bands. It is
written as an ordinary data directory, so it goes through the same loader,
checks and model as the real data. Same arguments, same files.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np

from nisd.io import default_data_dir, write_settings

LAT = (55.4, 68.8)
LON = (11.5, 23.5)
ZONE_EDGES = (55.4, 57.2, 61.0, 65.0, 68.8)  # four latitude bands, south to north
COUNTY_ROWS, COUNTY_COLS = 7, 3
NODE_ROWS, NODE_COLS = 9, 3
CRITICALITY = (("critical", 0.05, "interactive"), ("high", 0.15, "interactive"))


def _band(lat: float, edges: tuple[float, ...]) -> int:
    for b in range(len(edges) - 1):
        if lat < edges[b + 1]:
            return b
    return len(edges) - 2


def _points(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 2) lat, lon; latitude skewed south (most people live there)."""
    u = rng.beta(1.3, 2.6, n)
    lat = LAT[0] + u * (LAT[1] - LAT[0])
    lon = LON[0] + rng.random(n) * (LON[1] - LON[0])
    return np.column_stack([lat, lon])


def _county(lat: float, lon: float) -> str:
    r = min(int((lat - LAT[0]) / (LAT[1] - LAT[0]) * COUNTY_ROWS), COUNTY_ROWS - 1)
    c = min(int((lon - LON[0]) / (LON[1] - LON[0]) * COUNTY_COLS), COUNTY_COLS - 1)
    return f"{r * COUNTY_COLS + c + 1:02d}"


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def _rect(lat0: float, lat1: float, lon0: float, lon1: float) -> dict[str, object]:
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


def write_country(out: str | Path, sites: int, demand: int, seed: int = 0) -> Path:
    """Write a synthetic country of ``sites`` candidates and ``demand`` points to ``out``.

    Parameters
    ----------
    out : str or Path
        Directory to write (created; files in it are replaced).
    sites, demand : int
        Number of candidate sites and of demand points (each at least 1).
    seed : int
        Seed of the random generator: the same arguments give the same files.

    Returns
    -------
    Path
        ``out``, ready for :func:`nisd.io.load_dataset`.

    Examples
    --------
    >>> import tempfile
    >>> from nisd.io import load_dataset
    >>> ds = load_dataset(write_country(tempfile.mkdtemp(), sites=40, demand=30))
    >>> len(ds.sites), len(ds.demand)
    (40, 30)
    """
    if sites < 1 or demand < 1:
        raise ValueError("a synthetic country needs at least one site and one demand point")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    zone_names = [f"Z{4 - b}" for b in range(4)]  # Z4 south ... Z1 north, as SE4 ... SE1

    # settings and site types as the Swedish default
    src = default_data_dir()
    shutil.copyfile(src / "site_types.csv", out / "site_types.csv")
    write_settings(
        src, out, f"Synthetic country: {sites} sites, {demand} demand points, seed {seed}"
    )

    lines = ["site_id,name,lat,lon,county_code,power_zone,population,allowed_types,cost_factor"]
    for j, (lat, lon) in enumerate(_points(rng, sites)):
        zone = zone_names[_band(lat, ZONE_EDGES)]
        pop = int(rng.lognormal(10, 1.2))
        types = "core;regional" if pop >= 50_000 else "regional"
        factor = round(float(rng.uniform(0.95, 1.05)), 3)
        lines.append(
            f"s{j},Site {j},{lat:.5f},{lon:.5f},{_county(lat, lon)},{zone},{pop},{types},{factor}"
        )
    (out / "sites.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    lines = ["demand_id,name,kind,lat,lon,county_code,load,criticality,latency_class"]
    kinds = rng.random(demand)
    loads = np.round(np.clip(rng.lognormal(-0.3, 0.8, demand), 0.1, 20.0), 1)
    for i, (lat, lon) in enumerate(_points(rng, demand)):
        crit, lat_class = "normal", "standard"
        edge = 0.0
        for name, share, cls in CRITICALITY:
            edge += share
            if kinds[i] < edge:
                crit, lat_class = name, cls
                break
        lines.append(
            f"d{i},Demand {i},user,{lat:.5f},{lon:.5f},{_county(lat, lon)},"
            f"{loads[i]},{crit},{lat_class}"
        )
    (out / "demand.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # backbone: a grid of nodes, links to the neighbours in the grid
    node_pos: dict[str, tuple[float, float]] = {}
    for r in range(NODE_ROWS):
        for c in range(NODE_COLS):
            lat = LAT[0] + (r + 0.5) * (LAT[1] - LAT[0]) / NODE_ROWS
            lon = LON[0] + (c + 0.5) * (LON[1] - LON[0]) / NODE_COLS
            node_pos[f"n{r}-{c}"] = (lat, lon)
    lines = ["node_id,name,lat,lon"]
    lines += [f"{n},Node {n},{p[0]:.5f},{p[1]:.5f}" for n, p in node_pos.items()]
    (out / "nodes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["link_id,a,b,length_km,srlg"]
    for r in range(NODE_ROWS):
        for c in range(NODE_COLS):
            a = f"n{r}-{c}"
            for b in (f"n{r + 1}-{c}", f"n{r}-{c + 1}"):
                if b in node_pos:
                    km = round(_haversine_km(node_pos[a], node_pos[b]) * 1.3, 1)
                    lines.append(f"l-{a}-{b},{a},{b},{km},srlg-{a}-{b}")
    (out / "links.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    feats = []
    for r in range(COUNTY_ROWS):
        for c in range(COUNTY_COLS):
            lat0 = LAT[0] + r * (LAT[1] - LAT[0]) / COUNTY_ROWS
            lat1 = LAT[0] + (r + 1) * (LAT[1] - LAT[0]) / COUNTY_ROWS
            lon0 = LON[0] + c * (LON[1] - LON[0]) / COUNTY_COLS
            lon1 = LON[0] + (c + 1) * (LON[1] - LON[0]) / COUNTY_COLS
            code = f"{r * COUNTY_COLS + c + 1:02d}"
            zone = zone_names[_band((lat0 + lat1) / 2, ZONE_EDGES)]
            props = {"region_id": code, "name": f"County {code}", "kind": "county"}
            feats.append(
                {
                    "type": "Feature",
                    "properties": {**props, "power_zone": zone},
                    "geometry": _rect(lat0, lat1, lon0, lon1),
                }
            )
    for band, zone in enumerate(zone_names):
        props = {"region_id": zone, "name": f"Power zone {zone}", "kind": "power_zone"}
        feats.append(
            {
                "type": "Feature",
                "properties": {**props, "power_zone": zone},
                "geometry": _rect(ZONE_EDGES[band], ZONE_EDGES[band + 1], LON[0], LON[1]),
            }
        )
    (out / "regions.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}) + "\n", encoding="utf-8"
    )
    for stale in ("hazards.geojson", "crisis_presets.toml"):
        (out / stale).unlink(missing_ok=True)
    return out
