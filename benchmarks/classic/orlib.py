"""Readers for Beasley's OR-Library facility-location formats.

``pmed`` (p-median): first line ``n m p``, then ``m`` lines ``i j cost`` of an
undirected graph (1-based vertices; when an edge appears twice, the last one
wins); the cost matrix is the all-pairs shortest-path matrix.

``cap`` (capacitated warehouse location): ``m n``; ``m`` lines ``capacity
fixed_cost``; then per customer its demand followed by the ``m`` costs of
serving all of its demand from each warehouse (lines may wrap).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from nisd.errors import InputError, Problem


@dataclass(frozen=True)
class PMedianInstance:
    name: str
    n: int
    p: int
    cost: np.ndarray  # (n, n) shortest-path distances


@dataclass(frozen=True)
class CapInstance:
    name: str
    capacity: np.ndarray  # (m,)
    fixed_cost: np.ndarray  # (m,)
    demand: np.ndarray  # (n,)
    cost: np.ndarray  # (n, m) cost of serving all of customer i's demand from j

    @property
    def uncapacitated(self) -> bool:
        """Every capacity is the word ``capacity`` (infinite)."""
        return bool(np.isinf(self.capacity).all())


def _numbers(path: Path) -> list[float]:
    try:
        return [float(t) for t in path.read_text(encoding="ascii").split()]
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError([Problem(path.name, f"is not an OR-Library number file: {exc}")]) from None


def read_pmed(path: str | Path) -> PMedianInstance:
    """Read a p-median instance and build its shortest-path cost matrix."""
    p = Path(path)
    nums = _numbers(p)
    if len(nums) < 3:
        raise InputError([Problem(p.name, "is too short for a p-median instance")])
    n, m, pp = (int(x) for x in nums[:3])
    body = nums[3:]
    if len(body) < 3 * m:
        raise InputError([Problem(p.name, f"announces {m} edges but holds {len(body) // 3}")])
    w: dict[tuple[int, int], float] = {}
    for k in range(m):
        i, j, c = int(body[3 * k]) - 1, int(body[3 * k + 1]) - 1, body[3 * k + 2]
        if not (0 <= i < n and 0 <= j < n):
            raise InputError(
                [Problem(p.name, f"edge {k + 1} names a vertex outside 1..{n}", k + 2)]
            )
        w[min(i, j), max(i, j)] = c  # the last occurrence wins
    rows = [a for a, _b in w] + [b for _a, b in w]
    cols = [b for _a, b in w] + [a for a, _b in w]
    vals = list(w.values()) * 2
    g = csr_matrix((vals, (rows, cols)), shape=(n, n))
    dist = shortest_path(g, directed=False)
    return PMedianInstance(p.stem, n, pp, dist)


def _cap_numbers(path: Path) -> list[float]:
    """The numbers of a ``cap`` file; the word ``capacity`` (the uncapacitated instances'
    capacity column) reads as infinity."""
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(path.name, f"is not an OR-Library number file: {exc}")]) from None
    out: list[float] = []
    for n, tok in enumerate(text.split()):
        if tok.lower() == "capacity":
            out.append(float("inf"))
            continue
        try:
            out.append(float(tok))
        except ValueError:
            raise InputError(
                [Problem(path.name, f"token {n + 1} ({tok!r}) is neither a number nor 'capacity'")]
            ) from None
    return out


def read_cap(path: str | Path) -> CapInstance:
    """Read a warehouse location instance (OR-Library ``cap``).

    Capacitated instances give each site's capacity as a number; the large
    uncapacitated ones (``capa``, ``capb``, ``capc``) write the word ``capacity``
    there, read as infinite capacity (:attr:`CapInstance.uncapacitated`): solve
    them with :func:`nisd.optimise.classic.ufl`.
    """
    p = Path(path)
    nums = _cap_numbers(p)
    if len(nums) < 2 or not all(np.isfinite(nums[:2])):
        raise InputError(
            [Problem(p.name, "does not start with the numbers of sites and customers")]
        )
    m, n = int(nums[0]), int(nums[1])
    need = 2 + 2 * m + n * (1 + m)
    if len(nums) < need:
        raise InputError([Problem(p.name, f"holds {len(nums)} numbers, expected {need}")])
    cap = np.array(nums[2 : 2 + 2 * m : 2])
    fixed = np.array(nums[3 : 3 + 2 * m : 2])
    rest = np.array(nums[2 + 2 * m : need]).reshape(n, 1 + m)
    if not (np.isfinite(fixed).all() and np.isfinite(rest).all()):
        raise InputError([Problem(p.name, "'capacity' stands where a cost or demand belongs")])
    return CapInstance(p.stem, cap, fixed, rest[:, 0], rest[:, 1:])


def read_optima(path: str | Path) -> dict[str, dict[str, float]]:
    """``optima.csv`` beside the instances: instance → {column: value}."""
    import csv

    out: dict[str, dict[str, float]] = {}
    with open(path, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["instance"]] = {
                k: float(v) for k, v in row.items() if k != "instance" and v not in ("", None)
            }
    return out
