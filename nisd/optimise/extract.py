"""From a solved model to a plan (sites and assignments), and from a plan back to a
solver start."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nisd.optimise.model import Model
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.solve import Start

Sites = dict[str, str]  # opened site id → type id
Assign = dict[str, list[str]]  # user (demand) id → its sites, primary first


def extract(pp: PlacementProblem, m: Model) -> tuple[Sites, Assign]:
    """The opened sites and each user's sites of the model's current solution (a
    workload's users share their lead's variables)."""
    sites = {}
    for (j, t), v in sorted(m.y.items()):
        if (v.value() or 0) > 0.5:
            sites[pp.site_ids[j]] = pp.type_ids[t]
    chosen: dict[tuple[int, int], int] = {}
    for (a, j, r), v in m.x_lead.items():
        if (v.value() or 0) > 0.5 and j < chosen.get((a, r), pp.n_sites):
            chosen[a, r] = j
    lead = pp.leads()
    assign: Assign = {}
    for i, d in enumerate(pp.demand_ids):
        a = int(lead[i])
        assign[d] = [pp.site_ids[chosen[a, r]] for r in range(pp.config.k) if (a, r) in chosen]
    return sites, assign


def start_of(
    m: Model, pp: PlacementProblem, sites: Mapping[str, str], assign: Mapping[str, Sequence[str]]
) -> Start:
    """A MIP start from a known plan: its sites as built and its assignments (others 0)."""
    sidx = {s: j for j, s in enumerate(pp.site_ids)}
    tidx = {t: k for k, t in enumerate(pp.type_ids)}
    out: dict[str, float] = {}
    for s, t in sites.items():
        key = (sidx.get(s, -1), tidx.get(t, -1))
        if key in m.y:
            out[m.y[key].name] = 1.0
    for i, d in enumerate(pp.demand_ids):
        for r, s in enumerate(assign.get(d, [])):
            key3 = (i, sidx.get(s, -1), r)
            if key3 in m.x:
                out[m.x[key3].name] = 1.0
    return out
