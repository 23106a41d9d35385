"""What ``nisd topology`` reports about a planning graph."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from nisd.dataset import Dataset
from nisd.topology.graph import backbone
from nisd.topology.latency import latency_matrix


def topology_summary(ds: Dataset, g: nx.MultiGraph) -> dict[str, Any]:
    """Counts, bridges, cut vertices, 2-edge-connectivity and latency extremes.

    Bridges and articulation points are those of the backbone (nodes and
    the links between them); parallel links between two nodes are not
    bridges. Latency extremes are over backbone node pairs and over each
    demand point's nearest candidate site.
    """
    bb = backbone(g)
    bridges = sorted(sorted((a, b)) for a, b in nx.bridges(bb)) if len(bb) else []
    arts = sorted(nx.articulation_points(nx.Graph(bb))) if len(bb) else []
    connected = len(bb) > 0 and nx.is_connected(bb)
    out: dict[str, Any] = {
        "name": ds.config.name,
        "nodes": bb.number_of_nodes(),
        "edges": bb.number_of_edges(),
        "graph_vertices": g.number_of_nodes(),
        "graph_edges": g.number_of_edges(),
        "access_links": sum(1 for *_e, d in g.edges(data=True) if d["access"]),
        "connected": connected,
        "bridges": [list(b) for b in bridges],
        "articulation_points": arts,
        "two_edge_connected": connected and not bridges,
    }
    ids = sorted(bb.nodes)
    if len(ids) > 1:
        lat = latency_matrix(g, ids, ids)
        iu = np.triu_indices(len(ids), 1)
        vals = lat[iu]
        fin = np.isfinite(vals)
        if fin.any():
            k_max = int(np.argmax(np.where(fin, vals, -1)))
            k_min = int(np.argmin(np.where(fin, vals, np.inf)))
            out["latency_max_ms"] = {
                "a": ids[iu[0][k_max]],
                "b": ids[iu[1][k_max]],
                "ms": round(float(vals[k_max]), 4),
            }
            out["latency_min_ms"] = {
                "a": ids[iu[0][k_min]],
                "b": ids[iu[1][k_min]],
                "ms": round(float(vals[k_min]), 4),
            }
    if ds.demand and ds.sites:
        dl = latency_matrix(g, ds.demand_ids, ds.site_ids)
        nearest = dl.min(axis=1)
        i = int(np.argmax(nearest))
        out["demand_nearest_site_max_ms"] = {
            "demand": ds.demand_ids[i],
            "site": ds.site_ids[int(np.argmin(dl[i]))],
            "ms": round(float(nearest[i]), 4) if np.isfinite(nearest[i]) else None,
        }
    return out


def format_topology(s: dict[str, Any]) -> str:
    lines = [
        s["name"],
        f"  backbone: {s['nodes']} nodes, {s['edges']} links; planning graph "
        f"{s['graph_vertices']} vertices, {s['graph_edges']} edges ({s['access_links']} access)",
        "  connected: "
        + ("yes" if s["connected"] else "NO")
        + "; 2-edge-connected: "
        + ("yes" if s["two_edge_connected"] else "no"),
        "  bridges: " + (", ".join(f"{a}–{b}" for a, b in s["bridges"]) or "none"),
        "  cut vertices: " + (", ".join(s["articulation_points"]) or "none"),
    ]
    if "latency_max_ms" in s:
        m, n = s["latency_max_ms"], s["latency_min_ms"]
        lines.append(
            f"  backbone latency: max {m['ms']:.2f} ms ({m['a']}–{m['b']}), "
            f"min {n['ms']:.2f} ms ({n['a']}–{n['b']})"
        )
    if "demand_nearest_site_max_ms" in s and s["demand_nearest_site_max_ms"]["ms"] is not None:
        d = s["demand_nearest_site_max_ms"]
        lines.append(
            f"  farthest demand from its nearest site: {d['demand']} → {d['site']} {d['ms']:.2f} ms"
        )
    return "\n".join(lines)
