"""War: the worst attacks on a plan, their brute-force check, and which sites to harden.

:func:`attack` finds the worst attacks exactly with the interdiction
programme of :mod:`nisd.optimise.interdict` and reports each one through the
served-load evaluator (:func:`nisd.topology.resilience.evaluate`), so that
every figure shown comes from the one definition of served load.
:func:`enumerate_attacks` lists every attack within the budget and evaluates
each (the independent check, and the time enumeration costs).
:func:`fortify` chooses the cheapest opened sites to harden so that no attack
within the budget breaks the service levels (the r-interdiction median
problem with fortification: Church & Scaparra 2007, *Protecting critical
assets: the r-interdiction median problem with fortification*, Geographical
Analysis 39(2); solved here by constraint generation: harden against the
attacks found so far, find the worst attack on what is left unhardened, repeat).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np
import pulp

from nisd.config import SolverOptions
from nisd.dataset import Dataset
from nisd.errors import InfeasibleError, InputError, Problem
from nisd.optimise.interdict import (
    AttackObjective,
    FlowData,
    Found,
    Target,
    attack_scenario,
    flow_data,
    targets_of,
    violating_attack,
    worst_attacks,
)
from nisd.optimise.solve import Status, solve
from nisd.records.attack import AttackResult, Fortification, FortifyCertificate, FortifyIteration
from nisd.records.plan import AttackRow, ScenarioRow
from nisd.topology.latency import routing_graph
from nisd.topology.resilience import check_opened, evaluate, site_capacity


@dataclass(frozen=True)
class PlanData:
    """A plan as the attacker sees it: flow data, targets and the evaluator's inputs."""

    ds: Dataset
    g: nx.MultiGraph
    sites: dict[str, str]
    assignments: dict[str, list[str]] | None
    fd: FlowData
    targets: tuple[Target, ...]


def plan_data(
    ds: Dataset,
    g: nx.MultiGraph,
    sites: Mapping[str, str] | Sequence[str],
    assignments: Mapping[str, Sequence[str]] | None,
    kinds: Iterable[str] = ("site",),
    costs: Mapping[str, float] | None = None,
) -> PlanData:
    """Flow data and targets of a plan (opened sites, backbone nodes, shared-risk groups)."""
    types = check_opened(ds, sites)
    rg = routing_graph(g)
    demand = list(ds.demand)
    ids = [d.demand_id for d in demand]
    fd = flow_data(
        rg,
        ids,
        np.array([d.load for d in demand], float),
        np.array([ds.criticality_rank(d.criticality) for d in demand], np.int64),
        list(ds.config.criticality.levels),
        np.array([d.crisis_ms for d in demand], float),
        {s: site_capacity(ds, s, t) for s, t in types.items()},
        None if assignments is None else {d: list(v) for d, v in assignments.items()},
    )
    srlgs = sorted({grp for lk in ds.links for grp in lk.srlg})
    targets = targets_of(rg, types, sorted(ds.node_by_id), srlgs, kinds, costs)
    assign = None if assignments is None else {d: list(v) for d, v in assignments.items()}
    return PlanData(ds, g, dict(types), assign, fd, targets)


def _rows(
    pd_: PlanData, attacks: Sequence[Sequence[Target]], levels: Sequence[float] | None
) -> tuple[ScenarioRow, ...]:
    """The evaluator's rows of these attacks (one per attack, in order)."""
    scen = [attack_scenario(a) for a in attacks]
    if not scen:
        return ()
    return evaluate(
        pd_.ds,
        pd_.g,
        pd_.sites,
        scen,
        assignments=pd_.assignments,
        levels=None if levels is None else list(levels),
        check_two_routes=False,
    ).rows


def served_prefix(row: ScenarioRow, fd: FlowData, objective: AttackObjective) -> tuple[float, ...]:
    """Served racks per class prefix (or in all) of an evaluator row: the attacker's objective."""
    k = len(fd.classes)
    load_c = np.bincount(fd.rank, weights=fd.load, minlength=k)[:k]
    shares = row.served_by_class
    racks = np.array([(shares.get(c) or 0.0) * load_c[n] for n, c in enumerate(fd.classes)])
    if objective == "total":
        return (float(racks.sum()),)
    present = sorted(set(fd.rank[fd.load > 0].tolist()))
    return tuple(float(racks[: c + 1].sum()) for c in present)


def _entry(t: Sequence[Target], row: ScenarioRow) -> AttackRow:
    return AttackRow(
        **row.model_dump(),
        targets=tuple(x.name for x in t),
        cost=round(float(sum(x.cost for x in t)), 6),
    )


# ``attack`` lists and evaluates every attack when there are no more than this many within
# the budget (the default plan's three sites and a budget of two give seven)
ENUMERATE_UP_TO = 500
Method = Literal["auto", "milp", "enumerate"]


def attacks_within(
    targets: Sequence[Target], budget: float, protected: Iterable[str] = ()
) -> Iterator[tuple[Target, ...]]:
    """Every attack within ``budget`` (the empty one first, then by size), each sorted;
    hardened sites (``protected``) are never targets."""
    hard = set(protected)
    ts = [t for t in targets if not (t.kind == "site" and t.id in hard)]
    cheapest = sorted(t.cost for t in ts)
    for size in range(0, len(ts) + 1):
        if size and sum(cheapest[:size]) > budget + 1e-9:  # none of this size fits
            return
        for combo in itertools.combinations(ts, size):
            if sum(t.cost for t in combo) <= budget + 1e-9:
                yield tuple(sorted(combo))


def _ranked(
    pd_: PlanData,
    attacks: Sequence[tuple[Target, ...]],
    levels: Sequence[float] | None,
    objective: AttackObjective,
) -> list[tuple[tuple[tuple[float, ...], int, tuple[str, ...]], tuple[Target, ...], ScenarioRow]]:
    """(sort key, attack, evaluator row) of each attack, best for the attacker first; the
    key is the interdiction search's (:meth:`nisd.optimise.interdict.Found.key`)."""
    rows = _rows(pd_, attacks, levels)
    return sorted(
        (
            (Found(a, served_prefix(r, pd_.fd, objective)).key(), a, r)
            for a, r in zip(attacks, rows, strict=True)
        ),
        key=lambda x: x[0],
    )


def _distinct(attacks: Sequence[tuple[Target, ...]], top: int) -> list[int]:
    """Positions of the ``top`` worst attacks as the interdiction search lists them: in
    order, none containing an earlier (non-empty) one, the empty attack at most once."""
    out: list[int] = []
    taken: list[frozenset[Target]] = []
    for n, a in enumerate(attacks):
        s = frozenset(a)
        if s and any(t and t <= s for t in taken):
            continue
        out.append(n)
        taken.append(s)
        if len(out) >= top:
            break
    return out


def attack(
    ds: Dataset,
    g: nx.MultiGraph,
    sites: Mapping[str, str] | Sequence[str],
    assignments: Mapping[str, Sequence[str]] | None,
    *,
    budget: float = 2,
    kinds: Iterable[str] = ("site",),
    costs: Mapping[str, float] | None = None,
    top: int = 5,
    objective: AttackObjective = "critical-first",
    levels: Sequence[float] | None = None,
    opts: SolverOptions | None = None,
    protected: Iterable[str] = (),
    method: Method = "auto",
) -> AttackResult:
    """The ``top`` worst attacks on a plan within ``budget`` (exact; worst first).

    Parameters
    ----------
    ds, g : the dataset and its planning graph.
    sites, assignments : the plan (opened site → type; demand → its sites).
    budget : float
        What the attacker may spend; with every target costing 1 (the
        default) it is the number of targets ``r``.
    kinds : "site", "node", "srlg"
        What may be attacked: the plan's opened sites, backbone nodes, shared-risk groups.
    costs : mapping, optional
        Attack cost per kind (default 1 each).
    objective : "critical-first" or "total"
        Minimise served load class by class (critical first), or in all.
    levels : sequence of float, optional
        Service levels per class; each attack's row says whether they still hold.
    protected : site ids that cannot be taken out (hardened sites).
    method : "auto", "milp" or "enumerate"
        "enumerate" evaluates every attack within the budget with the served-load
        evaluator and lists them in the interdiction search's order (worst first, none
        containing an earlier one); "milp" finds them with the interdiction programme
        (:func:`nisd.optimise.interdict.worst_attacks`), whose time does not grow with the
        number of attacks; "auto" (the default) enumerates up to ``ENUMERATE_UP_TO``.
    """
    t0 = time.perf_counter()
    kinds = tuple(kinds)
    pd_ = plan_data(ds, g, sites, assignments, kinds, costs)
    protected = tuple(protected)
    every: list[tuple[Target, ...]] = []
    if method != "milp":  # listed once: one past the limit says there are too many
        limit = None if method == "enumerate" else ENUMERATE_UP_TO + 1
        every = list(itertools.islice(attacks_within(pd_.targets, budget, protected), limit))
    if method == "enumerate" or (method == "auto" and len(every) <= ENUMERATE_UP_TO):
        ranked = _ranked(pd_, every, levels, objective)
        picked = [ranked[n] for n in _distinct([a for _k, a, _r in ranked], top)]
        return AttackResult(
            budget=float(budget),
            target_kinds=kinds,
            objective=objective,
            targets_considered=len(pd_.targets),
            method=f"every attack within the budget ({len(every)}) evaluated by the "
            "served-load evaluator (exact)",
            found_by="enumerate",
            attacks_evaluated=len(every),
            seconds=round(time.perf_counter() - t0, 3),
            attacks=tuple(_entry(a, r) for _k, a, r in picked),
        )
    found, search = worst_attacks(
        pd_.fd, pd_.targets, budget, objective=objective, top=top, opts=opts, protected=protected
    )
    rows = _rows(pd_, [f.targets for f in found], levels)
    return AttackResult(
        budget=float(budget),
        target_kinds=kinds,
        objective=objective,
        targets_considered=len(pd_.targets),
        method="interdiction MILP (exact), each attack re-evaluated by the served-load evaluator",
        found_by="milp",
        seconds=round(time.perf_counter() - t0, 3),
        solves=len(search.solves),
        attacks=tuple(_entry(f.targets, r) for f, r in zip(found, rows, strict=True)),
        search=tuple(search.solves),
    )


def enumerate_attacks(
    ds: Dataset,
    g: nx.MultiGraph,
    sites: Mapping[str, str] | Sequence[str],
    assignments: Mapping[str, Sequence[str]] | None,
    *,
    budget: float = 2,
    kinds: Iterable[str] = ("site",),
    costs: Mapping[str, float] | None = None,
    objective: AttackObjective = "critical-first",
    limit: int | None = None,
) -> list[tuple[tuple[tuple[float, ...], int, tuple[str, ...]], AttackRow]]:
    """Every attack within ``budget`` (the empty one included), evaluated, best for the attacker
    first: the brute force the interdiction programme is checked against.

    Returns (sort key, attack entry) pairs; ``limit`` evaluates only the first
    attacks in the order of enumeration (to time a sample).
    """
    pd_ = plan_data(ds, g, sites, assignments, kinds, costs)
    attacks = list(itertools.islice(attacks_within(pd_.targets, budget), limit))
    return [(k, _entry(a, r)) for k, a, r in _ranked(pd_, attacks, None, objective)]


def check_keep(ds: Dataset, keep: Mapping[str, float], where: str) -> None:
    """Refuse service levels that name a class the dataset does not have (``where`` names the
    input: an option, a key or an argument)."""
    names = list(ds.config.criticality.levels)
    problems = []
    unknown = sorted(set(keep) - set(names))
    if unknown:
        problems.append(
            Problem(where, f"unknown class(es) {', '.join(unknown)} ({', '.join(names)})")
        )
    for c, v in sorted(keep.items()):
        if not 0.0 <= v <= 1.0:  # NaN fails too
            problems.append(Problem(where, f"{c} = {v:g} is not a share between 0 and 1"))
    if problems:
        raise InputError(problems)


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
        row = _rows(pd_, [found.targets], list(levels))[0]
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
) -> Fortification:
    """The cheapest set of opened sites to harden so that every attack within ``budget``
    leaves the service ``levels`` (class → share) met.

    ``harden_cost`` is the cost (MSEK) of hardening a site of each type; a
    hardened site cannot be taken out.

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
            pd_, budget, lv, protected=hardened, opts=opts
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
                    "breaks the levels (proved by the interdiction programme)",
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
    if res.status is not Status.OPTIMAL:
        raise InfeasibleError(f"no hardening found ({res.status.value})")
    return [s for s in names if (h[s].value() or 0) > 0.5]
