"""Small helpers for tests: editing CSV files, routes by networkx, random geometry."""

from __future__ import annotations

import csv
import io
import itertools
import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from hypothesis import strategies as st

from nisd.config import PlanConfig
from nisd.optimise.problem import PlacementProblem


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


def geometry(draw: st.DrawFn, n_i: int, n_j: int, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Users and sites drawn on a square of ``span`` km: latency (I, J) at 0.01 ms per km,
    site-to-site distance (J, J)."""
    pts = np.array(
        draw(
            st.lists(
                st.tuples(st.integers(0, span), st.integers(0, span)),
                min_size=n_i + n_j,
                max_size=n_i + n_j,
            )
        ),
        float,
    )
    dem, sit = pts[:n_i], pts[n_i:]
    lat = np.sqrt(((dem[:, None] - sit[None]) ** 2).sum(axis=2)) * 0.01
    dist = np.sqrt(((sit[:, None] - sit[None]) ** 2).sum(axis=2))
    return lat, dist


def two_type_costs(
    draw: st.DrawFn, n_j: int, cheap: tuple[int, int], extra: tuple[int, int]
) -> np.ndarray:
    """(J, 2) annual costs of a cheap type and a dear one (cheap + a drawn extra); some
    sites may only be built cheap."""
    low = np.array(draw(st.lists(st.integers(*cheap), min_size=n_j, max_size=n_j)), float)
    cost = np.column_stack([low, low + draw(st.integers(*extra))])
    if draw(st.booleans()):
        cost[draw(st.integers(0, n_j - 1)), 1] = np.inf
    return cost


def tiny_rollout_config(**ro: Any) -> PlanConfig:
    """A small roll-out's scenario (2030–2032 unless ``ro`` says otherwise): two copies,
    100 km apart, no crisis sets, no protection; ``ro`` overrides the [rollout] table."""
    return PlanConfig.model_validate(
        {
            "k": 2,
            "separation_km": 100.0,
            "hazards": "off",
            "protection": False,
            "crisis": {"sets": []},
            "rollout": {
                "first_year": 2030,
                "last_year": 2032,
                "discount_rate": 0.05,
                "lead_time_years": {"core": 2, "regional": 1},
                "capital_cost_msek": {"core": 300.0, "regional": 80.0},
                **ro,
            },
        }
    )


def assignable(pp: PlacementProblem, opened: dict[int, int]) -> bool:
    """Every user gets a primary and a backup among ``opened`` (site → type), within its
    bounds, far enough apart, primary load within capacity: by enumeration."""
    conflict = pp.conflict()
    options = []
    for i in range(pp.n_demand):
        pairs = [
            (a, b)
            for a in opened
            for b in opened
            if a != b
            and pp.latency[i, a] <= pp.primary_ms[i] + 1e-9
            and pp.latency[i, b] <= pp.backup_ms[i] + 1e-9
            and not conflict[a, b]
        ]
        if not pairs:
            return False
        options.append(pairs)
    for choice in itertools.product(*options):
        used: dict[int, float] = {}
        for i, (a, _b) in enumerate(choice):
            used[a] = used.get(a, 0.0) + pp.load[i] * pp.load_factor
        if all(v <= pp.capacity[a, opened[a]] + 1e-9 for a, v in used.items()):
            return True
    return False
