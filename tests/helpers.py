"""Small helpers for tests: editing CSV files, routes by networkx."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import networkx as nx


def read_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def write_rows(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> None:
    header = header or list(rows[0].keys())
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set a cell of data row ``row`` (0-based; CSV line row + 2)."""
    rows = read_rows(path)
    rows[row][column] = value
    write_rows(path, rows)


def transit_route_ms(g: nx.MultiGraph, u: str, s: str) -> float:
    """networkx's shortest route from ``u`` to ``s`` walking only through transit vertices
    (``inf`` when none): the reference for nisd's latency matrices."""
    h = g.subgraph([v for v in g if g.nodes[v]["transit"] or v in (u, s)])
    try:
        return float(nx.shortest_path_length(h, u, s, weight="latency_ms"))
    except nx.NetworkXNoPath:
        return math.inf
