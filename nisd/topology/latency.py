"""Shortest-route latency matrices over the planning graph.

The matrices come from :func:`scipy.sparse.csgraph.dijkstra` over a sparse
directed copy of the graph, one call for all sources, rather than a Python
loop of networkx Dijkstra calls. Leaves (sites and demand points attached by
access links) are split into an *out* vertex, which only sends, and an *in*
vertex, which only receives, so that no route transits through them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from nisd.dataset import Dataset

Weight = str | Callable[[str, str, dict[str, Any]], float]


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
    arc_src, arc_dst, arc_w : numpy arrays
        The arcs, for masking failed edges.
    """

    n: int
    out_index: dict[str, int]
    in_index: dict[str, int]
    edge_keys: list[tuple[str, str, str]]
    arc_src: np.ndarray
    arc_dst: np.ndarray
    arc_w: np.ndarray
    arc_edge: np.ndarray

    def matrix(self, alive: np.ndarray | None = None) -> csr_matrix:
        """The CSR adjacency, keeping only arcs whose edge is ``alive``."""
        if alive is None:
            src, dst, w = self.arc_src, self.arc_dst, self.arc_w
        else:
            keep = alive[self.arc_edge]
            src, dst, w = self.arc_src[keep], self.arc_dst[keep], self.arc_w[keep]
        # scipy treats explicit zeros as missing arcs: lift them to a tiny weight
        w = np.maximum(w, 1e-12)
        m = csr_matrix((w, (src, dst)), shape=(self.n, self.n))
        m.sum_duplicates()  # duplicates would be summed; keep the minimum instead
        return m


def _weight_fn(weight: Weight) -> Callable[[str, str, dict[str, Any]], float]:
    if callable(weight):
        return weight
    return lambda u, v, d: float(d[weight])


def routing_graph(g: nx.MultiGraph, weight: Weight = "latency_ms") -> RoutingGraph:
    """Build the :class:`RoutingGraph` of ``g``.

    Parallel edges are kept as separate arcs; :meth:`RoutingGraph.matrix`
    keeps the cheapest of them between two rows.
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
    for i, (u, v, k, d) in enumerate(sorted(g.edges(keys=True, data=True), key=lambda e: e[2])):
        keys.append((u, v, k))
        c = wf(u, v, d)
        src += [out_index[u], out_index[v]]
        dst += [in_index[v], in_index[u]]
        w += [c, c]
        eidx += [i, i]
    return RoutingGraph(
        n=n,
        out_index=out_index,
        in_index=in_index,
        edge_keys=keys,
        arc_src=np.array(src, dtype=np.int64),
        arc_dst=np.array(dst, dtype=np.int64),
        arc_w=np.array(w, dtype=float),
        arc_edge=np.array(eidx, dtype=np.int64),
    )


def _min_duplicates(rg: RoutingGraph, alive: np.ndarray | None) -> csr_matrix:
    """CSR matrix taking the minimum over parallel arcs."""
    if alive is None:
        keep = np.ones(len(rg.arc_src), dtype=bool)
    else:
        keep = alive[rg.arc_edge]
    src, dst, w = rg.arc_src[keep], rg.arc_dst[keep], np.maximum(rg.arc_w[keep], 1e-12)
    order = np.lexsort((w, dst, src))
    src, dst, w = src[order], dst[order], w[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    return csr_matrix((w[first], (src[first], dst[first])), shape=(rg.n, rg.n))


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
    rg = g if isinstance(g, RoutingGraph) else routing_graph(g, weight)
    m = _min_duplicates(rg, alive)
    src_rows = np.array([rg.out_index[s] for s in sources], dtype=np.int64)
    dst_rows = np.array([rg.in_index[t] for t in targets], dtype=np.int64)
    if len(src_rows) == 0 or len(dst_rows) == 0:
        return np.zeros((len(src_rows), len(dst_rows)))
    uniq, inv = np.unique(src_rows, return_inverse=True)
    limit = np.inf if cutoff is None else cutoff
    dist = dijkstra(m, directed=True, indices=uniq, limit=limit)
    out = np.asarray(dist)[inv][:, dst_rows]
    # a source that is also a target: distance zero
    for i, s in enumerate(sources):
        for j, t in enumerate(targets):
            if s == t:
                out[i, j] = 0.0
    return out


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
