"""Which sites to harden: the cheapest opened sites whose hardening leaves no attack within
the budget that breaks the service levels.

The r-interdiction median problem with fortification (Church & Scaparra 2007, *Protecting
critical assets: the r-interdiction median problem with fortification*, Geographical
Analysis 39(2)), solved by constraint generation: harden against the attacks found so far,
find an attack on what is left unhardened that breaks the levels (the interdiction
programme, each attack confirmed by the served-load evaluator), repeat until the
programme proves none is left.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pulp

from nisd.config import SolverOptions
from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, InputError, NoSolutionError, Problem
from nisd.optimise.interdict import Found, Target, violating_attack
from nisd.optimise.solve import Status, solve
from nisd.optimise.war import PlanData, _rows, check_keep, plan_data
from nisd.records.attack import Fortification, FortifyCertificate, FortifyIteration
from nisd.records.plan import ScenarioRow


def check_harden(types: Iterable[str], harden_cost: Mapping[str, float], where: str) -> None:
    """Refuse a hardening cost table that leaves out a type among ``types``."""
    bad = sorted(k for k, v in harden_cost.items() if not 0.0 <= v < float("inf"))
    if bad:
        raise InputError(
            [Problem(where, f"{k} = {harden_cost[k]:g} is not a finite cost ≥ 0") for k in bad]
        )
    missing = sorted({t for t in types if t not in harden_cost})
    if missing:
        raise InputError(
            [Problem(where, f"no hardening cost for site type(s) {', '.join(missing)}")]
        )


def _level_vector(ds: Dataset, levels: Mapping[str, float]) -> np.ndarray:
    check_keep(ds, levels, "levels")
    return np.array([float(levels.get(c, 0.0)) for c in ds.config.criticality.levels])


def check_levels(
    pd_: PlanData,
    budget: float,
    levels: np.ndarray,
    *,
    protected: Iterable[str] = (),
    opts: SolverOptions | None = None,
    islands: bool = False,
) -> tuple[Found | None, ScenarioRow | None, float, list[dict[str, Any]], int]:
    """An attack the evaluator confirms breaks ``levels`` (with its row), or None.

    The interdiction oracle counts the whole load of a class; an attack it
    reports whose row the evaluator passes (cut-off load does not count
    towards the levels) is excluded and the oracle asked again. Returns the
    attack, its row, the oracle's last margin (racks), its solves and the
    number of attacks rejected that way.
    """
    rejected: list[tuple[Target, ...]] = []
    solves: list[dict[str, Any]] = []
    protected = list(protected)
    while True:
        found, margin, search = violating_attack(
            pd_.fd,
            pd_.targets,
            budget,
            levels,
            opts=opts,
            rejected=rejected,
            protected=protected,
        )
        solves += search.solves
        if found is None:
            return None, None, margin, solves, len(rejected)
        row = _rows(pd_, [found.targets], list(levels), islands)[0]
        if row.levels_met is False:
            return found, row, margin, solves, len(rejected)
        rejected.append(found.targets)


def fortify(
    ds: Dataset,
    g: nx.MultiGraph,
    sites: Mapping[str, str],
    assignments: Mapping[str, Sequence[str]] | None,
    *,
    budget: float,
    levels: Mapping[str, float],
    harden_cost: Mapping[str, float],
    kinds: Iterable[str] = ("site",),
    costs: Mapping[str, float] | None = None,
    opts: SolverOptions | None = None,
    islands: bool = False,
) -> Fortification:
    """The cheapest set of opened sites to harden so that every attack within ``budget``
    leaves the service ``levels`` (class → share) met.

    ``harden_cost`` is the cost (MSEK) of hardening a site of each type; a
    hardened site cannot be taken out. With ``islands`` (the plan's ``crisis.islands =
    "skip"``) each attack found is confirmed by the evaluator under that rule; the
    programme's proof that none is left does not model islands, and the certificate
    says so.

    Raises
    ------
    InfeasibleError
        An attack breaks the levels without touching any site (hardening sites cannot stop it).
    InputError
        A site type without a hardening cost, or an unknown class.
    """
    kinds = tuple(kinds)
    pd_ = plan_data(ds, g, sites, assignments, kinds, costs)
    lv = _level_vector(ds, levels)
    check_harden(pd_.sites.values(), harden_cost, "harden_cost")
    names = sorted(pd_.sites)
    opts = opts or SolverOptions()
    cover: list[list[str]] = []
    hardened: list[str] = []
    iterations: list[FortifyIteration] = []
    while True:
        t = time.perf_counter()
        found, row, margin, solves, rej = check_levels(
            pd_, budget, lv, protected=hardened, opts=opts, islands=islands
        )
        iterations.append(
            FortifyIteration(
                iteration=len(iterations) + 1,
                hardened=tuple(hardened),
                attack=None if found is None else tuple(x.name for x in found.targets),
                served_by_class=None if row is None else dict(row.served_by_class),
                oracle_solves=len(solves),
                rejected_cut_off_attacks=rej,
                seconds=round(time.perf_counter() - t, 3),
            )
        )
        if found is None:
            cost = float(sum(harden_cost[pd_.sites[s]] for s in hardened))
            return Fortification(
                hardened=tuple(hardened),
                cost_msek=round(cost, 6),
                iterations=tuple(iterations),
                certificate=FortifyCertificate(
                    budget=budget,
                    levels={c: v for c, v in zip(pd_.fd.classes, lv, strict=True) if v > 0},
                    margin_racks=round(margin, 6),
                    statement="no attack within the budget on the unhardened targets "
                    "breaks the levels (proved by the interdiction programme"
                    + (
                        ", which counts users an attack leaves on an island as served "
                        "by the sites there: not a proof under crisis.islands = skip)"
                        if islands
                        else ")"
                    ),
                ),
            )
        hit = sorted(x.id for x in found.targets if x.kind == "site")
        if set(hit) & set(hardened):  # pragma: no cover - the search never attacks them
            raise InfeasibleError(f"the attack search took out hardened site(s) {hit}")
        if not hit:
            raise InfeasibleError(
                f"the attack {', '.join(x.name for x in found.targets)} breaks the levels "
                "without touching an opened site: hardening sites cannot stop it"
            )
        cover.append(hit)
        hardened = _cheapest_cover(names, pd_.sites, harden_cost, cover, opts)


def _cheapest_cover(
    names: list[str],
    types: Mapping[str, str],
    harden_cost: Mapping[str, float],
    cover: list[list[str]],
    opts: SolverOptions,
) -> list[str]:
    """The cheapest set of sites meeting every attack found so far (ties: fewest, then names)."""
    prob = pulp.LpProblem("harden", pulp.LpMinimize)
    h = {s: pulp.LpVariable(f"h_{n}", cat="Binary") for n, s in enumerate(names)}
    # cost first, then fewer sites, then earlier names (a small, exact tie break)
    eps = 1e-3 / (len(names) + 1)
    prob += pulp.lpSum(
        (harden_cost[types[s]] + eps * (1 + n / (len(names) + 1))) * h[s]
        for n, s in enumerate(names)
    )
    for n, hit in enumerate(cover):
        prob += (pulp.lpSum(h[s] for s in hit) >= 1, f"attack_{n}")
    res = solve(prob, opts.model_copy(update={"gap": 0.0}))
    if res.status is Status.INFEASIBLE:  # pragma: no cover - every attack found hits a site
        raise InfeasibleError("no set of sites meets every attack found")
    if res.status is not Status.OPTIMAL:
        raise NoSolutionError(
            f"the hardening cover was not proved cheapest ({res.status.value}); "
            "raise the time limit"
        )
    return [s for s in names if (h[s].value() or 0) > 0.5]
