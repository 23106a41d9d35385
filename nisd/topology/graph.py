"""The planning graph: backbone nodes, candidate sites and demand points.

Every edge is a fibre link with ``length_km``, ``latency_ms`` and the
shared-risk link groups (``srlg``) it belongs to. The graph is a
:class:`networkx.MultiGraph` keyed by link id, because real backbones run
parallel fibres between the same two cities on separate paths.

Sites and demand points that no link in ``links.csv`` names are *leaves*:
they attach by access links to their nearest backbone nodes (dual-homed to
two different nodes by default, ``[network] access_links``), each access
link its own shared-risk group, and routes never transit through them. A
site or demand point that ``links.csv`` names is part of the network and may
carry transit traffic.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import partial

import networkx as nx
import numpy as np

from nisd.dataset import Dataset, haversine_km


@dataclass(frozen=True)
class GraphOptions:
    """How endpoints are attached; ``None`` takes the value from ``dataset.toml``."""

    access_links: int | None = None
    access_max_km: float | None = None


def link_latency_ms(length_km: float, us_per_km: float, hop_delay_ms: float) -> float:
    """One-way latency of a link: propagation plus one equipment hop."""
    return length_km * us_per_km / 1000.0 + hop_delay_ms


def build_graph(ds: Dataset, options: GraphOptions | None = None) -> nx.MultiGraph:
    """Build the planning graph of a dataset.

    Parameters
    ----------
    ds : Dataset
    options : GraphOptions, optional
        Overrides of ``[network] access_links`` and ``access_max_km``.

    Returns
    -------
    networkx.MultiGraph
        Frozen (read-only) and shared when built with the dataset's own settings;
        ``nx.MultiGraph(G)`` gives a copy to change.
        Vertices carry ``kind`` (``node``, ``site``, ``demand``), ``name``,
        ``lat``, ``lon`` and ``transit`` (whether routes may pass through);
        edges, keyed by link id, carry ``length_km``, ``latency_ms``,
        ``srlg`` (tuple) and ``access`` (bool).

    Examples
    --------
    >>> from nisd.io import default_data_dir, load_dataset
    >>> G = build_graph(load_dataset(default_data_dir()))
    >>> G.nodes["n-vasteras"]["lat"] > 59
    True
    """
    if options is None:  # the common case: built once per dataset, shared, frozen
        hit = _BUILT.get(id(ds))
        if hit is not None and hit[0]() is ds:
            return hit[1]
        key = id(ds)
        g = nx.freeze(_build(ds, GraphOptions()))
        _BUILT[key] = (weakref.ref(ds, partial(_forget, key)), g)
        return g
    return _build(ds, options)


# Graphs built with the dataset's own settings, by dataset (dropped with the dataset):
# ``nisd plan --map`` and every evaluation of a plan use the same one.
_BUILT: dict[int, tuple[weakref.ref[Dataset], nx.MultiGraph]] = {}


def _forget(key: int, _ref: object) -> None:
    _BUILT.pop(key, None)


def _build(ds: Dataset, opts: GraphOptions) -> nx.MultiGraph:
    net = ds.config.network
    k = opts.access_links if opts.access_links is not None else net.access_links
    max_km = opts.access_max_km if opts.access_max_km is not None else net.access_max_km
    g = nx.MultiGraph(name=ds.config.name)
    linked = {lk.a for lk in ds.links} | {lk.b for lk in ds.links}
    for n in ds.nodes:
        g.add_node(n.node_id, kind="node", name=n.name, lat=n.lat, lon=n.lon, transit=True)
    for s in ds.sites:
        g.add_node(
            s.site_id, kind="site", name=s.name, lat=s.lat, lon=s.lon, transit=s.site_id in linked
        )
    for d in ds.demand:
        g.add_node(
            d.demand_id,
            kind="demand",
            name=d.name,
            lat=d.lat,
            lon=d.lon,
            transit=d.demand_id in linked,
        )
    for lk in ds.links:
        g.add_edge(
            lk.a,
            lk.b,
            key=lk.link_id,
            length_km=lk.length_km,
            latency_ms=link_latency_ms(lk.length_km, net.propagation_us_per_km, net.hop_delay_ms),
            srlg=lk.srlg,
            access=False,
        )
    if not ds.nodes:
        return g
    node_ids = [n.node_id for n in ds.nodes]
    nlat = np.array([n.lat for n in ds.nodes])
    nlon = np.array([n.lon for n in ds.nodes])
    for ident in [s.site_id for s in ds.sites] + [d.demand_id for d in ds.demand]:
        if ident in linked:
            continue
        lat, lon = g.nodes[ident]["lat"], g.nodes[ident]["lon"]
        dist = haversine_km(lat, lon, nlat, nlon) * net.route_factor
        order = np.lexsort((np.array(node_ids), dist))
        for j in order[:k]:
            if dist[j] > max_km:
                break
            length = max(float(dist[j]), 0.1)
            key = f"access:{ident}:{node_ids[j]}"
            g.add_edge(
                ident,
                node_ids[j],
                key=key,
                length_km=length,
                latency_ms=link_latency_ms(length, net.propagation_us_per_km, net.hop_delay_ms),
                srlg=(key,),
                access=True,
            )
    return g


def backbone(g: nx.MultiGraph) -> nx.MultiGraph:
    """The subgraph of backbone nodes and the links between them."""
    keep = [v for v, d in g.nodes(data=True) if d["kind"] == "node"]
    return g.subgraph(keep).copy()


def transit_view(g: nx.MultiGraph, s: str, t: str) -> nx.MultiGraph:
    """``g`` restricted to transit vertices plus the endpoints ``s`` and ``t``."""
    keep = [v for v, d in g.nodes(data=True) if d["transit"] or v in (s, t)]
    return g.subgraph(keep)
