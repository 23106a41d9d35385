"""What ``nisd topology`` reports about a planning graph."""

from __future__ import annotations

import networkx as nx
import numpy as np

from nisd.dataset import Dataset
from nisd.records.base import Record
from nisd.topology.graph import backbone
from nisd.topology.latency import latency_matrix


class Pair(Record):
    """Two vertices and the latency between them."""

    a: str
    b: str
    ms: float | None


class TopologySummary(Record):
    """Counts, bridges, cut vertices, 2-edge-connectivity and latency extremes."""

    name: str
    nodes: int
    edges: int
    graph_vertices: int
    graph_edges: int
    access_links: int
    connected: bool
    bridges: tuple[tuple[str, str], ...]
    articulation_points: tuple[str, ...]
    two_edge_connected: bool
    latency_max_ms: Pair | None = None
    latency_min_ms: Pair | None = None
    # the demand point farthest from its nearest candidate site (a: demand, b: site)
    demand_nearest_site_max_ms: Pair | None = None

    def text(self) -> str:
        lines = [
            self.name,
            f"  backbone: {self.nodes} nodes, {self.edges} links; planning graph "
            f"{self.graph_vertices} vertices, {self.graph_edges} edges "
            f"({self.access_links} access)",
            "  connected: "
            + ("yes" if self.connected else "NO")
            + "; 2-edge-connected: "
            + ("yes" if self.two_edge_connected else "no"),
            "  bridges: " + (", ".join(f"{a}–{b}" for a, b in self.bridges) or "none"),
            "  cut vertices: " + (", ".join(self.articulation_points) or "none"),
        ]
        m, n = self.latency_max_ms, self.latency_min_ms
        if m is not None and n is not None and m.ms is not None and n.ms is not None:
            lines.append(
                f"  backbone latency: max {m.ms:.2f} ms ({m.a}–{m.b}), "
                f"min {n.ms:.2f} ms ({n.a}–{n.b})"
            )
        d = self.demand_nearest_site_max_ms
        if d is not None and d.ms is not None:
            lines.append(f"  farthest demand from its nearest site: {d.a} → {d.b} {d.ms:.2f} ms")
        return "\n".join(lines)


def topology_summary(ds: Dataset, g: nx.MultiGraph) -> TopologySummary:
    """Counts, bridges, cut vertices, 2-edge-connectivity and latency extremes.

    Bridges and articulation points are those of the backbone (nodes and
    the links between them); parallel links between two nodes are not
    bridges. Latency extremes are over backbone node pairs and over each
    demand point's nearest candidate site.
    """
    bb = backbone(g)
    bridges = sorted(tuple(sorted((a, b))) for a, b in nx.bridges(bb)) if len(bb) else []
    arts = sorted(nx.articulation_points(nx.Graph(bb))) if len(bb) else []
    connected = len(bb) > 0 and nx.is_connected(bb)
    hi = lo = far = None
    ids = sorted(bb.nodes)
    if len(ids) > 1:
        lat = latency_matrix(g, ids, ids)
        iu = np.triu_indices(len(ids), 1)
        vals = lat[iu]
        fin = np.isfinite(vals)
        if fin.any():
            k_max = int(np.argmax(np.where(fin, vals, -1)))
            k_min = int(np.argmin(np.where(fin, vals, np.inf)))
            hi = Pair(a=ids[iu[0][k_max]], b=ids[iu[1][k_max]], ms=round(float(vals[k_max]), 4))
            lo = Pair(a=ids[iu[0][k_min]], b=ids[iu[1][k_min]], ms=round(float(vals[k_min]), 4))
    if ds.demand and ds.sites:
        dl = latency_matrix(g, ds.demand_ids, ds.site_ids)
        nearest = dl.min(axis=1)
        i = int(np.argmax(nearest))
        far = Pair(
            a=ds.demand_ids[i],
            b=ds.site_ids[int(np.argmin(dl[i]))],
            ms=round(float(nearest[i]), 4) if np.isfinite(nearest[i]) else None,
        )
    return TopologySummary(
        name=ds.config.name,
        nodes=bb.number_of_nodes(),
        edges=bb.number_of_edges(),
        graph_vertices=g.number_of_nodes(),
        graph_edges=g.number_of_edges(),
        access_links=sum(1 for *_e, d in g.edges(data=True) if d["access"]),
        connected=connected,
        bridges=tuple(bridges),
        articulation_points=tuple(arts),
        two_edge_connected=connected and not bridges,
        latency_max_ms=hi,
        latency_min_ms=lo,
        demand_nearest_site_max_ms=far,
    )
