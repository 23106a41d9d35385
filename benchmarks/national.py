"""The Swedish default, capacity-true: model size, rounds, time, and what sharing saves.

Cases (each run ``--repeat`` times; min and median wall time printed):

* ``no crisis``: the baseline without crisis scenarios (the peer: what the crisis
  service levels cost in time and money);
* ``baseline shared``: ``scenarios/baseline.toml`` as it is (capacity-true service
  levels after single site, SRLG, county and power-zone losses; shared backup);
* ``baseline dedicated``: the same with dedicated (1+1) backup rooms;
* ``heightened-alert`` and ``war``: the scenario files of that name;
* ``baseline full model`` and ``heightened full``: the same solved as one model of sites
  and assignments (``[solver] method = "full"``), the peer of sites first;
* ``baseline cbc 60 s``: the baseline with CBC and a 60 s limit (its gap beside HiGHS).

Then the served-load evaluation of every scenario of the baseline plan, timed the
same way, beside a peer that answers the same question for each scenario with a
networkx max-flow (capacity and reach, no class order).

Usage: ``python benchmarks/national.py [--solver highs] [--repeat 3] [--cases a,b]
[--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import networkx as nx

from nisd.io import default_data_dir, load_dataset
from nisd.io.scenario import load_plan_config
from nisd.optimise import from_dataset, optimise
from nisd.topology import build_graph
from nisd.topology.resilience import evaluate, site_capacity

ROOT = Path(__file__).resolve().parent.parent
SCEN = ROOT / "scenarios"
CASES: dict[str, tuple[Path, dict[str, Any]]] = {
    "no crisis": (SCEN / "baseline.toml", {"crisis": {"sets": [], "tiers": []}}),
    "baseline shared": (SCEN / "baseline.toml", {}),
    "baseline dedicated": (SCEN / "baseline.toml", {"crisis": {"backup": "dedicated"}}),
    # the peer method: the one model of sites and assignments (``auto`` solves cost sites first)
    "baseline full model": (SCEN / "baseline.toml", {"solver": {"method": "full"}}),
    "heightened-alert": (SCEN / "heightened-alert.toml", {}),
    "heightened full": (SCEN / "heightened-alert.toml", {"solver": {"method": "full"}}),
    "war": (SCEN / "war.toml", {}),
    # the peer solver: CBC (bundled with PuLP) with 60 s, its gap printed beside HiGHS
    "baseline cbc 60 s": (SCEN / "baseline.toml", {"solver": {"name": "cbc", "time_limit": 60}}),
}


def _gap(g: float | None) -> str:
    return "" if g is None else f"{g:.2%}"


def _stats(xs: list[float]) -> str:
    return f"{min(xs):8.1f}{statistics.median(xs):8.1f}"


def plans(args: argparse.Namespace, ds: Any) -> list[dict[str, Any]]:
    print(
        f"{'case':<20}{'scen':>5}{'rounds':>7}{'flow sc':>8}{'vars':>7}{'rows':>7}"
        f"{'min s':>8}{'med s':>8}{'status':>9}{'cost':>8}{'gap':>7}{'sites':>6}{'racks':>7}"
        f"{'spare':>7}{'1+1 bk':>8}"
    )
    out = []
    for name in args.cases.split(","):
        path, over = CASES[name]
        over = {
            **over,
            "solver": {
                "name": args.solver,
                "time_limit": args.time_limit,
                **over.get("solver", {}),
            },
        }
        cfg = load_plan_config(path, over)
        walls: list[float] = []
        plan = None
        for _ in range(args.repeat):
            t = time.perf_counter()
            try:
                plan = optimise(ds, from_dataset(ds, cfg))
            except Exception as exc:  # a benchmark row, not a crash
                print(f"{name:<20}  {type(exc).__name__}: {str(exc)[:70]}")
                plan = None
                break
            walls.append(time.perf_counter() - t)
        if plan is None:
            continue
        k, model = plan.kpis.to_json(), plan.run.to_json()["model"]
        rec = {
            "case": name,
            "scenarios": model["scenarios"],
            "rounds": len(plan.run.rounds),
            "flow_scenarios": len(model["scenarios_with_flow_rows"]),
            "variables": model["variables"],
            "constraints": model["constraints"],
            "wall_min": round(min(walls), 2),
            "wall_median": round(statistics.median(walls), 2),
            "status": plan.status,
            "gap": plan.gap,
            "cost_msek": k["cost_msek"],
            "sites": k["sites"],
            "capacity_racks": k["capacity_racks"],
            "spare_racks": round(k["capacity_racks"] - k["primary_load_racks"], 3),
            "dedicated_backup_racks": k["dedicated_backup_racks"],
        }
        out.append(rec)
        print(
            f"{name:<20}{rec['scenarios']:>5}{rec['rounds']:>7}{rec['flow_scenarios']:>8}"
            f"{rec['variables']:>7}{rec['constraints']:>7}{_stats(walls)}{plan.status:>9}"
            f"{k['cost_msek']:>8g}{_gap(plan.gap):>7}{k['sites']:>6}{k['capacity_racks']:>7g}"
            f"{rec['spare_racks']:>7g}{k['dedicated_backup_racks']:>8g}",
            flush=True,
        )
    shared = next((r for r in out if r["case"] == "baseline shared"), None)
    dedicated = next((r for r in out if r["case"] == "baseline dedicated"), None)
    if shared and dedicated:
        print(
            f"shared backup: {shared['capacity_racks']:g} racks built, {shared['spare_racks']:g} "
            f"spare, {shared['cost_msek']:g} MSEK/year; dedicated (1+1): "
            f"{dedicated['capacity_racks']:g} racks, {dedicated['spare_racks']:g} spare, "
            f"{dedicated['cost_msek']:g} MSEK/year; sharing saves "
            f"{dedicated['spare_racks'] - shared['spare_racks']:g} spare racks "
            f"({1 - shared['spare_racks'] / max(dedicated['spare_racks'], 1e-9):.0%}) and "
            f"{dedicated['cost_msek'] - shared['cost_msek']:g} MSEK/year"
        )
    return out


def nx_served(
    ds: Any, g: Any, sites: dict[str, str], assign: dict[str, list[str]], sc: Any
) -> float:
    """Peer: one networkx max-flow for the scenario (reach from the graph, capacity)."""
    from nisd.topology.latency import latency_matrix, routing_graph
    from nisd.topology.resilience import edge_alive

    rg = routing_graph(g)
    names = sorted(sites)
    lat = latency_matrix(rg, ds.demand_ids, names, alive=edge_alive(rg, sc))
    h = nx.DiGraph()
    for i, d in enumerate(ds.demand):
        h.add_edge("S", d.demand_id, capacity=d.load)
        for j, s in enumerate(names):
            if s in assign[d.demand_id] and s not in sc.sites and lat[i, j] <= d.crisis_ms:
                h.add_edge(d.demand_id, s, capacity=float("inf"))
    for s in names:
        if s not in sc.sites:
            h.add_edge(s, "T", capacity=site_capacity(ds, s, sites[s]))
    return float(nx.maximum_flow_value(h, "S", "T")) if "T" in h else 0.0


def evaluation(args: argparse.Namespace, ds: Any) -> dict[str, Any]:
    cfg = load_plan_config(SCEN / "baseline.toml", {"solver": {"name": args.solver}})
    pp = from_dataset(ds, cfg)
    plan = optimise(ds, pp)
    g = build_graph(ds)
    scen = list(pp.scenarios)
    levels = {k: v.tolist() for k, v in pp.scenario_levels.items()}
    ours, peer = [], []
    for _ in range(max(args.repeat, 3)):
        t = time.perf_counter()
        res = evaluate(
            ds,
            g,
            plan.sites,
            scen,
            assignments=plan.assignments,
            levels=levels,
            check_two_routes=False,
        )
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        flows = [nx_served(ds, g, plan.sites, plan.assignments, sc) for sc in scen]
        peer.append(time.perf_counter() - t)
    total = sum(d.load for d in ds.demand)
    worst = max(
        abs(a * total - b) for a, b in zip(res.table.demand_served_share, flows, strict=True)
    )
    print(
        f"evaluate {len(scen)} scenarios of the baseline plan: nisd min {min(ours):.3f} s, "
        f"median {statistics.median(ours):.3f} s (flow sub-problems solved {res.flows[1]}, "
        f"reused {res.flows[0]}); networkx max-flow per scenario min {min(peer):.3f} s, "
        f"median {statistics.median(peer):.3f} s; largest difference in served racks "
        f"{worst:.2e}"
    )
    return {
        "scenarios": len(scen),
        "nisd_min": min(ours),
        "nisd_median": statistics.median(ours),
        "networkx_min": min(peer),
        "networkx_median": statistics.median(peer),
        "max_difference_racks": worst,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--solver", default="highs")
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    ds = load_dataset(default_data_dir())
    records = {"plans": plans(args, ds), "evaluation": evaluation(args, ds)}
    if args.json:
        args.json.write_text(json.dumps(records, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
