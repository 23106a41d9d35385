"""War: the worst attacks on a plan, and their brute-force check.

:func:`attack` finds the worst attacks exactly, by listing every attack and scoring them
in batches (:mod:`nisd.optimise.scan`) or with the interdiction programme of
:mod:`nisd.optimise.interdict`, and reports each one through the served-load evaluator
(:func:`nisd.topology.resilience.evaluate`), so that every figure shown comes from the one
definition of served load. :func:`enumerate_attacks` evaluates every attack within the
budget one by one (the independent check). Which sites to harden is
:mod:`nisd.optimise.fortify`.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np

from nisd.config import SolverOptions
from nisd.dataset import Dataset
from nisd.errors import InputError, Problem
from nisd.optimise.interdict import (
    AttackObjective,
    FlowData,
    Found,
    Target,
    attack_scenario,
    flow_data,
    targets_of,
    worst_attacks,
)
from nisd.optimise.scan import Scan, as_targets, layout, near, order, scannable
from nisd.records.attack import AttackResult
from nisd.records.plan import AttackRow, ScenarioRow
from nisd.topology.depends import Dependencies
from nisd.topology.latency import routing_graph
from nisd.topology.resilience import check_opened, evaluate, site_capacity

log = logging.getLogger(__name__)


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
        Dependencies.of(demand),
    )
    srlgs = sorted({grp for lk in ds.links for grp in lk.srlg})
    targets = targets_of(rg, types, sorted(ds.node_by_id), srlgs, kinds, costs)
    assign = None if assignments is None else {d: list(v) for d, v in assignments.items()}
    return PlanData(ds, g, dict(types), assign, fd, targets)


def _rows(
    pd_: PlanData,
    attacks: Sequence[Sequence[Target]],
    levels: Sequence[float] | None,
    islands: bool = False,
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
        islands=islands,
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


# "auto" lists every attack when that is estimated to take at most this long (and always
# under crisis.islands = "skip", which the interdiction programme does not model)
LIST_SECONDS = 300.0
Method = Literal["auto", "milp", "enumerate"]
Progress = Callable[[int, int], None]


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


Key = tuple[tuple[float, ...], int, tuple[str, ...]]


def _ranked(
    pd_: PlanData,
    attacks: Sequence[tuple[Target, ...]],
    objective: AttackObjective,
    islands: bool,
) -> list[tuple[Key, tuple[Target, ...]]]:
    """(sort key, attack) of each attack by the served-load evaluator, best for the attacker
    first; the key is the interdiction search's (:meth:`nisd.optimise.interdict.Found.key`),
    from the lexicographic flow (no levels asked: the most load each class prefix can get)."""
    rows = _rows(pd_, attacks, None, islands)
    return sorted(
        (
            (Found(a, served_prefix(r, pd_.fd, objective)).key(), a)
            for a, r in zip(attacks, rows, strict=True)
        ),
        key=lambda x: x[0],
    )


def _first_distinct(sets: Iterable[frozenset[Any]], top: int) -> list[int]:
    """Positions of the first ``top`` sets none containing an earlier non-empty one, the
    empty set at most once (read lazily: the scan stops as soon as ``top`` are found)."""
    out: list[int] = []
    taken: list[frozenset[Any]] = []
    for n, s in enumerate(sets):
        if s and any(t and t <= s for t in taken):
            continue
        if not s and any(not t for t in taken):
            continue
        out.append(n)
        taken.append(s)
        if len(out) >= top:
            break
    return out


def _distinct(attacks: Sequence[tuple[Target, ...]], top: int) -> list[int]:
    """Positions of the ``top`` worst attacks as the interdiction search lists them: in
    order, none containing an earlier (non-empty) one, the empty attack at most once."""
    return _first_distinct((frozenset(a) for a in attacks), top)


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
    islands: bool = False,
    progress: Progress | None = None,
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
        "enumerate" lists every attack within the budget: scored in batches
        (:mod:`nisd.optimise.scan`) where the plan allows it, else each by the evaluator;
        "milp" searches with the interdiction programme
        (:func:`nisd.optimise.interdict.worst_attacks`), whose time does not grow with the
        number of attacks but which does not model islands; "auto" (the default) lists
        them when that is estimated (from the first batch) to take at most
        ``LIST_SECONDS``, or when ``islands`` is on, else searches.
    islands : bool
        Users an attack leaves on an island apart from the national network are served
        nothing (the plan's ``crisis.islands = "skip"``), as in planning.
    progress : callable, optional
        ``progress(done, total)`` as the attacks are listed.

    Every attack shown, and the order among those near the top, comes from the
    served-load evaluator.
    """
    t0 = time.perf_counter()
    kinds = tuple(kinds)
    pd_ = plan_data(ds, g, sites, assignments, kinds, costs)
    protected = tuple(protected)
    cands = list(ds.site_ids)
    why_not = scannable(pd_.fd, cands)
    scanner: Scan | None = None
    if method != "milp" and why_not is None:
        scanner = Scan(
            layout(pd_.fd, pd_.targets, cands),
            budget,
            candidates=len(cands),
            objective=objective,
            islands=islands,
            protected=set(protected),
        )
        scanner.step()  # the first batch times the rest
        if method == "auto" and not islands and scanner.estimate() > LIST_SECONDS:
            log.info(
                "%s attacks would take about %.0f s to list: searching with the "
                "interdiction programme instead",
                f"{scanner.total:,}",
                scanner.estimate(),
            )
            scanner = None
            method = "milp"
    if scanner is not None:
        log.info("listing %s attacks (about %.0f s)", f"{scanner.total:,}", scanner.estimate())
        scanner.run(progress)
        picked, evaluated = _scan_top(pd_, scanner, top, objective, islands)
        rows = _rows(pd_, picked, levels, islands)
        return AttackResult(
            budget=float(budget),
            target_kinds=kinds,
            objective=objective,
            targets_considered=len(pd_.targets),
            method=f"every attack within the budget ({scanner.total:,}) scored in batches "
            f"(routes, islands and the maximum flow), the {evaluated} nearest the top "
            "evaluated again by the served-load evaluator (exact)",
            found_by="enumerate",
            attacks_evaluated=scanner.total,
            seconds=round(time.perf_counter() - t0, 3),
            attacks=tuple(_entry(a, r) for a, r in zip(picked, rows, strict=True)),
        )
    if method != "milp":  # the evaluator, attack by attack
        every = list(attacks_within(pd_.targets, budget, protected))
        log.info("evaluating %s attacks one by one (%s)", f"{len(every):,}", why_not)
        ranked: list[tuple[Key, tuple[Target, ...]]] = []
        step = 256
        for n in range(0, len(every), step):
            ranked += _ranked(pd_, every[n : n + step], objective, islands)
            if progress is not None:
                progress(min(n + step, len(every)), len(every))
        ranked.sort(key=lambda x: x[0])
        picked = [ranked[n][1] for n in _distinct([a for _k, a in ranked], top)]
        rows = _rows(pd_, picked, levels, islands)
        return AttackResult(
            budget=float(budget),
            target_kinds=kinds,
            objective=objective,
            targets_considered=len(pd_.targets),
            method=f"every attack within the budget ({len(every):,}) evaluated by the "
            "served-load evaluator (exact)",
            found_by="enumerate",
            attacks_evaluated=len(every),
            seconds=round(time.perf_counter() - t0, 3),
            attacks=tuple(_entry(a, r) for a, r in zip(picked, rows, strict=True)),
        )
    found, search = worst_attacks(
        pd_.fd, pd_.targets, budget, objective=objective, top=top, opts=opts, protected=protected
    )
    rows = _rows(pd_, [f.targets for f in found], levels, islands)
    how = "interdiction MILP (exact), each attack re-evaluated by the served-load evaluator"
    if islands:
        how += (
            "; the search counts users left on an island as reachable (it does not model "
            'crisis.islands = "skip"), so a worse attack may exist: list them '
            "(--method enumerate) for a proof"
        )
    return AttackResult(
        budget=float(budget),
        target_kinds=kinds,
        objective=objective,
        targets_considered=len(pd_.targets),
        method=how,
        found_by="milp",
        seconds=round(time.perf_counter() - t0, 3),
        solves=len(search.solves),
        attacks=tuple(_entry(f.targets, r) for f, r in zip(found, rows, strict=True)),
        search=tuple(search.solves),
    )


def _walk(scan: Scan, order_: np.ndarray, top: int) -> list[int]:
    """Positions of the first ``top`` attacks in ``order_`` none containing an earlier one
    (the empty attack at most once): :func:`_distinct` over the scores."""
    nt = len(scan.lay.targets)
    attacks = scan.attacks
    positions = order_.tolist()
    sets = (frozenset(int(k) for k in attacks[pos] if k < nt) for pos in positions)
    return [positions[n] for n in _first_distinct(sets, top)]


def _scan_top(
    pd_: PlanData, scan: Scan, top: int, objective: AttackObjective, islands: bool
) -> tuple[list[tuple[Target, ...]], int]:
    """The ``top`` worst attacks of a finished scan, by the evaluator: every attack whose
    score is within :data:`nisd.optimise.scan.MARGIN` of the last one the scores pick (or
    better) is evaluated again, and the evaluator's keys order them. Returns the attacks
    and how many were evaluated."""
    values, attacks = scan.values, scan.attacks
    by_score = order(scan.lay, values, attacks)
    want = top
    while True:
        fast = _walk(scan, by_score, want)
        if not fast:
            return [], 0
        close = np.nonzero(near(values, values[fast[-1]]))[0]
        ranked = _ranked(pd_, [as_targets(scan.lay, attacks[k]) for k in close], objective, islands)
        picks = _distinct([a for _k, a in ranked], top)
        if len(picks) >= top or len(close) == len(values) or len(fast) < want:
            return [ranked[n][1] for n in picks], len(close)
        want += top  # near-ties reordered by the evaluator: look further down


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
    islands: bool = False,
) -> list[tuple[Key, AttackRow]]:
    """Every attack within ``budget`` (the empty one included), each evaluated by the
    served-load evaluator, best for the attacker first: the brute force the batched scores
    and the interdiction programme are checked against.

    Returns (sort key, attack entry) pairs; ``limit`` evaluates only the first
    attacks in the order of enumeration (to time a sample).
    """
    pd_ = plan_data(ds, g, sites, assignments, kinds, costs)
    attacks = list(itertools.islice(attacks_within(pd_.targets, budget), limit))
    ranked = _ranked(pd_, attacks, objective, islands)
    rows = _rows(pd_, [a for _k, a in ranked], None, islands)
    return [(k, _entry(a, r)) for (k, a), r in zip(ranked, rows, strict=True)]


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
