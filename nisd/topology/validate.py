"""The summary ``nisd validate`` prints for a valid dataset: counts by county and power
zone, backbone connectivity, demand that cannot reach any site."""

from __future__ import annotations

from collections import Counter

import networkx as nx

from nisd.dataset import Dataset
from nisd.records.base import Record
from nisd.topology.graph import backbone, build_graph
from nisd.topology.scenarios import presets


def reach_components(g: nx.MultiGraph) -> dict[str, set[int]]:
    """For each vertex, the transit components it touches.

    Leaves (sites and demand points attached by access links) cannot carry
    transit traffic, so two leaves can talk only if they touch a common
    component of the transit subgraph, or share a direct link.
    """
    transit = [v for v, d in g.nodes(data=True) if d["transit"]]
    comp_of: dict[str, int] = {}
    for i, comp in enumerate(nx.connected_components(g.subgraph(transit))):
        for v in comp:
            comp_of[v] = i
    out: dict[str, set[int]] = {}
    for v in g.nodes:
        if v in comp_of:
            out[v] = {comp_of[v]}
        else:
            out[v] = {comp_of[u] for u in g.neighbors(v) if u in comp_of}
    return out


class DatasetSummary(Record):
    """Counts, connectivity and reachability of a dataset (``nisd validate``).

    ``counties``: distinct counties with a candidate site; ``connected``: the backbone is
    one component; ``unreachable_demand``: demand points that cannot reach any candidate
    site; ``presets``: the named crises, checked.
    """

    name: str
    sites: int
    demand_points: int
    nodes: int
    links: int
    site_types: int
    hazards: int
    regions: int
    counties: int
    sites_by_county: dict[str, int]
    sites_by_power_zone: dict[str, int]
    demand_load: float
    connected: bool
    components: tuple[tuple[str, ...], ...]
    unreachable_demand: tuple[str, ...]
    presets: tuple[str, ...]
    warnings: tuple[str, ...]
    input_hash: str

    def text(self, warnings: bool = True) -> str:
        """The summary in lines of text (``warnings``: with the dataset's warnings)."""
        lines = [
            self.name,
            f"  sites {self.sites} in {self.counties} counties, demand points "
            f"{self.demand_points} (load {self.demand_load:g}), nodes {self.nodes}, links "
            f"{self.links}, site types {self.site_types}, hazards {self.hazards}, regions "
            f"{self.regions}",
            "  sites by county: " + ", ".join(f"{k} {v}" for k, v in self.sites_by_county.items()),
            "  sites by power zone: "
            + ", ".join(f"{k} {v}" for k, v in self.sites_by_power_zone.items()),
            "  backbone: "
            + (
                "connected"
                if self.connected
                else f"NOT connected ({len(self.components)} components)"
            ),
        ]
        if self.unreachable_demand:
            lines.append(
                "  demand that cannot reach any site: " + ", ".join(self.unreachable_demand)
            )
        else:
            lines.append("  every demand point can reach a candidate site")
        if warnings:
            lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def summary(ds: Dataset) -> DatasetSummary:
    """Counts, connectivity and reachability of a dataset."""
    g = build_graph(ds)
    bb = backbone(g)
    comps = sorted((sorted(c) for c in nx.connected_components(bb)), key=lambda c: (-len(c), c))
    reach = reach_components(g)
    site_comps: set[int] = set()
    for s in ds.sites:
        site_comps |= reach[s.site_id]
    direct = {
        d.demand_id
        for d in ds.demand
        for u in g.neighbors(d.demand_id)
        if g.nodes[u]["kind"] == "site"
    }
    unreachable = sorted(
        d.demand_id
        for d in ds.demand
        if not (reach[d.demand_id] & site_comps) and d.demand_id not in direct
    )
    # the crisis presets are read (and refused when they name what the dataset lacks)
    named_crises = [sc.name.removeprefix("preset ") for sc in presets(ds, g)]
    by_county = Counter(s.county_code or "(none)" for s in ds.sites)
    by_zone = Counter(s.power_zone or "(none)" for s in ds.sites)
    return DatasetSummary(
        name=ds.config.name,
        sites=len(ds.sites),
        demand_points=len(ds.demand),
        nodes=len(ds.nodes),
        links=len(ds.links),
        site_types=len(ds.site_types),
        hazards=len(ds.hazards),
        regions=len(ds.regions),
        counties=len({s.county_code for s in ds.sites if s.county_code}),
        sites_by_county=dict(sorted(by_county.items())),
        sites_by_power_zone=dict(sorted(by_zone.items())),
        demand_load=round(sum(d.load for d in ds.demand), 6),
        connected=len(comps) <= 1,
        components=tuple(tuple(c) for c in comps),
        unreachable_demand=tuple(unreachable),
        presets=tuple(named_crises),
        warnings=tuple(str(w) for w in ds.warnings),
        input_hash=ds.input_hash,
    )
