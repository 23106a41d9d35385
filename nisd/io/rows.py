"""Typed rows from raw tables: conversion and per-cell checks against the schema."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from nisd.errors import Problem
from nisd.io.schema import ColumnSpec, table_schema
from nisd.settings import control_characters

TRUE = {"true", "yes", "1", "y", "t"}
FALSE = {"false", "no", "0", "n", "f"}


@dataclass
class RawTable:
    """A table as read from a file, before typing.

    ``rows`` pairs each row's position (CSV line or feature number) with its
    cells; CSV cells are strings, GeoJSON properties keep their JSON types.
    """

    file: str
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]
    unit: str = "line"
    geometries: list[BaseGeometry | None] | None = None


@dataclass
class TypedTable:
    """Rows converted to the schema's types; rows with errors are dropped."""

    file: str
    unit: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    geometries: list[BaseGeometry | None] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)  # every id in the file, rows with errors too


class _BadCellError(Exception):
    pass


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _text(value: str) -> str:
    """A text cell without bidirectional or other control characters."""
    why = control_characters(value)
    if why:
        raise _BadCellError(why)
    return value


def _convert(value: Any, spec: ColumnSpec) -> Any:
    """Convert one non-blank cell; raise ``_BadCellError`` with the reason."""
    if spec.dtype == "str":
        if isinstance(value, (dict, list)):
            raise _BadCellError(f"expected text, got {type(value).__name__}")
        return _text(value if isinstance(value, str) else str(value))
    if spec.dtype in ("float", "int"):
        if isinstance(value, bool):
            raise _BadCellError(f"not a number: {value!r}")
        try:
            num = float(value.strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise _BadCellError(f"not a number: {value!r}") from None
        if math.isnan(num):
            raise _BadCellError("NaN is not allowed")
        if math.isinf(num):
            raise _BadCellError(f"not a finite number: {value!r}")
        if spec.dtype == "int":
            if num != int(num):
                raise _BadCellError(f"not a whole number: {value!r}")
            return int(num)
        return num
    if spec.dtype == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise _BadCellError(f"not true/false: {value!r}")
    if spec.dtype == "list":
        if isinstance(value, list):
            items = [str(v).strip() for v in value]
        else:
            items = [v.strip() for v in str(value).split(";")]
        if any(not v for v in items):
            raise _BadCellError(f"empty item in list {value!r} (items are separated by ';')")
        return tuple(_text(v) for v in items)
    raise AssertionError(spec.dtype)  # pragma: no cover


def _default(spec: ColumnSpec) -> Any:
    if spec.default == "":
        return None
    return _convert(spec.default, spec)


# Largest plausible magnitude per unit: a value beyond it is a typo or a hostile file
# (a load of 1e308 racks overflows every sum), never a plan.
LIMITS = {
    "racks": 1e7,
    "MSEK/year": 1e7,
    "km": 4e4,
    "ms": 1e4,
    "inhabitants": 1e10,
}


def _check(value: Any, spec: ColumnSpec) -> str | None:
    if value is None:
        return None
    if spec.check in ("id", "ref") and isinstance(value, str) and value != value.strip():
        return f"id {value!r} has spaces at its start or end (ids must match exactly)"
    limit = LIMITS.get(spec.unit)
    if limit is not None and isinstance(value, (int, float)) and abs(value) > limit:
        return f"{value:g} {spec.unit} is implausibly large (at most {limit:g})"
    if spec.check == "nonneg" and value < 0:
        return f"must not be negative, got {value:g}"
    if spec.check == "positive" and value <= 0:
        return f"must be greater than zero, got {value:g}"
    if spec.check == "latitude" and not -90 <= value <= 90:
        return f"latitude {value:g} is outside -90..90"
    if spec.check == "longitude" and not -180 <= value <= 180:
        return f"longitude {value:g} is outside -180..180"
    return None


def type_rows(
    raw: RawTable,
    table: str,
    problems: list[Problem],
    bbox: Sequence[float] | None = None,
) -> TypedTable:
    """Convert ``raw`` to typed rows, appending every problem found.

    Checks: required columns present, unknown columns (a warning), each cell's
    type and range, unique ids, and coordinates inside ``bbox``
    (``lon_min, lat_min, lon_max, lat_max``), with a hint when latitude and
    longitude look swapped.
    """
    cols = table_schema(table)
    out = TypedTable(file=raw.file, unit=raw.unit)

    def add(msg: str, line: int | None = None, col: str | None = None, sev: str = "error") -> None:
        problems.append(Problem(raw.file, msg, line, col, sev, raw.unit))

    missing = [c for c, s in cols.items() if s.required and c not in raw.columns]
    for c in missing:
        add(f"required column '{c}' is missing", col=c)
    for c in raw.columns:
        if c not in cols:
            known = ", ".join(cols)
            add(f"unknown column '{c}' is ignored (known: {known})", col=c, sev="warning")
    if missing:
        return out
    if not raw.rows:
        add("has a header but no data rows")
        return out

    id_col = next((c for c, s in cols.items() if s.check == "id" and s.required), None)
    seen: dict[str, int] = {}
    for i, (line, cells) in enumerate(raw.rows):
        if id_col and not _blank(cells.get(id_col)):
            out.ids.add(
                str(cells[id_col]).strip() if isinstance(cells[id_col], str) else str(cells[id_col])
            )
        typed: dict[str, Any] = {}
        ok = True
        for name, spec in cols.items():
            value = cells.get(name)
            if _blank(value):
                if spec.required:
                    add("value is missing", line, name)
                    ok = False
                    continue
                typed[name] = _default(spec)
                continue
            try:
                typed[name] = _convert(value, spec)
            except _BadCellError as exc:
                add(str(exc), line, name)
                ok = False
                continue
            reason = _check(typed[name], spec)
            if reason:
                add(reason, line, name)
                ok = False
        if id_col and isinstance(typed.get(id_col), str):
            key = typed[id_col]
            if key in seen:
                add(f"duplicate id {key!r} (first on {raw.unit} {seen[key]})", line, id_col)
                ok = False
            else:
                seen[key] = line
        if ok and bbox is not None and "lat" in typed and "lon" in typed:
            reason = _bbox_reason(typed["lat"], typed["lon"], bbox)
            if reason:
                add(reason, line, "lat/lon")
                ok = False
        if ok:
            out.rows.append((line, typed))
            out.geometries.append(raw.geometries[i] if raw.geometries else None)
    return out


def _inside(lat: float, lon: float, bbox: Sequence[float]) -> bool:
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


def _bbox_reason(lat: float, lon: float, bbox: Sequence[float]) -> str | None:
    if _inside(lat, lon, bbox):
        return None
    box = f"lon {bbox[0]:g}..{bbox[2]:g}, lat {bbox[1]:g}..{bbox[3]:g}"
    if _inside(lon, lat, bbox):
        return (
            f"latitude and longitude look swapped: ({lat:g}, {lon:g}) is outside the "
            f"dataset's bounding box ({box}) but ({lon:g}, {lat:g}) is inside"
        )
    return f"point (lat {lat:g}, lon {lon:g}) is outside the dataset's bounding box ({box})"
