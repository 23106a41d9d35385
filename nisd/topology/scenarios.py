"""Failure scenarios: named sets of failed sites, nodes, links and shared-risk groups.

Why this module is long: it is the one registry of scenario sets (name → generator,
count and help text from one table), so that a set is defined in one place.

A scenario says what goes dark at once. Scenario *sets* generate them:

=================  ==========================================================
set                scenarios
=================  ==========================================================
``single-site``    every candidate site (or every opened site) alone
``single-node``    every backbone node alone (with all its links)
``single-link``    every fibre link of ``links.csv`` alone
``srlg``           every shared-risk link group (all its links at once)
``n-2-site``       every pair of sites; ``n-2-link`` every pair of links;
                   ``n-2`` both (count them first: :func:`count_scenarios`)
``region:R``       every circle of radius R km (e.g. ``region:100km``) centred
                   on a grid over the bounding box (spacing R), failing every
                   site, node and link (access links too) that it touches;
                   ``region-sites:R`` centres them on every site and node
``hazard``         every hazard's area (its planning zone, else its buffer)
``county``         every county: the sites and nodes located in it
``power-zone``     every power zone: a zone-wide blackout takes down every
                   site in it (backbone nodes are assumed to have reserve power)
``presets``        the named crises in ``crisis_presets.toml`` of the data
                   directory, each with its written meaning
=================  ==========================================================

Circles and hazard areas are physical disasters: links whose straight
segment crosses the area are cut, also those of demand points, which then
lose service. Counties and presets fail what they name.
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from nisd.dataset import Dataset
from nisd.errors import InputError, Problem
from nisd.settings import control_characters


@dataclass(frozen=True)
class Scenario:
    """What fails at once, with a name and a meaning."""

    name: str
    kind: str
    sites: frozenset[str] = frozenset()
    nodes: frozenset[str] = frozenset()
    links: frozenset[str] = frozenset()
    srlgs: frozenset[str] = frozenset()
    meaning: str = ""

    @property
    def failed(self) -> list[str]:
        """Every failed element, sorted, prefixed by its kind."""
        return (
            [f"site:{x}" for x in sorted(self.sites)]
            + [f"node:{x}" for x in sorted(self.nodes)]
            + [f"link:{x}" for x in sorted(self.links)]
            + [f"srlg:{x}" for x in sorted(self.srlgs)]
        )

    def is_empty(self) -> bool:
        return not (self.sites or self.nodes or self.links or self.srlgs)

    def union(self, other: Scenario, name: str | None = None) -> Scenario:
        return Scenario(
            name or f"{self.name} + {other.name}",
            "combined",
            self.sites | other.sites,
            self.nodes | other.nodes,
            self.links | other.links,
            self.srlgs | other.srlgs,
        )


@dataclass
class _Geo:
    """Metric positions of vertices and segments of edges, computed once."""

    ids: list[str]
    xy: np.ndarray
    kinds: list[str]
    edge_keys: list[str]
    seg_a: np.ndarray
    seg_b: np.ndarray
    lines: list[LineString] = field(default_factory=list)


def _geo(ds: Dataset, g: nx.MultiGraph) -> _Geo:
    ids = sorted(g.nodes)
    lat = [g.nodes[v]["lat"] for v in ids]
    lon = [g.nodes[v]["lon"] for v in ids]
    xy = ds.metric_xy(lat, lon)
    where = {v: i for i, v in enumerate(ids)}
    keys, a, b = [], [], []
    for u, v, k in sorted(g.edges(keys=True), key=lambda e: e[2]):
        keys.append(k)
        a.append(xy[where[u]])
        b.append(xy[where[v]])
    seg_a = np.array(a).reshape(-1, 2)
    seg_b = np.array(b).reshape(-1, 2)
    lines = [LineString([p, q]) for p, q in zip(seg_a, seg_b, strict=True)]
    return _Geo(ids, xy, [g.nodes[v]["kind"] for v in ids], keys, seg_a, seg_b, lines)


def _seg_dist(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from point ``p`` to each segment ``a[i]–b[i]``."""
    ab = b - a
    denom = (ab**2).sum(axis=1)
    t = np.where(denom > 0, ((p - a) * ab).sum(axis=1) / np.where(denom > 0, denom, 1), 0.0)
    t = np.clip(t, 0.0, 1.0)
    proj = a + ab * t[:, None]
    return np.sqrt(((proj - p) ** 2).sum(axis=1))


def _circle(geo: _Geo, cx: float, cy: float, r: float) -> tuple[set[str], set[str], set[str]]:
    d = np.sqrt(((geo.xy - np.array([cx, cy])) ** 2).sum(axis=1))
    inside = np.nonzero(d <= r)[0]
    sites = {geo.ids[i] for i in inside if geo.kinds[i] == "site"}
    nodes = {geo.ids[i] for i in inside if geo.kinds[i] == "node"}
    links: set[str] = set()
    if len(geo.edge_keys):
        hit = np.nonzero(_seg_dist(np.array([cx, cy]), geo.seg_a, geo.seg_b) <= r)[0]
        links = {geo.edge_keys[i] for i in hit}
    return sites, nodes, links


def _area(geo: _Geo, area: BaseGeometry) -> tuple[set[str], set[str], set[str]]:
    """What a metric-CRS area covers: sites, nodes and crossing links."""
    pts = shapely.points(geo.xy)
    inside = np.nonzero(shapely.intersects(area, pts))[0]
    sites = {geo.ids[i] for i in inside if geo.kinds[i] == "site"}
    nodes = {geo.ids[i] for i in inside if geo.kinds[i] == "node"}
    hit = np.nonzero(shapely.intersects(area, np.array(geo.lines, dtype=object)))[0]
    return sites, nodes, {geo.edge_keys[i] for i in hit}


# ---- the sets -------------------------------------------------------------------------


def single_site(ds: Dataset, sites: Iterable[str] | None = None) -> Iterator[Scenario]:
    for s in sorted(sites if sites is not None else ds.site_ids):
        yield Scenario(
            f"site {s}",
            "single-site",
            sites=frozenset([s]),
            meaning=f"site {ds.site_by_id[s].name} is lost",
        )


def single_node(ds: Dataset) -> Iterator[Scenario]:
    for n in sorted(ds.node_by_id):
        yield Scenario(
            f"node {n}",
            "single-node",
            nodes=frozenset([n]),
            meaning=f"backbone node {ds.node_by_id[n].name} is lost",
        )


def single_link(ds: Dataset) -> Iterator[Scenario]:
    for lk in sorted(ds.links, key=lambda x: x.link_id):
        yield Scenario(
            f"link {lk.link_id}",
            "single-link",
            links=frozenset([lk.link_id]),
            meaning=f"fibre {lk.a}–{lk.b} is cut",
        )


def srlg(ds: Dataset) -> Iterator[Scenario]:
    groups = sorted({grp for lk in ds.links for grp in lk.srlg})
    for grp in groups:
        yield Scenario(
            f"srlg {grp}",
            "srlg",
            srlgs=frozenset([grp]),
            meaning=f"every link in shared-risk group {grp} is cut",
        )


def n_minus_2_sites(ds: Dataset, sites: Iterable[str] | None = None) -> Iterator[Scenario]:
    for a, b in itertools.combinations(sorted(sites if sites is not None else ds.site_ids), 2):
        yield Scenario(f"sites {a} + {b}", "n-2-site", sites=frozenset([a, b]))


def n_minus_2_links(ds: Dataset) -> Iterator[Scenario]:
    for a, b in itertools.combinations(sorted(lk.link_id for lk in ds.links), 2):
        yield Scenario(f"links {a} + {b}", "n-2-link", links=frozenset([a, b]))


def regions(
    ds: Dataset,
    g: nx.MultiGraph,
    radius_km: float,
    centres: str = "grid",
    spacing_km: float | None = None,
) -> Iterator[Scenario]:
    """Circles of ``radius_km``; identical failure sets are kept once."""
    geo = _geo(ds, g)
    if centres == "grid":
        lon0, lat0, lon1, lat1 = ds.config.bbox
        corners = ds.metric_xy([lat0, lat0, lat1, lat1], [lon0, lon1, lon0, lon1])
        step = spacing_km or radius_km
        xs = np.arange(corners[:, 0].min(), corners[:, 0].max() + step, step)
        ys = np.arange(corners[:, 1].min(), corners[:, 1].max() + step, step)
        pts = [(float(x), float(y)) for y in ys for x in xs]
        label = "grid"
    else:
        pts = [
            (float(p[0]), float(p[1]))
            for p, k in zip(geo.xy, geo.kinds, strict=True)
            if k in ("site", "node")
        ]
        label = "site/node"
    seen: set[tuple[frozenset[str], frozenset[str], frozenset[str]]] = set()
    inv = ds.to_metric
    for cx, cy in pts:
        s, n, lk = _circle(geo, cx, cy, radius_km)
        key = (frozenset(s), frozenset(n), frozenset(lk))
        if not (s or n or lk) or key in seen:
            continue
        seen.add(key)
        lon, lat = inv.transform(cx * 1000, cy * 1000, direction="INVERSE")
        yield Scenario(
            f"region {radius_km:g} km at {lat:.2f}N {lon:.2f}E",
            f"region:{radius_km:g}km",
            sites=key[0],
            nodes=key[1],
            links=key[2],
            meaning=f"everything within {radius_km:g} km of ({lat:.2f}, {lon:.2f}) is lost "
            f"({label} centre)",
        )


def hazard_areas(ds: Dataset, g: nx.MultiGraph) -> Iterator[Scenario]:
    geo = _geo(ds, g)
    for h in sorted(ds.hazards, key=lambda x: x.hazard_id):
        r = h.planning_zone_km if h.planning_zone_km else h.buffer_km
        if r <= 0:
            continue  # a line or place without an area (a land border): nothing is lost
        area = ds.metric_geometry(h.geometry).buffer(max(r, 0.001))
        s, n, lk = _area(geo, area)
        yield Scenario(
            f"hazard {h.hazard_id}",
            "hazard",
            frozenset(s),
            frozenset(n),
            frozenset(lk),
            meaning=f"everything within {r:g} km of {h.name} is lost",
        )


def _located(ds: Dataset, g: nx.MultiGraph, region_id: str, kind: str) -> tuple[set[str], set[str]]:
    """Sites and nodes in a region: by their column when set, else by location."""
    reg = next((r for r in ds.regions if r.kind == kind and r.region_id == region_id), None)
    col = "county_code" if kind == "county" else "power_zone"
    sites = {s.site_id for s in ds.sites if getattr(s, col) == region_id}
    unlabelled = [s for s in ds.sites if getattr(s, col) is None]
    nodes: set[str] = set()
    if reg is not None:
        if unlabelled:
            inside = shapely.intersects(
                reg.geometry, shapely.points([(s.lon, s.lat) for s in unlabelled])
            )
            sites |= {s.site_id for s, ok in zip(unlabelled, inside, strict=True) if ok}
        if ds.nodes:
            inside = shapely.intersects(
                reg.geometry, shapely.points([(n.lon, n.lat) for n in ds.nodes])
            )
            nodes = {n.node_id for n, ok in zip(ds.nodes, inside, strict=True) if ok}
    return sites, nodes


def _county_border_links(ds: Dataset, g: nx.MultiGraph, code: str) -> set[str]:
    """Links between a vertex in county ``code`` (site, node or user) and one outside."""
    sites, nodes = _located(ds, g, code, "county")
    inside = sites | nodes | {d.demand_id for d in ds.demand if d.county_code == code}
    return {k for a, b, k in g.edges(keys=True) if (a in inside) != (b in inside)}


def counties(ds: Dataset, g: nx.MultiGraph) -> Iterator[Scenario]:
    codes = sorted(
        {r.region_id for r in ds.regions if r.kind == "county"}
        | {s.county_code for s in ds.sites if s.county_code}
    )
    names = {r.region_id: r.name for r in ds.regions if r.kind == "county"}
    for c in codes:
        s, n = _located(ds, g, c, "county")
        yield Scenario(
            f"county {c}",
            "county",
            frozenset(s),
            frozenset(n),
            meaning=f"{names.get(c, c)} is lost: its sites and backbone nodes",
        )


def power_zones(ds: Dataset, g: nx.MultiGraph) -> Iterator[Scenario]:
    zones = sorted(
        {r.region_id for r in ds.regions if r.kind == "power_zone"}
        | {s.power_zone for s in ds.sites if s.power_zone}
    )
    for z in zones:
        s, _n = _located(ds, g, z, "power_zone")
        yield Scenario(
            f"power zone {z}",
            "power-zone",
            frozenset(s),
            meaning=f"blackout of power zone {z}: every site in it is down",
        )


PRESET_KEYS = {
    "meaning",
    "counties",
    "power_zones",
    "sites",
    "nodes",
    "links",
    "srlgs",
    "circles",
    "corridors",
    "isolate",
    "isolate_counties",
}


SINGULAR = {
    "sites": "site",
    "nodes": "node",
    "links": "link",
    "srlgs": "shared-risk group",
    "counties": "county",
    "isolate_counties": "county",
    "power_zones": "power zone",
}


def presets(ds: Dataset, g: nx.MultiGraph, path: Path | None = None) -> list[Scenario]:
    """The named crises of ``crisis_presets.toml`` (in the data directory by default).

    Each table ``[NAME]`` has ``meaning`` and any of: ``counties``,
    ``power_zones``, ``sites``, ``nodes``, ``links``, ``srlgs`` (ids),
    ``circles`` (``{lat, lon, radius_km}``), ``corridors`` (``{line =
    [[lon, lat], ...], width_km}``: everything within ``width_km`` of the
    line), ``isolate`` (vertex ids cut off: all their links fail),
    ``isolate_counties`` (county codes: every link between a vertex in the county,
    a site, node or user, and one outside it fails; links inside stay).
    """
    p = path or ds.path / "crisis_presets.toml"
    if not p.is_file():
        return []
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(p.name, f"is not valid TOML: {exc}")]) from None
    geo = _geo(ds, g)
    problems: list[Problem] = []
    out = []
    for name, spec in doc.items():
        if not isinstance(spec, dict):
            problems.append(Problem(p.name, f"[{name}] must be a table", column=name, unit="key"))
            continue
        for text, where in ((name, name), (spec.get("meaning", ""), f"{name}.meaning")):
            why = control_characters(text) if isinstance(text, str) else "must be text"
            if why:
                problems.append(Problem(p.name, why, column=where, unit="key"))
        unknown = set(spec) - PRESET_KEYS
        for k in sorted(unknown):
            problems.append(
                Problem(p.name, f"unknown key '{k}' in [{name}]", column=f"{name}.{k}", unit="key")
            )
        sites: set[str] = set(spec.get("sites", []))
        nodes: set[str] = set(spec.get("nodes", []))
        links: set[str] = set(spec.get("links", []))
        groups: set[str] = set(spec.get("srlgs", []))
        # a misspelt id must not pass as "survived": every named element must exist
        known_srlg = {grp for lk in ds.links for grp in lk.srlg}
        counties = {x for x in (st.county_code for st in ds.sites) if x} | {
            r.region_id for r in ds.regions if r.kind == "county"
        }
        zones = {x for x in (st.power_zone for st in ds.sites) if x} | {
            r.region_id for r in ds.regions if r.kind == "power_zone"
        }
        for key, named, known in (
            ("sites", sites, set(ds.site_ids)),
            ("nodes", nodes, set(ds.node_by_id)),
            ("links", links, {lk.link_id for lk in ds.links}),
            ("srlgs", groups, known_srlg),
            ("counties", {str(c) for c in spec.get("counties", [])}, counties),
            ("isolate_counties", {str(c) for c in spec.get("isolate_counties", [])}, counties),
            ("power_zones", {str(z) for z in spec.get("power_zones", [])}, zones),
        ):
            for ident in sorted(named - known):
                problems.append(
                    Problem(
                        p.name,
                        f"[{name}] unknown {SINGULAR[key]} {ident!r}",
                        column=f"{name}.{key}",
                        unit="key",
                    )
                )
        for c in spec.get("counties", []):
            s, n = _located(ds, g, str(c), "county")
            sites |= s
            nodes |= n
        for z in spec.get("power_zones", []):
            s, _n = _located(ds, g, str(z), "power_zone")
            sites |= s
        for c in spec.get("circles", []):
            try:
                x, y = ds.metric_xy([c["lat"]], [c["lon"]])[0]
                s, n, lk = _circle(geo, float(x), float(y), float(c["radius_km"]))
            except (KeyError, TypeError, ValueError):
                problems.append(
                    Problem(
                        p.name,
                        f"[{name}] circles need lat, lon, radius_km",
                        column="circles",
                        unit="key",
                    )
                )
                continue
            sites, nodes, links = sites | s, nodes | n, links | lk
        for c in spec.get("corridors", []):
            try:
                line = ds.metric_geometry(LineString(c["line"])).buffer(float(c["width_km"]))
            except (KeyError, TypeError, ValueError):
                problems.append(
                    Problem(
                        p.name,
                        f"[{name}] corridors need line, width_km",
                        column="corridors",
                        unit="key",
                    )
                )
                continue
            s, n, lk = _area(geo, line)
            sites, nodes, links = sites | s, nodes | n, links | lk
        for v in spec.get("isolate", []):
            if v not in g:
                problems.append(
                    Problem(
                        p.name,
                        f"[{name}] unknown vertex {v!r} to isolate",
                        column="isolate",
                        unit="key",
                    )
                )
                continue
            links |= {k for _a, _b, k in g.edges(v, keys=True)}
        for c in spec.get("isolate_counties", []):
            links |= _county_border_links(ds, g, str(c))
        out.append(
            Scenario(
                f"preset {name}",
                "preset",
                frozenset(sites),
                frozenset(nodes),
                frozenset(links),
                frozenset(groups),
                str(spec.get("meaning", "")),
            )
        )
    if problems:
        raise InputError(problems)
    return out


# ---- parsing a list of sets -----------------------------------------------------------

_REGION = re.compile(r"^(region|region-sites):(\d+(?:\.\d+)?)\s*(km)?$")

Chosen = list[str] | None  # the opened sites that site-failure sets are restricted to


@dataclass(frozen=True)
class SetKind:
    """One kind of scenario set: its name, what it fails, how to make and count it."""

    name: str
    meaning: str
    make: Callable[[Dataset, nx.MultiGraph, Chosen, float], Iterable[Scenario]]
    count: Callable[[Dataset, Chosen], int] | None = None  # cheap count, when known


def _n_sites(ds: Dataset, chosen: Chosen) -> int:
    return len(chosen) if chosen is not None else len(ds.sites)


def _n2(ds: Dataset, chosen: Chosen, sites: bool, links: bool) -> Iterable[Scenario]:
    out: Iterable[Scenario] = []
    if sites:
        out = itertools.chain(out, n_minus_2_sites(ds, chosen))
    if links:
        out = itertools.chain(out, n_minus_2_links(ds))
    return out


# The one registry of scenario sets: parsing, generation, counting and the CLI's help.
SETS: dict[str, SetKind] = {
    k.name: k
    for k in (
        SetKind(
            "single-site",
            "every candidate (or opened) site alone",
            lambda ds, g, c, r: single_site(ds, c),
            lambda ds, c: _n_sites(ds, c),
        ),
        SetKind(
            "single-node",
            "every backbone node alone",
            lambda ds, g, c, r: single_node(ds),
            lambda ds, c: len(ds.nodes),
        ),
        SetKind(
            "single-link",
            "every fibre link alone",
            lambda ds, g, c, r: single_link(ds),
            lambda ds, c: len(ds.links),
        ),
        SetKind(
            "srlg",
            "every shared-risk group",
            lambda ds, g, c, r: srlg(ds),
            lambda ds, c: len({grp for lk in ds.links for grp in lk.srlg}),
        ),
        SetKind(
            "n-2",
            "every pair of sites and every pair of links",
            lambda ds, g, c, r: _n2(ds, c, True, True),
            lambda ds, c: math.comb(_n_sites(ds, c), 2) + math.comb(len(ds.links), 2),
        ),
        SetKind(
            "n-2-site",
            "every pair of sites",
            lambda ds, g, c, r: _n2(ds, c, True, False),
            lambda ds, c: math.comb(_n_sites(ds, c), 2),
        ),
        SetKind(
            "n-2-link",
            "every pair of links",
            lambda ds, g, c, r: _n2(ds, c, False, True),
            lambda ds, c: math.comb(len(ds.links), 2),
        ),
        SetKind(
            "region:R",
            "every circle of R km on a grid (e.g. region:100km)",
            lambda ds, g, c, r: regions(ds, g, r, centres="grid"),
        ),
        SetKind(
            "region-sites:R",
            "every circle of R km around a site or node",
            lambda ds, g, c, r: regions(ds, g, r, centres="sites"),
        ),
        SetKind("hazard", "every hazard's area", lambda ds, g, c, r: hazard_areas(ds, g)),
        SetKind("county", "every county", lambda ds, g, c, r: counties(ds, g)),
        SetKind("power-zone", "every power zone", lambda ds, g, c, r: power_zones(ds, g)),
        SetKind(
            "presets", "the named crises of crisis_presets.toml", lambda ds, g, c, r: presets(ds, g)
        ),
    )
}
KNOWN_SETS = tuple(SETS)


def set_kind(name: str) -> tuple[SetKind, float] | None:
    """The registry entry of a set name and its radius (0 for sets without one)."""
    m = _REGION.match(name)
    if m:
        return SETS[f"{m.group(1)}:R"], float(m.group(2))
    kind = SETS.get(name)
    return None if kind is None or kind.name.endswith(":R") else (kind, 0.0)


def sets_help() -> str:
    """The known set names, for command-line help."""
    return ", ".join(KNOWN_SETS)


def parse_sets(spec: str | Iterable[str]) -> list[str]:
    """Split and check a comma-separated list of set names."""
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec)]
    items = [s for s in items if s]
    bad = [s for s in items if set_kind(s) is None]
    if bad:
        raise InputError(
            [
                Problem(
                    "scenario sets",
                    f"unknown scenario set(s) {', '.join(bad)}; known: {sets_help()}",
                )
            ]
        )
    return items


def count_scenarios(
    ds: Dataset, g: nx.MultiGraph, sets: Iterable[str], opened: Iterable[str] | None = None
) -> int:
    """How many scenarios the sets give; N-2 pairs are counted, not generated."""
    chosen = sorted(opened) if opened is not None else None
    total = 0
    for s in parse_sets(list(sets)):
        found = set_kind(s)
        assert found is not None  # parse_sets checked it
        kind, _r = found
        total += (
            kind.count(ds, chosen)
            if kind.count is not None
            else len(scenario_sets(ds, g, [s], chosen))
        )
    return total


def scenario_sets(
    ds: Dataset, g: nx.MultiGraph, sets: Iterable[str], opened: Iterable[str] | None = None
) -> list[Scenario]:
    """Generate the scenarios of every named set, in order, without duplicates by name.

    ``opened`` restricts the site-failure sets (single site, N-2 sites) to the
    sites of a placement, since other candidates failing changes nothing.
    """
    out: list[Scenario] = []
    chosen = sorted(opened) if opened is not None else None
    for s in parse_sets(list(sets)):
        found = set_kind(s)
        assert found is not None  # parse_sets checked it
        kind, radius = found
        out.extend(kind.make(ds, g, chosen, radius))
    seen: set[str] = set()
    uniq = []
    for sc in out:
        if sc.name not in seen:
            seen.add(sc.name)
            uniq.append(sc)
    return uniq


def describe(sc: Scenario) -> dict[str, Any]:
    return {"scenario": sc.name, "kind": sc.kind, "failed": sc.failed, "meaning": sc.meaning}
