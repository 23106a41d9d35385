"""Shortest-route latency matrices over the planning graph.

The matrices come from :func:`scipy.sparse.csgraph.dijkstra` over a sparse
directed copy of the graph, one call for all sources, rather than a Python
loop of networkx Dijkstra calls. Leaves (sites and demand points attached by
access links) are split into an *out* vertex, which only sends, and an *in*
vertex, which only receives, so that no route transits through them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from nisd.dataset import Dataset

Weight = str | Callable[[str, str, dict[str, Any]], float]


LATENCY_TOL_MS = 1e-9  # a route is within a latency bound up to this (float sums of hops)


def in_time(latency: np.ndarray, bound: np.ndarray | float) -> np.ndarray:
    """Where ``latency`` (ms) is within ``bound`` (ms, broadcast), up to the float tolerance
    :data:`LATENCY_TOL_MS`: the one test of "reaches in time" of the model, the checker
    and the evaluator."""
    return np.asarray(latency <= np.asarray(bound) + LATENCY_TOL_MS)


@dataclass(frozen=True)
class RoutingGraph:
    """A sparse, directed, transit-aware copy of a planning graph.

    Attributes
    ----------
    out_index, in_index : dict
        Vertex id to the row that sends from it / receives at it (equal for
        transit vertices).
    edge_keys : list of (u, v, key)
        The graph edge of each arc pair; arcs ``2 i`` and ``2 i + 1`` carry
        edge ``i`` in both directions.
    arc_src, arc_dst, arc_w, arc_edge : numpy arrays
        The arcs, sorted by (source row, target row, weight), so that the
        cheapest of parallel arcs comes first.
    edge_index : dict
        Link key to edge number.
    vertex_edges : dict
        Vertex id to the numbers of its edges.
    srlg_edges : dict
        Shared-risk group to the numbers of its edges.
    leaf : numpy bool array
        Per row: the sending vertex of a non-transit vertex (its receiving vertex is the
        next row).
    """

    n: int
    out_index: dict[str, int]
    in_index: dict[str, int]
    edge_keys: list[tuple[str, str, str]]
    arc_src: np.ndarray
    arc_dst: np.ndarray
    arc_w: np.ndarray
    arc_edge: np.ndarray
    edge_index: dict[str, int]
    vertex_edges: dict[str, np.ndarray]
    srlg_edges: dict[str, np.ndarray]
    leaf: np.ndarray

    def arcs_from(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end (exclusive) of each row's outgoing arcs (arcs are sorted by row)."""
        return (
            np.searchsorted(self.arc_src, rows, side="left"),
            np.searchsorted(self.arc_src, rows, side="right"),
        )

    def alive_mask(
        self,
        vertices: Iterable[str] = (),
        links: Iterable[str] = (),
        srlgs: Iterable[str] = (),
    ) -> np.ndarray:
        """Per edge: survives the loss of these vertices, links and shared-risk groups."""
        alive = np.ones(len(self.edge_keys), dtype=bool)
        for v in vertices:
            if v in self.vertex_edges:
                alive[self.vertex_edges[v]] = False
        for k in links:
            if k in self.edge_index:
                alive[self.edge_index[k]] = False
        for grp in srlgs:
            if grp in self.srlg_edges:
                alive[self.srlg_edges[grp]] = False
        return alive

    def routes_alive(self, alive: np.ndarray, lost: Iterable[str]) -> np.ndarray:
        """``alive`` (per edge) with the edges of the ``lost`` vertices that are leaves
        counted as alive again.

        No route passes through a leaf, so those edges change no route between other
        vertices: two failures with the same result have the same latency between
        every pair of vertices that neither loses (the loss of any one site leaves
        every other route as it was), and a search over the result gives it. The lost
        leaves' own latencies are then finite: they must be read with the failure's
        mask of what is up.
        """
        keep = np.asarray(alive, dtype=bool).copy()
        for v in lost:
            row = self.out_index.get(v)
            if row is not None and self.leaf[row] and v in self.vertex_edges:
                keep[self.vertex_edges[v]] = True
        return keep


def _weight_fn(weight: Weight) -> Callable[[str, str, dict[str, Any]], float]:
    if callable(weight):
        return weight
    return lambda u, v, d: float(d[weight])


def routing_graph(g: nx.MultiGraph, weight: Weight = "latency_ms") -> RoutingGraph:
    """Build the :class:`RoutingGraph` of ``g``.

    Parallel edges are kept as separate arcs; :func:`csr` keeps the cheapest
    surviving one between two rows.
    """
    wf = _weight_fn(weight)
    out_index: dict[str, int] = {}
    in_index: dict[str, int] = {}
    n = 0
    for v in sorted(g.nodes):
        out_index[v] = n
        if g.nodes[v].get("transit", True):
            in_index[v] = n
            n += 1
        else:
            in_index[v] = n + 1
            n += 2
    src: list[int] = []
    dst: list[int] = []
    w: list[float] = []
    eidx: list[int] = []
    keys: list[tuple[str, str, str]] = []
    vedges: dict[str, list[int]] = {}
    sedges: dict[str, list[int]] = {}
    for i, (u, v, k, d) in enumerate(sorted(g.edges(keys=True, data=True), key=lambda e: e[2])):
        keys.append((u, v, k))
        c = max(wf(u, v, d), 1e-12)  # scipy reads a zero as a missing arc
        src += [out_index[u], out_index[v]]
        dst += [in_index[v], in_index[u]]
        w += [c, c]
        eidx += [i, i]
        vedges.setdefault(u, []).append(i)
        vedges.setdefault(v, []).append(i)
        for grp in d.get("srlg") or ():
            sedges.setdefault(grp, []).append(i)
    a_src, a_dst, a_w = np.array(src, np.int64), np.array(dst, np.int64), np.array(w, float)
    order = np.lexsort((a_w, a_dst, a_src))
    return RoutingGraph(
        n=n,
        out_index=out_index,
        in_index=in_index,
        edge_keys=keys,
        arc_src=a_src[order],
        arc_dst=a_dst[order],
        arc_w=a_w[order],
        arc_edge=np.array(eidx, dtype=np.int64)[order],
        edge_index={k: i for i, (_u, _v, k) in enumerate(keys)},
        vertex_edges={v: np.array(e, np.int64) for v, e in vedges.items()},
        srlg_edges={s: np.array(e, np.int64) for s, e in sedges.items()},
        leaf=_leaf_rows(n, out_index, in_index),
    )


def _leaf_rows(n: int, out_index: dict[str, int], in_index: dict[str, int]) -> np.ndarray:
    """Per row: is it the sending vertex of a non-transit vertex (a leaf)?"""
    leaf = np.zeros(n, dtype=bool)
    for v, r in out_index.items():
        if in_index[v] != r:
            leaf[r] = True
    return leaf


def csr(rg: RoutingGraph, alive: np.ndarray | None = None) -> csr_matrix:
    """CSR adjacency of the surviving arcs, the cheapest of parallel arcs kept."""
    src, dst, w = rg.arc_src, rg.arc_dst, rg.arc_w
    if alive is not None:
        keep = alive[rg.arc_edge]
        src, dst, w = src[keep], dst[keep], w[keep]
    return _adjacency(src, dst, w, rg.n)


def _adjacency(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> csr_matrix:
    """CSR matrix of arcs sorted by (source, target, weight): the cheapest of parallel
    arcs, the first of each pair, is kept."""
    first = np.ones(len(src), dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    return csr_matrix((w[first], (src[first], dst[first])), shape=(n, n))


@dataclass(frozen=True)
class LatencyRows:
    """A latency matrix kept as its distinct rows: row ``i`` is ``rows[index[i]]``.

    Demand points at one place attached to the same backbone nodes (every agency's
    users in one municipality) have the same latency to every site, after any failure
    that treats their access links alike; a matrix of thousands of users then has a
    few hundred distinct rows.
    """

    rows: np.ndarray  # (R, T)
    index: np.ndarray  # (S,) into rows
    # what :meth:`within` found per bound (scenarios that change no route share one
    # matrix and ask it the same question)
    _within: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, matrix: np.ndarray) -> LatencyRows:
        """The distinct rows of a whole matrix."""
        a = np.asarray(matrix, float)
        first, index = unique_rows(a)
        return cls(a[first], index)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.index), self.rows.shape[1])

    def row(self, i: int) -> np.ndarray:
        """The latency from source ``i`` to every target."""
        return np.asarray(self.rows[self.index[i]])

    def full(self) -> np.ndarray:
        """The whole ``(S, T)`` matrix."""
        return np.asarray(self.rows[self.index])

    def columns(self, cols: Sequence[int] | np.ndarray) -> np.ndarray:
        """The whole matrix of the targets ``cols`` only, ``(S, len(cols))``."""
        return np.asarray(self.rows[:, np.asarray(cols, dtype=np.int64)][self.index])

    def within(self, bound: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sources grouped by (latency row, bound): the first source of each group, each
        source's group, and per group which targets it reaches within its bound (``(G, T)``
        bool). Sources of one group reach the same targets in time."""
        bound = np.asarray(bound, float)
        key = bound.tobytes()
        if key not in self._within:
            first, group = unique_rows(np.stack([self.index.astype(float), bound], axis=1))
            reach = in_time(self.rows[self.index[first]], bound[first, None])
            for a in (first, group, reach):
                a.setflags(write=False)
            self._within[key] = (first, group, reach)
        return self._within[key]


def unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First index of each distinct row of ``a`` (in row order) and each row's label
    (its position in that list): ``a[first][label]`` equals ``a``.

    A sort over the columns (``numpy.unique(axis=0)`` compares rows as records, several
    times slower on the many small matrices nisd dedupes).
    """
    a = np.asarray(a)
    if a.ndim != 2 or len(a) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(len(a), dtype=np.int64)
    if a.dtype == bool:
        a = np.packbits(a, axis=1)
    order = np.lexsort(a.T[::-1]) if a.shape[1] else np.arange(len(a))
    s = a[order]
    new = np.ones(len(s), dtype=bool)
    new[1:] = (s[1:] != s[:-1]).any(axis=1)
    grp = np.cumsum(new) - 1
    first_sorted = order[new]
    # number the groups by their first row
    rank = np.empty(len(first_sorted), dtype=np.int64)
    by_first = np.argsort(first_sorted, kind="stable")
    rank[by_first] = np.arange(len(first_sorted))
    label = np.empty(len(a), dtype=np.int64)
    label[order] = rank[grp]
    return np.sort(first_sorted), label


def twins(rg: RoutingGraph, rows: np.ndarray, alive: np.ndarray | None = None) -> np.ndarray:
    """A class label per row: rows of one class have the same distance to every other row.

    Two leaves (vertices no route transits) whose surviving arcs go to the same rows at
    the same weights are twins: every route from either starts with one of those arcs.
    Every other row is its own class.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    start, end = rg.arcs_from(rows)
    leaf = rg.leaf[rows]
    deg = np.where(leaf, end - start, 0)
    width = int(deg.max()) if len(deg) else 0
    # one line per row: [own row (-1 for a leaf), (target, weight) of each surviving arc]
    sig = np.full((len(rows), 1 + 2 * width), -1.0)
    sig[:, 0] = np.where(leaf, -1, rows)
    if width:
        arc = start[:, None] + np.arange(width)[None, :]
        there = np.arange(width)[None, :] < deg[:, None]
        arc = np.where(there, arc, 0)
        if alive is not None:
            there &= alive[rg.arc_edge[arc]]
        sig[:, 1::2] = np.where(there, rg.arc_dst[arc], -1)
        sig[:, 2::2] = np.where(there, rg.arc_w[arc], -1.0)
    return unique_rows(sig)[1]


def _search(
    rg: RoutingGraph, alive: np.ndarray | None, frm: np.ndarray, to: np.ndarray, limit: float
) -> np.ndarray:
    """Shortest routes from rows ``frm`` to rows ``to`` (both distinct), ``(len(frm), len(to))``.

    No route passes through a leaf, so the search only needs the transit vertices, the
    leaves it starts from and the leaves it ends at: the graph is cut down to those
    before searching (a country of thousands of users has a few dozen backbone nodes).
    """
    use = ~rg.leaf
    use[np.nonzero(rg.leaf)[0] + 1] = False  # leaves' in-vertices
    use[frm] = True
    use[to] = True
    keep = use[rg.arc_src] & use[rg.arc_dst]
    if alive is not None:
        keep &= alive[rg.arc_edge]
    verts = np.nonzero(use)[0]
    new = np.full(rg.n, -1, dtype=np.int64)
    new[verts] = np.arange(len(verts))
    # renumbering keeps the order of rows, so the arcs stay sorted
    m = _adjacency(new[rg.arc_src[keep]], new[rg.arc_dst[keep]], rg.arc_w[keep], len(verts))
    dist = dijkstra(m, directed=True, indices=new[frm], limit=limit)
    return np.asarray(dist)[:, new[to]]


def latency_rows(
    g: nx.MultiGraph | RoutingGraph,
    sources: Sequence[str],
    targets: Sequence[str],
    *,
    weight: Weight = "latency_ms",
    cutoff: float | None = None,
    alive: np.ndarray | None = None,
) -> LatencyRows:
    """Shortest-route latency from each source to each target, as distinct rows.

    Parameters and units as :func:`latency_matrix`; twins (:func:`twins`) are searched
    once, from whichever side has fewer distinct vertices (routes are symmetric: every
    link gives an arc each way at the same weight, and transit rules are the same both
    ways).
    """
    rg = g if isinstance(g, RoutingGraph) else routing_graph(g, weight)
    n_s, n_t = len(sources), len(targets)
    if n_s == 0 or n_t == 0:
        return LatencyRows(np.zeros((min(n_s, 1), n_t)), np.zeros(n_s, dtype=np.int64))
    limit = np.inf if cutoff is None else cutoff
    s_out = np.array([rg.out_index[s] for s in sources], dtype=np.int64)
    t_out = np.array([rg.out_index[t] for t in targets], dtype=np.int64)
    s_cls = twins(rg, s_out, alive)
    t_cls = twins(rg, t_out, alive)
    # a vertex on both sides keeps its own row (its distance to itself is zero)
    both = set(sources) & set(targets)
    if both:
        s_cls = np.where([s in both for s in sources], -1 - np.arange(n_s), s_cls)
    s_first, s_inv = unique_rows(s_cls[:, None])
    t_first, t_inv = unique_rows(t_cls[:, None])
    forward = len(t_first) >= len(s_first)
    if forward:
        frm = s_out[s_first]
        to = np.array([rg.in_index[targets[k]] for k in t_first.tolist()], dtype=np.int64)
    else:
        frm = t_out[t_first]
        to = np.array([rg.in_index[sources[k]] for k in s_first.tolist()], dtype=np.int64)
    reps = _search(rg, alive, frm, to, limit)
    if not forward:
        reps = np.ascontiguousarray(reps.T)
    out = np.ascontiguousarray(reps[:, t_inv])
    if both:
        pos: dict[str, list[int]] = {}
        for j, t in enumerate(targets):
            pos.setdefault(t, []).append(j)
        for i, s in enumerate(sources):
            for j in pos.get(s, ()):
                out[s_inv[i], j] = 0.0
    return LatencyRows(out, np.asarray(s_inv, dtype=np.int64).reshape(-1))


def latency_matrix(
    g: nx.MultiGraph | RoutingGraph,
    sources: Sequence[str],
    targets: Sequence[str],
    *,
    weight: Weight = "latency_ms",
    cutoff: float | None = None,
    alive: np.ndarray | None = None,
) -> np.ndarray:
    """Shortest-route latency from each source to each target.

    Parameters
    ----------
    g : networkx.MultiGraph or RoutingGraph
        The planning graph (or its prepared routing copy, to reuse).
    sources, targets : sequence of str
        Vertex ids.
    weight : str or callable
        Edge attribute or ``f(u, v, data)``; ignored for a RoutingGraph.
    cutoff : float, optional
        Routes longer than this are reported as ``inf`` (faster on big graphs).
    alive : numpy bool array, optional
        Per edge of the routing graph, whether it survives.

    Returns
    -------
    numpy.ndarray
        ``(len(sources), len(targets))`` in the weight's unit (ms); ``inf``
        where no route exists (within the cutoff).

    Examples
    --------
    >>> G = nx.MultiGraph()
    >>> G.add_edge("a", "b", key="l1", latency_ms=1.0)
    'l1'
    >>> G.add_edge("b", "c", key="l2", latency_ms=2.0)
    'l2'
    >>> latency_matrix(G, ["a"], ["b", "c"]).tolist()
    [[1.0, 3.0]]
    """
    return latency_rows(g, sources, targets, weight=weight, cutoff=cutoff, alive=alive).full()


def distance_matrix_km(ds: Dataset, sources: Iterable[str], targets: Iterable[str]) -> np.ndarray:
    """Straight-line distance in km in the dataset's metric CRS."""
    a = [ds.position(x) for x in sources]
    b = [ds.position(x) for x in targets]
    if not a or not b:
        return np.zeros((len(a), len(b)))
    pa = ds.metric_xy([p[0] for p in a], [p[1] for p in a])
    pb = ds.metric_xy([p[0] for p in b], [p[1] for p in b])
    diff = pa[:, None, :] - pb[None, :, :]
    return np.sqrt((diff**2).sum(axis=2))


def demand_site_latency(g: nx.MultiGraph, ds: Dataset, cutoff: float | None = None) -> np.ndarray:
    """Latency matrix from every demand point to every candidate site (ms)."""
    return latency_matrix(g, ds.demand_ids, ds.site_ids, cutoff=cutoff)


def site_site_latency(g: nx.MultiGraph, ds: Dataset, cutoff: float | None = None) -> np.ndarray:
    """Latency matrix between candidate sites (ms)."""
    return latency_matrix(g, ds.site_ids, ds.site_ids, cutoff=cutoff)
