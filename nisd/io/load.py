"""Load and validate a data directory into a :class:`~nisd.dataset.Dataset`.

Validation is lazy: every file is read and checked, every problem is
collected, and only then is one :class:`~nisd.errors.InputError` raised that
lists them all (file, line or feature, column, reason).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx

from nisd.dataset import (
    Dataset,
    DemandPoint,
    Hazard,
    Link,
    Node,
    Region,
    Site,
    SiteType,
    haversine_km,
)
from nisd.errors import InputError, Problem
from nisd.io.config import DatasetConfig, load_config
from nisd.io.files import check_geometries, point_columns, read_csv, read_geojson, read_gpkg
from nisd.io.rows import RawTable, TypedTable, type_rows

POINT_TABLES = ("sites", "demand", "nodes")
READERS: dict[str, Callable[[Path, list[Problem]], RawTable | None]] = {
    ".csv": read_csv,
    ".geojson": read_geojson,
    ".gpkg": read_gpkg,
}
# Which formats each table accepts, in order of preference.
FORMATS = {
    "sites": (".csv", ".geojson", ".gpkg"),
    "demand": (".csv", ".geojson", ".gpkg"),
    "nodes": (".csv", ".geojson", ".gpkg"),
    "links": (".csv",),
    "site_types": (".csv",),
    "hazards": (".geojson", ".gpkg"),
    "regions": (".geojson", ".gpkg"),
}
REQUIRED = ("sites", "demand", "links")
DEFAULT_SITE_TYPE = SiteType("site", "Datacenter site", math.inf, 1.0, "default: one type")


def _locate(root: Path, table: str, problems: list[Problem]) -> Path | None:
    found = [root / f"{table}{ext}" for ext in FORMATS[table] if (root / f"{table}{ext}").is_file()]
    if len(found) > 1:
        names = " and ".join(p.name for p in found)
        problems.append(Problem(found[0].name, f"both {names} exist; keep one"))
        return None
    if not found:
        if table in REQUIRED:
            want = " or ".join(f"{table}{e}" for e in FORMATS[table])
            problems.append(Problem(want, f"not found in {root}"))
        return None
    return found[0]


def _read(path: Path, table: str, cfg: DatasetConfig | None, problems: list[Problem]) -> TypedTable:
    raw = READERS[path.suffix](path, problems)
    if raw is None:
        return TypedTable(file=path.name, unit="line")
    if raw.geometries is not None:
        if table in POINT_TABLES:
            check_geometries(raw, problems, ("Point",))
            point_columns(raw)
        elif table == "hazards":
            allowed = (
                "Point",
                "MultiPoint",
                "LineString",
                "MultiLineString",
                "Polygon",
                "MultiPolygon",
            )
            check_geometries(raw, problems, allowed)
        else:
            check_geometries(raw, problems, ("Polygon", "MultiPolygon"))
    bbox = cfg.bbox if cfg is not None else None
    return type_rows(raw, table, problems, bbox if table in POINT_TABLES else None)


def _hash(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def load_dataset(path: str | Path) -> Dataset:
    """Read and validate the data directory at ``path``.

    Parameters
    ----------
    path : str or Path
        A directory with ``dataset.toml``, ``sites``, ``demand``, ``links``
        and optionally ``nodes``, ``site_types``, ``hazards``, ``regions``.

    Returns
    -------
    Dataset

    Raises
    ------
    InputError
        Listing every problem found, when any is an error.

    Examples
    --------
    >>> from nisd.io import default_data_dir, load_dataset
    >>> ds = load_dataset(default_data_dir())
    >>> len(ds.sites) >= 60
    True
    """
    root = Path(path)
    problems: list[Problem] = []
    if not root.is_dir():
        raise InputError([Problem(str(root), "is not a directory")])
    cfg = load_config(root / "dataset.toml", problems)
    tables: dict[str, TypedTable] = {}
    used: list[Path] = [root / "dataset.toml"] if (root / "dataset.toml").is_file() else []
    for table in FORMATS:
        p = _locate(root, table, problems)
        if p is not None:
            used.append(p)
            tables[table] = _read(p, table, cfg, problems)
    if cfg is None or not all(t in tables for t in REQUIRED):
        raise InputError(problems)
    ds = _assemble(root, cfg, tables, problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(problems)
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(used)}
    return Dataset(
        **ds,
        warnings=tuple(problems),
        input_hash=_hash(used),
        files=files,
    )


def require_on_disk(ds: Dataset, what: str) -> None:
    """Refuse a dataset that is not its data directory on disk (a variant made in memory):
    worker processes read the data by its path. ``what`` begins the message ("a sweep
    solves").

    Raises
    ------
    InputError
    """
    if load_dataset(ds.path).input_hash != ds.input_hash:
        raise InputError(
            [
                Problem(
                    "dataset",
                    f"{what} from the data directory on disk; this dataset is a variant "
                    "made in memory: write it to a directory first",
                )
            ]
        )


def _dependency_problems(
    demand: list[DemandPoint], lines: list[int]
) -> list[tuple[int | None, str]]:
    """Unknown workloads, a workload that needs itself, rows of one workload that
    disagree, and cycles in the demand's ``depends_on`` column."""
    line_of = {d.demand_id: ln for d, ln in zip(demand, lines, strict=True)}
    known = {d.workload_id for d in demand}
    needs: dict[str, tuple[str, ...]] = {}
    out: list[tuple[int | None, str]] = []
    for d in demand:
        w = d.workload_id
        line = line_of.get(d.demand_id)
        for dep in d.depends_on:
            if dep == w:
                out.append((line, f"workload {w!r} cannot depend on itself"))
            elif dep not in known:
                out.append(
                    (line, f"unknown workload {dep!r} (a demand_id or a workload of demand.csv)")
                )
        if w in needs and set(needs[w]) != set(d.depends_on):
            out.append(
                (
                    line,
                    f"the rows of workload {w!r} disagree on depends_on "
                    f"({';'.join(needs[w]) or 'none'} and {';'.join(d.depends_on) or 'none'})",
                )
            )
        needs.setdefault(w, d.depends_on)
    if out:
        return out
    state: dict[str, int] = {}

    def cycle(w: str, path: list[str]) -> list[str] | None:
        state[w] = 1
        for x in needs.get(w, ()):
            if state.get(x) == 1:
                return [*path, w, x]
            if x not in state:
                found = cycle(x, [*path, w])
                if found:
                    return found
        state[w] = 2
        return None

    for w in sorted(needs):
        if w not in state:
            found = cycle(w, [])
            if found:
                first = next(d for d in demand if d.workload_id == found[-1])
                loop = " → ".join(found[found.index(found[-1]) :])
                out.append((line_of.get(first.demand_id), f"dependencies form a cycle: {loop}"))
                break
    return out


def _records(t: TypedTable | None) -> list[tuple[int, dict[str, Any]]]:
    return t.rows if t is not None else []


def _assemble(
    root: Path, cfg: DatasetConfig, tables: dict[str, TypedTable], problems: list[Problem]
) -> dict[str, Any]:
    """Cross-table checks, then the records."""

    def add(t: TypedTable, msg: str, line: int | None, col: str | None, sev: str = "error") -> None:
        problems.append(Problem(t.file, msg, line, col, sev, t.unit))

    # -- site types
    st = tables.get("site_types")
    site_types = tuple(SiteType(**r) for _, r in _records(st)) or (DEFAULT_SITE_TYPE,)
    type_ids = {t.type_id for t in site_types}

    # -- regions
    regions: list[Region] = []
    rt = tables.get("regions")
    if rt is not None:
        seen: dict[tuple[str, str], int] = {}
        for (line, r), g in zip(rt.rows, rt.geometries, strict=True):
            key = (r["kind"], r["region_id"])
            if key in seen:
                add(
                    rt,
                    f"duplicate {r['kind']} {r['region_id']!r} (first at feature {seen[key]})",
                    line,
                    "region_id",
                )
                continue
            seen[key] = line
            if g is not None:
                regions.append(Region(geometry=g, **r))
    counties = {r.region_id for r in regions if r.kind == "county"}
    zones = {r.region_id for r in regions if r.kind == "power_zone"}

    # -- sites
    sites: list[Site] = []
    stab = tables["sites"]
    for line, r in stab.rows:
        bad = [t for t in r["allowed_types"] if t != "*" and t not in type_ids]
        if bad:
            add(
                stab,
                f"unknown site type(s) {', '.join(bad)}; known: {', '.join(sorted(type_ids))}",
                line,
                "allowed_types",
            )
            continue
        if counties and r["county_code"] is not None and r["county_code"] not in counties:
            add(
                stab,
                f"county_code {r['county_code']!r} is not a county in the regions file",
                line,
                "county_code",
            )
            continue
        if zones and r["power_zone"] is not None and r["power_zone"] not in zones:
            add(
                stab,
                f"power_zone {r['power_zone']!r} is not a power zone in the regions file "
                f"({', '.join(sorted(zones))})",
                line,
                "power_zone",
            )
            continue
        if r["existing_type"] is not None and r["existing_type"] not in type_ids:
            add(
                stab,
                f"existing_type {r['existing_type']!r} is not a site type "
                f"({', '.join(sorted(type_ids))})",
                line,
                "existing_type",
            )
            continue
        sites.append(Site(**r))

    # -- demand
    demand: list[DemandPoint] = []
    demand_lines: list[int] = []
    dtab = tables["demand"]
    levels = cfg.criticality.levels
    for line, r in dtab.rows:
        crit = r["criticality"] or levels[-1]
        if crit not in levels:
            add(
                dtab,
                f"criticality {crit!r} is not one of {', '.join(levels)} (dataset.toml)",
                line,
                "criticality",
            )
            continue
        cls_name = r["latency_class"] or cfg.default_latency_class
        if cls_name not in cfg.latency_classes:
            add(
                dtab,
                f"latency_class {cls_name!r} is not one of "
                f"{', '.join(cfg.latency_classes)} (dataset.toml)",
                line,
                "latency_class",
            )
            continue
        lc = cfg.latency_classes[cls_name]
        primary = r["primary_ms"] if r["primary_ms"] is not None else lc.primary_ms
        backup = r["backup_ms"] if r["backup_ms"] is not None else lc.backup_ms
        if backup < primary:
            add(
                dtab,
                f"backup_ms {backup:g} is smaller than primary_ms {primary:g}",
                line,
                "backup_ms",
            )
            continue
        demand.append(
            DemandPoint(
                **{
                    **r,
                    "criticality": crit,
                    "latency_class": cls_name,
                    "primary_ms": primary,
                    "backup_ms": backup,
                    "crisis_ms": max(lc.crisis_ms, primary),
                    "depends_on": r["depends_on"] or (),
                }
            )
        )
        demand_lines.append(line)
    for dep_line, msg in _dependency_problems(demand, demand_lines):
        add(dtab, msg, dep_line, "depends_on")

    # -- nodes
    nodes = [Node(**r) for _, r in _records(tables.get("nodes"))]

    # -- ids unique across tables (links may name any of them)
    owner: dict[str, str] = {}
    for name, id_col in (("nodes", "node_id"), ("sites", "site_id"), ("demand", "demand_id")):
        tab = tables.get(name)
        if tab is None:
            continue
        for line, r in tab.rows:
            ident = r[id_col]
            if ident in owner:
                add(tab, f"id {ident!r} is already used in {owner[ident]}", line, id_col)
            else:
                owner[ident] = tab.file
    pos: dict[str, tuple[float, float]] = {}
    for n in nodes:
        pos.setdefault(n.node_id, (n.lat, n.lon))
    for s in sites:
        pos.setdefault(s.site_id, (s.lat, s.lon))
    for d in demand:
        pos.setdefault(d.demand_id, (d.lat, d.lon))

    # -- links
    links: list[Link] = []
    ltab = tables["links"]
    pair_seen: dict[tuple[str, str, tuple[str, ...]], int] = {}
    ids_seen: dict[str, int] = {}
    known = set(pos)
    for name in ("nodes", "sites", "demand"):
        t = tables.get(name)
        known |= t.ids if t is not None else set()
    for line, r in ltab.rows:
        a, b = r["a"], r["b"]
        ok = True
        for end, col in ((a, "a"), (b, "b")):
            if end not in known:
                add(ltab, f"unknown id {end!r}: not a node, site or demand point", line, col)
            if end not in pos:
                ok = False
        if a == b:
            add(ltab, f"self-loop: both ends are {a!r}", line, "b")
            ok = False
        link_id = r["link_id"] or f"line {line}"
        if link_id in ids_seen:
            add(
                ltab,
                f"duplicate link_id {link_id!r} (first on line {ids_seen[link_id]})",
                line,
                "link_id",
            )
            ok = False
        if not ok:
            continue
        ids_seen[link_id] = line
        srlg = r["srlg"] or (f"link:{link_id}",)
        pair = (min(a, b), max(a, b), tuple(sorted(srlg)))
        if pair in pair_seen:
            add(
                ltab,
                f"duplicate link {a}–{b} in the same shared-risk group(s) "
                f"(first on line {pair_seen[pair]})",
                line,
                "a/b",
            )
            continue
        pair_seen[pair] = line
        length = r["length_km"]
        basis = r["length_basis"]
        if length is None:
            (la, oa), (lb, ob) = pos[a], pos[b]
            gc = float(haversine_km(la, oa, lb, ob))
            length = max(gc * cfg.network.route_factor, 0.001)
            basis = basis or f"great-circle x {cfg.network.route_factor:g}"
        links.append(
            Link(
                link_id=link_id,
                a=a,
                b=b,
                length_km=length,
                srlg=tuple(srlg),
                path=r["path"],
                length_basis=basis,
            )
        )

    # -- backbone connectivity (a warning: the planner can still attach sites)
    node_ids = {n.node_id for n in nodes}
    if node_ids:
        g = nx.Graph()
        g.add_nodes_from(node_ids)
        g.add_edges_from((lk.a, lk.b) for lk in links if lk.a in node_ids and lk.b in node_ids)
        comps = sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: (-len(c), c))
        if len(comps) > 1:
            desc = "; ".join(
                "{" + ", ".join(c[:6]) + (", ..." if len(c) > 6 else "") + "}" for c in comps
            )
            add(
                ltab,
                f"the backbone is not connected: {len(comps)} components: {desc}",
                None,
                None,
                "warning",
            )

    # -- hazards
    hazards: list[Hazard] = []
    ht = tables.get("hazards")
    if ht is not None:
        for (_, r), g in zip(ht.rows, ht.geometries, strict=True):
            if g is not None:
                hazards.append(Hazard(geometry=g, **r))

    return {
        "path": root,
        "config": cfg,
        "sites": tuple(sites),
        "demand": tuple(demand),
        "nodes": tuple(nodes),
        "links": tuple(links),
        "site_types": site_types,
        "hazards": tuple(hazards),
        "regions": tuple(regions),
    }
