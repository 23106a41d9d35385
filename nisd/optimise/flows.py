"""The served flow of a plan under each crisis scenario, from the problem's matrices: what
the solving rounds ask of each plan (which scenarios it violates, by how much).

The same evaluator as :func:`nisd.topology.resilience.evaluate` (which recomputes every
route from the graph for the independent check of :mod:`nisd.optimise.verify`), on the
latencies the model was built from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nisd.optimise.model import scenario_need
from nisd.optimise.problem import PlacementProblem
from nisd.topology.latency import in_time
from nisd.topology.served import Flow, FlowCache


def problem_flows(
    pp: PlacementProblem,
    sites: Mapping[str, str],
    assign: Mapping[str, Sequence[str]],
    names: Sequence[str] | None = None,
) -> dict[str, Flow]:
    """The served flow of a plan under each crisis scenario of ``pp`` (or of ``names``)."""
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    opened = sorted(sidx[s] for s in sites)
    col = {j: c for c, j in enumerate(opened)}
    cap = np.array([pp.capacity[j, tidx[sites[pp.site_ids[j]]]] for j in opened])
    holds = np.zeros((pp.n_demand, len(opened)), dtype=bool)
    primary = np.full(pp.n_demand, -1, dtype=np.int64)
    for i, d in enumerate(pp.demand_ids):
        seq = [col[sidx[s]] for s in assign.get(d, []) if s in sidx and sidx[s] in col]
        holds[i, seq] = True
        if seq:
            primary[i] = seq[0]
    cache = FlowCache(pp.load, pp.rank, primary, pp.config.crisis.split)
    out = {}
    for sc in pp.scenarios:
        if names is not None and sc.name not in names:
            continue
        up = pp.crisis_up[sc.name][opened]
        lat = pp.crisis_latency[sc.name].columns(opened)
        usable = in_time(lat, pp.crisis_ms[:, None]) & holds & up[None, :]
        base = np.where(pp.crisis_cut[sc.name], 0.0, pp.load)
        lv = pp.scenario_levels[sc.name]
        fl = cache.serve(np.where(up, cap, 0.0), usable, lv, base)
        out[sc.name] = (
            fl if pp.dependencies is None else pp.dependencies.flow(fl, pp.load, pp.rank, lv, base)
        )
    return out


def violated(pp: PlacementProblem, flows: Mapping[str, Flow]) -> list[tuple[float, str]]:
    """Scenarios whose service levels a plan misses, most racks short first."""
    out = []
    for name, fl in flows.items():
        if fl.met is not False:
            continue
        need = scenario_need(pp, name)
        got = np.bincount(pp.rank, weights=fl.served, minlength=len(need))[: len(need)]
        out.append((max(float(np.clip(need - got, 0, None).sum()), 1e-9), name))
    return sorted(out, key=lambda x: (-x[0], x[1]))
