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
    arc_src, arc_dst, arc_w, arc_edge : numpy arrays
        The arcs, sorted by (source row, target row, weight), so that the
        cheapest of parallel arcs comes first.
    edge_index : dict
        Link key to edge number.
    vertex_edges : dict
        Vertex id to the numbers of its edges.
    srlg_edges : dict
        Shared-risk group to the numbers of its edges.
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
    )


def csr(rg: RoutingGraph, alive: np.ndarray | None = None) -> csr_matrix:
    """CSR adjacency of the surviving arcs, the cheapest of parallel arcs kept."""
    src, dst, w = rg.arc_src, rg.arc_dst, rg.arc_w
    if alive is not None:
        keep = alive[rg.arc_edge]
        src, dst, w = src[keep], dst[keep], w[keep]
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
    m = csr(rg, alive)
    src_rows = np.array([rg.out_index[s] for s in sources], dtype=np.int64)
    dst_rows = np.array([rg.in_index[t] for t in targets], dtype=np.int64)
    if len(src_rows) == 0 or len(dst_rows) == 0:
        return np.zeros((len(src_rows), len(dst_rows)))
    limit = np.inf if cutoff is None else cutoff
    # Routes are symmetric (every link gives an arc each way at the same weight and transit
    # rules are the same both ways): search from the fewer side, and transpose if needed.
    forward = len(np.unique(dst_rows)) >= len(np.unique(src_rows))
    if forward:
        from_rows, to_rows = src_rows, dst_rows
    else:
        from_rows = np.array([rg.out_index[t] for t in targets], dtype=np.int64)
        to_rows = np.array([rg.in_index[s] for s in sources], dtype=np.int64)
    uniq, inv = np.unique(from_rows, return_inverse=True)
    dist = np.asarray(dijkstra(m, directed=True, indices=uniq, limit=limit))[inv][:, to_rows]
    out = dist if forward else np.ascontiguousarray(dist.T)
    # a source that is also a target: distance zero
    pos: dict[str, list[int]] = {}
    for j, t in enumerate(targets):
        pos.setdefault(t, []).append(j)
    for i, s in enumerate(sources):
        for j in pos.get(s, ()):
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
