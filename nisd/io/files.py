"""Reading raw tables from CSV, GeoJSON and GeoPackage files.

Each reader returns a :class:`~nisd.io.rows.RawTable` and appends what is
wrong with the file itself (encoding, syntax, CRS, geometry) to
``problems``; typing and range checks come afterwards in :mod:`nisd.io.rows`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from nisd.errors import Problem
from nisd.io.rows import RawTable

WGS84 = CRS.from_epsg(4326)


def decode_text(path: Path, problems: list[Problem]) -> str | None:
    """The file's text as UTF-8 (a byte-order mark is dropped), or ``None``."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                path.name,
                f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at byte {exc.start}); "
                "save it as UTF-8",
                line,
            )
        )
        return None


def read_csv(path: Path, problems: list[Problem]) -> RawTable | None:
    """Read a CSV file with a header row; cells stay strings."""
    text = decode_text(path, problems)
    if text is None:
        return None
    name = path.name
    if not text.strip():
        problems.append(Problem(name, "is empty: expected a header row and data rows"))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except csv.Error as exc:
        problems.append(Problem(name, f"is not valid CSV: {exc}", 1))
        return None
    header = [h.strip() for h in header]
    seen: set[str] = set()
    for h in header:
        if h == "":
            problems.append(Problem(name, "has an empty column name in its header", 1))
        elif h in seen:
            problems.append(Problem(name, f"column '{h}' appears twice in the header", 1, h))
        seen.add(h)
    rows: list[tuple[int, dict[str, Any]]] = []
    start = reader.line_num + 1
    try:
        for rec in reader:
            line, start = start, reader.line_num + 1
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != len(header):
                problems.append(
                    Problem(name, f"has {len(rec)} fields, the header has {len(header)}", line)
                )
                continue
            rows.append((line, dict(zip(header, rec, strict=True))))
    except csv.Error as exc:
        problems.append(Problem(name, f"is not valid CSV: {exc}", reader.line_num))
    return RawTable(file=name, columns=header, rows=rows)


def _declared_crs(doc: dict[str, Any], name: str, problems: list[Problem]) -> CRS | None:
    member = doc.get("crs")
    if member is None:
        return WGS84  # RFC 7946: GeoJSON coordinates are WGS 84 longitude, latitude
    try:
        crs_name = member["properties"]["name"]
        return CRS.from_user_input(crs_name)
    except (KeyError, TypeError, CRSError) as exc:
        problems.append(Problem(name, f"has an unreadable 'crs' member: {exc}"))
        return None


def _is_geographic(crs: CRS) -> bool:
    return bool(crs.is_geographic)


def _to_wgs84(
    geoms: list[BaseGeometry | None], crs: CRS, name: str, unit: str, problems: list[Problem]
) -> list[BaseGeometry | None]:
    """Reproject to WGS 84, flagging coordinates that cannot be in ``crs``."""
    out: list[BaseGeometry | None] = []
    geographic = _is_geographic(crs)
    tf = None if crs.equals(WGS84) else Transformer.from_crs(crs, WGS84, always_xy=True)
    for i, g in enumerate(geoms, start=1):
        if g is None or g.is_empty:
            out.append(g)
            continue
        minx, miny, maxx, maxy = g.bounds
        if geographic and (max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90):
            problems.append(
                Problem(
                    name,
                    f"coordinates ({minx:g}, {miny:g}) do not fit the declared CRS "
                    f"{crs.to_string()} (degrees); the file's CRS is missing or wrong",
                    i,
                    unit=unit,
                )
            )
            out.append(None)
            continue
        if not geographic and max(abs(minx), abs(maxx), abs(miny), abs(maxy)) <= 180:
            problems.append(
                Problem(
                    name,
                    f"coordinates ({minx:g}, {miny:g}) look like degrees but the declared "
                    f"CRS {crs.to_string()} is projected: the CRS conflicts with the data",
                    i,
                    unit=unit,
                )
            )
            out.append(None)
            continue
        if tf is not None:
            g = shapely.transform(g, _projector(tf))
        out.append(g)
    return out


def _projector(tf: Transformer) -> Callable[[np.ndarray], np.ndarray]:
    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(tf.transform(xy[:, 0], xy[:, 1]))

    return project


def _validity(g: BaseGeometry | None) -> str | None:
    if g is None:
        return "has no geometry"
    if g.is_empty:
        return "has an empty geometry"
    coords = shapely.get_coordinates(g)
    if not all(math.isfinite(v) for v in coords.ravel()):
        return "has a coordinate that is not a finite number"
    if not g.is_valid:
        return f"invalid {g.geom_type} geometry: {shapely.is_valid_reason(g)} (not repaired)"
    return None


def read_geojson(path: Path, problems: list[Problem]) -> RawTable | None:
    """Read a GeoJSON FeatureCollection; properties become columns."""
    text = decode_text(path, problems)
    if text is None:
        return None
    name = path.name
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(
            Problem(name, f"is malformed GeoJSON: {exc.msg} at column {exc.colno}", exc.lineno)
        )
        return None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        problems.append(Problem(name, "is not a GeoJSON FeatureCollection"))
        return None
    feats = doc.get("features")
    if not isinstance(feats, list):
        problems.append(Problem(name, "has no 'features' list"))
        return None
    crs = _declared_crs(doc, name, problems)
    if crs is None:
        return None
    columns: list[str] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    geoms: list[BaseGeometry | None] = []
    for i, feat in enumerate(feats, start=1):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            problems.append(Problem(name, "is not a GeoJSON Feature", i, unit="feature"))
            continue
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            problems.append(Problem(name, "'properties' is not an object", i, unit="feature"))
            continue
        try:
            geom = shape(feat["geometry"]) if feat.get("geometry") else None
        except Exception as exc:  # shapely raises several types for bad geometry
            problems.append(
                Problem(name, f"malformed geometry: {exc}", i, "geometry", unit="feature")
            )
            continue
        for k in props:
            if k not in columns:
                columns.append(k)
        rows.append((i, dict(props)))
        geoms.append(geom)
    geoms = _to_wgs84(geoms, crs, name, "feature", problems)
    return RawTable(file=name, columns=columns, rows=rows, unit="feature", geometries=geoms)


def read_gpkg(path: Path, problems: list[Problem]) -> RawTable | None:
    """Read the first layer of a GeoPackage; its CRS must be set."""
    import pyogrio

    name = path.name
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises DataSourceError and others
        problems.append(Problem(name, f"cannot be read as a GeoPackage: {exc}"))
        return None
    if gdf.crs is None:
        problems.append(Problem(name, "has no CRS: set the layer's CRS (e.g. EPSG:4326)"))
        return None
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    rows: list[tuple[int, dict[str, Any]]] = []
    for i, rec in enumerate(gdf[columns].to_dict("records"), start=1):
        clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()}
        rows.append((i, clean))
    geoms = _to_wgs84(list(gdf.geometry), CRS.from_user_input(gdf.crs), name, "feature", problems)
    return RawTable(file=name, columns=columns, rows=rows, unit="feature", geometries=geoms)


def check_geometries(raw: RawTable, problems: list[Problem], allowed: tuple[str, ...]) -> None:
    """Flag missing, empty, invalid or wrongly typed geometries (in place: set to None)."""
    if raw.geometries is None:
        return
    for i, g in enumerate(raw.geometries):
        line = raw.rows[i][0]
        reason = _validity(g)
        if reason is None and g is not None and g.geom_type not in allowed:
            reason = f"geometry is a {g.geom_type}; expected {' or '.join(allowed)}"
        if reason:
            problems.append(Problem(raw.file, reason, line, "geometry", unit=raw.unit))
            raw.geometries[i] = None


def point_columns(raw: RawTable) -> None:
    """Fill ``lat``/``lon`` from Point geometries (sites, demand, nodes from geo files)."""
    if raw.geometries is None:
        return
    for (_, cells), g in zip(raw.rows, raw.geometries, strict=True):
        if g is not None and g.geom_type == "Point":
            cells["lon"], cells["lat"] = g.x, g.y
    for c in ("lat", "lon"):
        if c not in raw.columns:
            raw.columns.append(c)
