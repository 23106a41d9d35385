"""Benchmark nisd's topology layer against plain networkx, in the same run.

Cases: the Swedish default, and synthetic backbones of 500, 2,000 and 10,000
nodes (random geometric graphs over Sweden's bounding box, 2-connected by a
ring, with candidate sites and demand points attached as leaves).

Measured: the demand×site latency matrix (nisd: one scipy csgraph call;
networkx: a loop of single-source Dijkstra calls), all demand×site
link-disjoint pairs (Swedish default), and failure sweeps of a placement
(single site, single link, N-2 sites and links on the default, and a 100 km
regional grid). Prints a table; ``--json FILE`` writes the records.

Usage: ``python benchmarks/topology.py [--sizes 500,2000,10000] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from nisd.dataset import Dataset
from nisd.io import default_data_dir, load_dataset
from nisd.topology import build_graph
from nisd.topology.disjoint import protected_latency_matrix
from nisd.topology.latency import latency_matrix
from nisd.topology.resilience import evaluate
from nisd.topology.scenarios import scenario_sets


def measure(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall time of one untraced run; peak Python memory of a second, traced run
    when the first took under 5 s (tracing slows pure-Python code several times)."""
    t = time.perf_counter()
    out = fn()
    sec = time.perf_counter() - t
    peak = float("nan")
    if sec < 5.0:
        tracemalloc.start()
        fn()
        _cur, peak_b = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak = peak_b / 2**20
    return sec, peak, out


def synthetic(n: int, sites: int, demand: int, seed: int = 7) -> nx.MultiGraph:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(55.3, 67.8, n)
    lon = rng.uniform(11.5, 23.5, n)
    xy = np.column_stack([lon * 55.0, lat * 111.0])  # rough km
    g = nx.MultiGraph()
    for i in range(n):
        g.add_node(f"n{i}", kind="node", lat=lat[i], lon=lon[i], transit=True)
    order = np.argsort(lat)
    k = 0
    for a, b in zip(order, np.roll(order, -1), strict=True):  # ring: 2-edge-connected
        d = float(np.hypot(*(xy[a] - xy[b])))
        g.add_edge(f"n{a}", f"n{b}", key=f"e{k}", latency_ms=d * 1.3 * 0.0049 + 0.05)
        k += 1
    from scipy.spatial import cKDTree

    tree = cKDTree(xy)
    for i in range(n):
        _d, idx = tree.query(xy[i], k=4)
        for j in idx[1:]:
            d = float(np.hypot(*(xy[i] - xy[j])))
            g.add_edge(f"n{i}", f"n{j}", key=f"e{k}", latency_ms=d * 1.3 * 0.0049 + 0.05)
            k += 1
    for prefix, count in (("s", sites), ("d", demand)):
        pts = rng.integers(0, n, count)
        for c, p in enumerate(pts):
            v = f"{prefix}{c}"
            g.add_node(v, kind="site" if prefix == "s" else "demand", transit=False)
            _d, idx = tree.query(xy[p], k=2)
            for j in idx:
                g.add_edge(v, f"n{j}", key=f"a-{v}-{j}", latency_ms=0.1)
    return g


def nx_loop(g: nx.MultiGraph, sources: list[str], targets: list[str]) -> np.ndarray:
    """The plain networkx way: one Dijkstra per source, leaves excluded from transit."""
    simple = nx.Graph()
    for u, v, d in g.edges(data=True):
        w = d["latency_ms"]
        if not simple.has_edge(u, v) or simple[u][v]["w"] > w:
            simple.add_edge(u, v, w=w)
    out = np.full((len(sources), len(targets)), np.inf)
    leaves = {v for v, d in g.nodes(data=True) if not d.get("transit", True)}
    for i, s in enumerate(sources):
        view = nx.restricted_view(simple, leaves - {s}, [])
        dist = nx.single_source_dijkstra_path_length(view, s, weight="w")
        for j, t in enumerate(targets):
            if t not in leaves or t == s:
                out[i, j] = dist.get(t, np.inf)
            else:  # a leaf target is reached over one of its own links
                out[i, j] = min(
                    (dist.get(n, np.inf) + simple[t][n]["w"] for n in simple[t]), default=np.inf
                )
    return out


def row(
    case: str, task: str, sec: float, mem: float, ref: float | None, note: str = ""
) -> dict[str, Any]:
    rec = {
        "case": case,
        "task": task,
        "seconds": round(sec, 4),
        "peak_mib": round(mem, 1),
        "networkx_seconds": None if ref is None else round(ref, 4),
        "speedup": None if not ref else round(ref / sec, 1),
        "note": note,
    }
    print(
        f"{case:>14} {task:<38} {sec:9.3f}s {mem:8.1f} MiB "
        f"{'' if ref is None else f'{ref:9.3f}s':>10} "
        f"{'' if not ref else f'{ref / sec:6.1f}x':>7}  {note}",
        flush=True,
    )
    return rec


def sweden(records: list[dict[str, Any]]) -> None:
    ds: Dataset = load_dataset(default_data_dir())
    g = build_graph(ds)
    sec, mem, m = measure(lambda: latency_matrix(g, ds.demand_ids, ds.site_ids))
    ref, _m2, m2 = measure(lambda: nx_loop(g, list(ds.demand_ids), list(ds.site_ids)))
    assert np.allclose(m, m2)
    records.append(row("sweden", f"latency {len(ds.demand)}x{len(ds.sites)}", sec, mem, ref))
    for mode in ("link", "node", "srlg"):
        sec, mem, _ = measure(
            lambda mode=mode: protected_latency_matrix(g, ds.demand_ids, ds.site_ids, mode)
        )
        records.append(
            row(
                "sweden",
                f"all disjoint pairs ({mode})",
                sec,
                mem,
                None,
                f"{len(ds.demand) * len(ds.sites)} pairs",
            )
        )
    opened = ["s-stockholm", "s-goteborg", "s-lulea", "s-malmo", "s-umea"]
    for sets in ("single-site,single-link", "n-2", "region:100km", "county,power-zone,presets"):
        scs = scenario_sets(ds, g, sets.split(","), opened)
        sec, mem, _ = measure(lambda scs=scs: evaluate(ds, g, opened, scs))
        records.append(row("sweden", f"sweep {sets}", sec, mem, None, f"{len(scs)} scenarios"))


def synthetic_case(n: int, records: list[dict[str, Any]]) -> None:
    from nisd.topology.scenarios import Scenario

    g = synthetic(n, sites=1000, demand=1000)
    sites = [f"s{i}" for i in range(1000)]
    dem = [f"d{i}" for i in range(1000)]
    sec, mem, m = measure(lambda: latency_matrix(g, dem, sites))
    k = 50 if n >= 2000 else 200
    ref, _mm, m2 = measure(lambda: nx_loop(g, dem[:k], sites))
    assert np.allclose(m[:k], m2)
    ref_full = ref * len(dem) / k
    records.append(
        row(
            f"synthetic {n}",
            "latency 1000x1000",
            sec,
            mem,
            ref_full,
            f"networkx timed on {k} sources, scaled",
        )
    )
    # failure sweep of a 10-site placement: every opened site, every backbone link
    opened = sites[:10]
    from nisd.topology import resilience as rz

    demand_ids = dem
    scs = [Scenario(f"site {s}", "single-site", sites=frozenset([s])) for s in opened]
    scs += [
        Scenario(f"link {k2}", "single-link", links=frozenset([k2]))
        for _u, _v, k2 in g.edges(keys=True)
        if not str(k2).startswith("a-")
    ]
    sec, mem, _ = measure(lambda: _sweep(g, opened, demand_ids, scs, rz))
    records.append(
        row(
            f"synthetic {n}",
            "sweep single-site + single-link",
            sec,
            mem,
            None,
            f"{len(scs)} scenarios, 10 opened sites",
        )
    )


def _sweep(g: nx.MultiGraph, opened: list[str], demand: list[str], scs: list[Any], rz: Any) -> Any:
    """Resilience without a Dataset: a stand-in dataset of the synthetic graph."""
    from nisd.dataset import DemandPoint, Site

    site_ids = tuple(sorted(v for v, d in g.nodes(data=True) if d["kind"] == "site"))
    stand_in = type(
        "SyntheticDataset",
        (),
        {
            "site_ids": site_ids,
            "demand": tuple(DemandPoint(x, x, 0.0, 0.0, 1.0, crisis_ms=8.0) for x in demand),
            "sites": tuple(Site(x, x, 0.0, 0.0) for x in site_ids),
        },
    )()
    return rz.evaluate(stand_in, g, opened, scs, check_two_routes=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="500,2000,10000")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    print(
        f"{'case':>14} {'task':<38} {'nisd':>10} {'peak':>12} {'networkx':>10} {'ratio':>7}  note"
    )
    records: list[dict[str, Any]] = []
    sweden(records)
    for n in [int(x) for x in args.sizes.split(",") if x]:
        synthetic_case(n, records)
    if args.json:
        args.json.write_text(json.dumps(records, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
