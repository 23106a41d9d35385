"""The fibre graph, route latency, disjoint routes, failure scenarios, resilience."""

from nisd.topology.graph import GraphOptions, backbone, build_graph

__all__ = ["GraphOptions", "backbone", "build_graph"]
