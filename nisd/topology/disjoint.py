"""Pairs of disjoint routes between two vertices, and protected latency.

Three senses of "disjoint":

``link``
    No link (edge) in common. Exact: a minimum-cost flow of two units with
    unit capacities (Suurballe's method: two Dijkstra rounds with
    potentials), which gives the pair of least total latency.
``node``
    No intermediate vertex in common (hence no link either). Exact: the same
    flow after splitting every intermediate vertex into an in and an out
    vertex joined by a unit-capacity arc.
``srlg``
    No shared-risk link group in common. The general problem is NP-hard, so
    nisd enumerates first routes in increasing latency (Yen's k shortest
    simple paths, via :func:`networkx.shortest_simple_paths`) and pairs each
    with the shortest route avoiding all of its groups. The search stops
    with a proof of optimality once a first route is longer than half the
    best total found (the shorter route of any better pair would have been
    enumerated already); if ``max_candidates`` runs out first, the pair is
    the best found and ``proven`` is ``False``.

Routes never transit through leaves (sites and demand points attached by
access links). The protected latency of a pair is the latency of the longer
route: what traffic sees after a failure of the shorter one.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np

from nisd.topology.graph import transit_view

Mode = Literal["link", "node", "srlg"]
Edge = tuple[str, str, str]  # (from, to, link key) in route order
INF = float("inf")


@dataclass(frozen=True)
class Route:
    """One route: vertices in order and the links between them."""

    vertices: tuple[str, ...]
    links: tuple[Edge, ...]
    latency_ms: float


@dataclass(frozen=True)
class DisjointPair:
    """Two disjoint routes from ``s`` to ``t`` (shorter first)."""

    s: str
    t: str
    mode: str
    routes: tuple[Route, Route]
    proven: bool = True

    @property
    def total_ms(self) -> float:
        return self.routes[0].latency_ms + self.routes[1].latency_ms

    @property
    def protected_ms(self) -> float:
        """Latency of the longer route of the pair."""
        return max(r.latency_ms for r in self.routes)


class NoDisjointPair(nx.NetworkXNoPath):
    """No pair of disjoint routes exists; ``reason`` and ``cut`` say why."""

    def __init__(self, s: str, t: str, mode: str, reason: str, cut: Sequence[Any]) -> None:
        self.s, self.t, self.mode, self.reason, self.cut = s, t, mode, reason, tuple(cut)
        super().__init__(f"no {mode}-disjoint pair of routes {s} → {t}: {reason}")


def _wf(weight: str | Callable[[str, str, dict[str, Any]], float]) -> Callable[..., float]:
    if callable(weight):
        return weight
    return lambda u, v, d: float(d[weight])


# ---- minimum-cost two-unit flow on unit-capacity arcs ----------------------------------


def _two_flow(n: int, arcs: list[tuple[int, int, float, int]], s: int, t: int) -> list[int] | None:
    """Arcs (indices into ``arcs``) carrying flow in a min-cost 2-flow, or None."""
    m = len(arcs)
    head = [0] * (2 * m)
    cost = [0.0] * (2 * m)
    cap = [0] * (2 * m)
    adj: list[list[int]] = [[] for _ in range(n)]
    for i, (u, v, c, _e) in enumerate(arcs):
        head[2 * i], cost[2 * i], cap[2 * i] = v, c, 1
        head[2 * i + 1], cost[2 * i + 1], cap[2 * i + 1] = u, -c, 0
        adj[u].append(2 * i)
        adj[v].append(2 * i + 1)
    pot = [0.0] * n
    for _round in range(2):
        dist = [INF] * n
        pred = [-1] * n
        dist[s] = 0.0
        heap = [(0.0, s)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for a in adj[u]:
                if cap[a] <= 0:
                    continue
                v = head[a]
                nd = d + cost[a] + pot[u] - pot[v]
                if nd < dist[v] - 1e-12:
                    dist[v] = nd
                    pred[v] = a
                    heapq.heappush(heap, (nd, v))
        if dist[t] == INF:
            return None
        for v in range(n):
            if dist[v] < INF:
                pot[v] += dist[v]
        v = t
        while v != s:
            a = pred[v]
            cap[a] -= 1
            cap[a ^ 1] += 1
            v = head[a ^ 1]
    return [i for i in range(m) if cap[2 * i] == 0]


def _decompose(
    used: list[int], arcs: list[tuple[int, int, float, int]], s: int, t: int
) -> list[list[int]]:
    """Split the arcs of a 2-flow into two s→t arc sequences."""
    out_arcs: dict[int, list[int]] = {}
    for a in used:
        out_arcs.setdefault(arcs[a][0], []).append(a)
    paths = []
    for _ in range(2):
        path, v, guard = [], s, 0
        while v != t:
            a = out_arcs[v].pop()
            path.append(a)
            v = arcs[a][1]
            guard += 1
            if guard > len(arcs):  # pragma: no cover - a flow always decomposes
                raise RuntimeError("flow decomposition failed")
        paths.append(path)
    return paths


def _edge_list(g: nx.MultiGraph, wf: Callable[..., float]) -> list[tuple[str, str, str, float]]:
    return [
        (u, v, k, wf(u, v, d))
        for u, v, k, d in sorted(g.edges(keys=True, data=True), key=lambda e: e[2])
    ]


def _flow_pair(
    h: nx.MultiGraph, s: str, t: str, mode: Mode, wf: Callable[..., float]
) -> tuple[Route, Route] | None:
    verts = sorted(h.nodes)
    edges = _edge_list(h, wf)
    if mode == "link":
        idx = {v: i for i, v in enumerate(verts)}
        n = len(verts)
        vin = vout = idx
        arcs: list[tuple[int, int, float, int]] = []
    else:
        vin = {v: 2 * i for i, v in enumerate(verts)}
        vout = {v: 2 * i + 1 for i, v in enumerate(verts)}
        n = 2 * len(verts)
        arcs = []
        for v in verts:
            cap_arcs = 2 if v in (s, t) else 1
            for _ in range(cap_arcs):
                arcs.append((vin[v], vout[v], 0.0, -1))
    for ei, (u, v, _k, c) in enumerate(edges):
        arcs.append((vout[u], vin[v], c, ei))
        arcs.append((vout[v], vin[u], c, ei))
    src = vout[s]
    dst = vin[t]
    used = _two_flow(n, arcs, src, dst)
    if used is None:
        return None
    # a link used in both directions cancels out (cannot lower cost, but keep paths clean)
    by_edge: dict[int, list[int]] = {}
    for a in used:
        if arcs[a][3] >= 0:
            by_edge.setdefault(arcs[a][3], []).append(a)
    drop = {a for lst in by_edge.values() if len(lst) == 2 for a in lst}
    used = [a for a in used if a not in drop]
    routes = []
    names = {**{vin[v]: v for v in verts}, **{vout[v]: v for v in verts}}
    for arc_path in _decompose(used, arcs, src, dst):
        vs = [s]
        ls: list[Edge] = []
        lat = 0.0
        for a in arc_path:
            ei = arcs[a][3]
            if ei < 0:
                continue
            u, v, k, c = edges[ei]
            frm = vs[-1]
            to = v if frm == u else u
            vs.append(to)
            ls.append((frm, to, k))
            lat += c
        routes.append(Route(tuple(vs), tuple(ls), lat))
    routes.sort(key=lambda r: (r.latency_ms, r.links))
    del names
    return routes[0], routes[1]


# ---- SRLG-disjoint: enumerate first routes ------------------------------------------


def _subdivided(h: nx.MultiGraph, wf: Callable[..., float]) -> nx.Graph:
    """Each link becomes a vertex ``("link", key)`` between its ends, half weight each side."""
    sg = nx.Graph()
    for u, v, k, d in h.edges(keys=True, data=True):
        c = wf(u, v, d) / 2.0
        lv = ("link", k)
        sg.add_edge(u, lv, w=c)
        sg.add_edge(lv, v, w=c)
    sg.add_nodes_from(h.nodes)
    return sg


def _route_from_sub(path: list[Any], h: nx.MultiGraph, wf: Callable[..., float]) -> Route:
    vs = [x for x in path if not isinstance(x, tuple)]
    ks = [x[1] for x in path if isinstance(x, tuple)]
    links: list[Edge] = []
    lat = 0.0
    for (a, b), k in zip(itertools.pairwise(vs), ks, strict=True):
        links.append((a, b, k))
        lat += wf(a, b, h.edges[a, b, k])
    return Route(tuple(vs), tuple(links), lat)


def _srlg_pair(
    h: nx.MultiGraph, s: str, t: str, wf: Callable[..., float], max_candidates: int
) -> tuple[tuple[Route, Route] | None, bool]:
    sg = _subdivided(h, wf)
    best: tuple[Route, Route] | None = None
    best_total = INF
    proven = False
    groups = {k: set(d.get("srlg") or (k,)) for _u, _v, k, d in h.edges(keys=True, data=True)}
    try:
        gen = nx.shortest_simple_paths(sg, s, t, weight="w")
        for count, path in enumerate(gen):
            r1 = _route_from_sub(path, h, wf)
            if r1.latency_ms > best_total / 2.0 + 1e-12:
                proven = True
                break
            if count >= max_candidates:
                break
            banned = set().union(*(groups[k] for _a, _b, k in r1.links))
            rest = nx.MultiGraph()
            rest.add_nodes_from(h.nodes)
            rest.add_edges_from(
                (u, v, k, d)
                for u, v, k, d in h.edges(keys=True, data=True)
                if not (groups[k] & banned)
            )
            try:
                p2 = nx.shortest_path(_subdivided(rest, wf), s, t, weight="w")
            except (nx.NetworkXNoPath, nx.NodeNotFound):
                continue
            r2 = _route_from_sub(p2, rest, wf)
            if r1.latency_ms + r2.latency_ms < best_total - 1e-12:
                best_total = r1.latency_ms + r2.latency_ms
                best = (
                    (r1, r2) if (r1.latency_ms, r1.links) <= (r2.latency_ms, r2.links) else (r2, r1)
                )
        else:
            proven = True  # every simple path was tried
    except nx.NetworkXNoPath:
        proven = True
    return best, proven


def _srlg_disjoint(h: nx.MultiGraph, pair: tuple[Route, Route]) -> bool:
    def groups(r: Route) -> set[str]:
        out: set[str] = set()
        for a, b, k in r.links:
            out |= set(h.edges[a, b, k].get("srlg") or (k,))
        return out

    return not (groups(pair[0]) & groups(pair[1]))


# ---- why no pair -----------------------------------------------------------------------


def _explain(h: nx.MultiGraph, s: str, t: str, mode: Mode) -> NoDisjointPair:
    if s not in h or t not in h or not nx.has_path(h, s, t):
        return NoDisjointPair(s, t, mode, "no route at all", [])
    path = nx.shortest_path(h, s, t)
    if mode == "node":
        cuts = []
        for v in path[1:-1]:
            rest = h.subgraph([x for x in h.nodes if x != v])
            if not nx.has_path(rest, s, t):
                cuts.append(v)
        return NoDisjointPair(
            s, t, mode, "every route passes through cut vertex(es) " + ", ".join(cuts), cuts
        )
    if mode == "link":
        bridges = []
        for a, b in itertools.pairwise(path):
            for k in list(h[a][b]):
                rest = nx.MultiGraph(h)
                rest.remove_edge(a, b, k)
                if not nx.has_path(rest, s, t):
                    bridges.append((a, b))
        return NoDisjointPair(
            s,
            t,
            mode,
            "every route crosses bridge(s) " + ", ".join(f"{a}–{b}" for a, b in bridges),
            bridges,
        )
    groups_on_path: set[str] = set()
    for a, b in itertools.pairwise(path):
        for _k, d in h[a][b].items():
            groups_on_path |= set(d.get("srlg") or ())
    cut_groups = []
    for grp in sorted(groups_on_path):
        rest = nx.MultiGraph()
        rest.add_nodes_from(h.nodes)
        rest.add_edges_from(
            (u, v, k)
            for u, v, k, d in h.edges(keys=True, data=True)
            if grp not in (d.get("srlg") or ())
        )
        if not nx.has_path(rest, s, t):
            cut_groups.append(grp)
    if cut_groups:
        return NoDisjointPair(
            s, t, mode, "every route uses shared-risk group(s) " + ", ".join(cut_groups), cut_groups
        )
    return NoDisjointPair(s, t, mode, "no SRLG-disjoint pair among the routes searched", [])


def disjoint_pair(
    g: nx.MultiGraph,
    s: str,
    t: str,
    mode: Mode = "link",
    *,
    weight: str | Callable[[str, str, dict[str, Any]], float] = "latency_ms",
    max_candidates: int = 200,
) -> DisjointPair:
    """The pair of disjoint routes from ``s`` to ``t`` with least total latency.

    Parameters
    ----------
    g : networkx.MultiGraph
        Planning graph from :func:`nisd.topology.build_graph` (or any
        multigraph whose vertices may carry ``transit=False``).
    s, t : str
        End vertices.
    mode : {"link", "node", "srlg"}
        Sense of disjointness (module docstring).
    weight : str or callable
        Edge attribute or ``f(u, v, data)``.
    max_candidates : int
        SRLG mode only: first routes to try before giving up the proof.

    Returns
    -------
    DisjointPair

    Raises
    ------
    NoDisjointPair
        With the bridges, cut vertices or shared-risk groups every route crosses.

    Examples
    --------
    >>> G = nx.MultiGraph()
    >>> for k, (u, v) in enumerate([("s", "a"), ("a", "t"), ("s", "b"), ("b", "t")]):
    ...     _ = G.add_edge(u, v, key=f"l{k}", latency_ms=1.0 + k)
    >>> disjoint_pair(G, "s", "t").protected_ms
    7.0
    """
    if mode not in ("link", "node", "srlg"):
        raise ValueError(f"mode must be link, node or srlg, not {mode!r}")
    if s == t:
        raise ValueError("s and t must differ")
    wf = _wf(weight)
    h = transit_view(g, s, t) if all("transit" in d for _, d in g.nodes(data=True)) else g
    if mode == "srlg":
        # The least-total link-disjoint pair bounds every SRLG-disjoint pair from
        # below; when it shares no group it is the SRLG optimum, with proof.
        base = _flow_pair(h, s, t, "link", wf) if s in h and t in h else None
        if base is None:
            raise _explain(h, s, t, mode)
        if _srlg_disjoint(h, base):
            return DisjointPair(s, t, mode, base, True)
        pair, proven = _srlg_pair(h, s, t, wf, max_candidates)
        if pair is None:
            raise _explain(h, s, t, mode)
        return DisjointPair(s, t, mode, pair, proven)
    found = _flow_pair(h, s, t, mode, wf) if s in h and t in h else None
    if found is None:
        raise _explain(h, s, t, mode)
    return DisjointPair(s, t, mode, found, True)


def protected_latency_matrix(
    g: nx.MultiGraph,
    sources: Sequence[str],
    targets: Sequence[str],
    mode: Mode = "link",
    *,
    weight: str = "latency_ms",
) -> np.ndarray:
    """Protected latency (the longer route of the best disjoint pair) for all pairs.

    ``inf`` where no disjoint pair exists; ``0`` where source equals target.
    """
    out = np.full((len(sources), len(targets)), INF)
    for i, s in enumerate(sources):
        for j, t in enumerate(targets):
            if s == t:
                out[i, j] = 0.0
                continue
            try:
                out[i, j] = disjoint_pair(g, s, t, mode, weight=weight).protected_ms
            except NoDisjointPair:
                pass
    return out
