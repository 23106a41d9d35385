"""The placement problem's data: everything the MILP and the checker need, as arrays.

Why this module is long: the problem is one record derived in one pass (matrices,
masks, crisis scenarios and their rows); splitting the derivation would pass half-built
problems between modules.

Two doors (after spopt): :func:`from_dataset` derives the matrices from a
dataset and its fibre graph; :class:`PlacementProblem` can also be built
directly from matrices and ids (tests, OR-Library instances).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import ConfigError, InputError, Problem
from nisd.limits import table_bytes
from nisd.optimise.deadline import Check, no_check
from nisd.topology import build_graph
from nisd.topology.depends import Dependencies, level_problems
from nisd.topology.latency import (
    LatencyRows,
    RoutingGraph,
    distance_matrix_km,
    latency_matrix,
    latency_rows,
    routing_graph,
    unique_rows,
)
from nisd.topology.resilience import edge_alive
from nisd.topology.scenarios import Scenario, parse_sets, scenario_sets
from nisd.topology.served import islanded


@dataclass(frozen=True)
class CrisisRow:
    """After ``scenario``, ``demand`` must reach one of ``sites`` (indices) in time."""

    scenario: str
    demand: int
    sites: frozenset[int]


def _workload_groups(workload: Sequence[str | None]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for i, w in enumerate(workload):
        if w:
            groups.setdefault(w, []).append(i)
    return [g for _w, g in sorted(groups.items()) if len(g) > 1]


def workload_leads(workload: Sequence[str | None], n: int | None = None) -> np.ndarray:
    """(I,): the first point of each point's workload (itself when it has none), for the
    points' ``workload`` column in demand order (``n`` points: a problem built from
    matrices may leave the column empty)."""
    lead = np.arange(len(workload) if n is None else n)
    for g in _workload_groups(workload):
        lead[g] = g[0]
    return lead


@dataclass(frozen=True)
class PlacementProblem:
    """Arrays indexed by site ``j``, demand ``i`` and type ``t`` (all in sorted id order)."""

    site_ids: tuple[str, ...]
    demand_ids: tuple[str, ...]
    type_ids: tuple[str, ...]
    load: np.ndarray  # (I,)
    cost: np.ndarray  # (J, T) annual cost, inf where type not allowed
    capacity: np.ndarray  # (J, T)
    latency: np.ndarray  # (I, J) ms
    primary_ms: np.ndarray  # (I,)
    backup_ms: np.ndarray  # (I,)
    distance_km: np.ndarray  # (J, J) straight line
    site_latency: np.ndarray  # (J, J) ms
    config: PlanConfig
    allowed: np.ndarray  # (J,) bool: not forbidden, not in a hard hazard buffer
    required: np.ndarray  # (J,) bool
    existing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (J,) today
    county: tuple[str | None, ...] = ()
    power_zone: tuple[str | None, ...] = ()
    macroregion: tuple[str | None, ...] = ()
    hazard_area: tuple[frozenset[str], ...] = ()  # hazards whose buffer contains the site
    hazard_penalty: np.ndarray = field(default_factory=lambda: np.zeros(0))
    demand_names: tuple[str, ...] = ()
    site_names: tuple[str, ...] = ()
    critical: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    crisis_rows: tuple[CrisisRow, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    # scenario → (I, J) latency, kept as distinct rows (co-located users share one)
    crisis_latency: dict[str, LatencyRows] = field(default_factory=dict)
    crisis_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    crisis_up: dict[str, np.ndarray] = field(default_factory=dict)  # scenario → (J,) alive
    cut_off: tuple[tuple[str, str], ...] = ()  # (scenario, demand) no placement can serve
    # scenario → (K,) share of each criticality class (most critical first) to serve
    scenario_levels: dict[str, np.ndarray] = field(default_factory=dict)
    crisis_cut: dict[str, np.ndarray] = field(default_factory=dict)  # scenario → (I,) cut off
    rank: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (I,)
    classes: tuple[str, ...] = ()
    # the fibre graph's routing copy and what an attacker may target (robust plans)
    routing: RoutingGraph | None = None
    backbone_nodes: tuple[str, ...] = ()
    srlg_ids: tuple[str, ...] = ()
    # protection level of each type (T,) and the level each user's sites need (I,)
    type_protection: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    demand_protection: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # the workload of each demand point (I,): points of one workload share their sites
    workload: tuple[str | None, ...] = ()
    # users that need other workloads as well (the platform services), in demand order
    dependencies: Dependencies | None = None

    def workload_groups(self) -> list[list[int]]:
        """Demand indices of every workload with more than one user point, in id order."""
        return _workload_groups(self.workload)

    def leads(self) -> np.ndarray:
        """(I,): the first user point of each user's workload (itself when it has none).

        The model gives a workload's user points one set of assignment variables, the
        lead's; rows that only read a user's own variables are written for leads only.
        """
        return workload_leads(self.workload, self.n_demand)

    @property
    def load_factor(self) -> float:
        """What a rack of primary load weighs against capacity in normal operation:
        ``(1 + growth) / utilisation_cap``."""
        return (1.0 + self.config.growth) / self.config.utilisation_cap

    def presence_sites(self, n: int) -> list[int]:
        """The candidate sites inside ``config.presence[n]``'s region."""
        pr = self.config.presence[n]
        return [
            j
            for j in range(self.n_sites)
            if (self.county[j] is not None and self.county[j] in pr.counties)
            or (self.power_zone[j] is not None and self.power_zone[j] in pr.power_zones)
        ]

    def protected_types(self, i: int) -> list[int]:
        """The types that may hold demand i's load (every type when protection is off)."""
        n_t = len(self.type_ids)
        if not self.config.protection or len(self.demand_protection) == 0:
            return list(range(n_t))
        need = int(self.demand_protection[i])
        return [t for t in range(n_t) if int(self.type_protection[t]) >= need]

    def backup_share(self) -> np.ndarray:
        """(I,) the largest share of each user's load that any scenario asks to keep
        served: what dedicated (1+1) backup reserves for it at each of its backups."""
        protect = np.zeros(self.n_demand)
        for lv in self.scenario_levels.values():
            protect = np.maximum(protect, lv[self.rank])
        return protect

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    def site_cost(self, sites: Mapping[str, str]) -> float:
        """The annual cost of opened ``sites`` (site id → type) as the cost objective counts
        its sites: each type's cost at the site plus the site's hazard penalty."""
        j = [self.site_ids.index(s) for s in sites]
        t = [self.type_ids.index(x) for x in sites.values()]
        cost = float(self.cost[j, t].sum()) if j else 0.0
        if len(self.hazard_penalty) == self.n_sites:
            cost += float(self.hazard_penalty[j].sum())
        return cost

    @property
    def n_demand(self) -> int:
        return len(self.demand_ids)

    def conflict(self) -> np.ndarray:
        """(J, J) bool: two sites too close (or too alike) to back each other up."""
        cfg = self.config
        c = np.zeros((self.n_sites, self.n_sites), dtype=bool)
        if cfg.separation_km is not None:
            c |= self.distance_km < cfg.separation_km
        for on, attr in (
            (cfg.separate_county, self.county),
            (cfg.separate_power_zone, self.power_zone),
        ):
            if on and attr:
                a = np.array([x if x is not None else f"?{j}" for j, x in enumerate(attr)])
                c |= a[:, None] == a[None, :]
        if cfg.separate_hazard_area and self.hazard_area:
            for j in range(self.n_sites):
                for jj in range(self.n_sites):
                    if self.hazard_area[j] & self.hazard_area[jj]:
                        c[j, jj] = True
        np.fill_diagonal(c, True)
        return c

    def conflict_classes(self) -> list[np.ndarray]:
        """Groups of sites that all conflict with each other by a partition rule.

        Same power zone (``separate_power_zone``) and same county
        (``separate_county``): each class of two or more sites is a clique of
        :meth:`conflict`, so one row per class says what one row per pair would.
        """
        cfg = self.config
        out: list[np.ndarray] = []
        for on, attr in (
            (cfg.separate_power_zone, self.power_zone),
            (cfg.separate_county, self.county),
        ):
            if not (on and attr):
                continue
            for value in sorted({a for a in attr if a is not None}):
                g = np.array([j for j, a in enumerate(attr) if a == value], dtype=int)
                if len(g) > 1:
                    out.append(g)
        return out


def _hazards(
    ds: Dataset, cfg: PlanConfig, sids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[frozenset[str]]]:
    """Per site of ``sids`` (in that order): inside a hard buffer; soft penalty; which
    hazard buffers contain it. A class's mode is ``hazard_classes`` or else ``hazards``."""
    n = len(sids)
    inside = np.zeros(n, dtype=bool)
    penalty = np.zeros(n)
    areas: list[set[str]] = [set() for _ in range(n)]
    if not ds.hazards:
        return inside, penalty, [frozenset(a) for a in areas]
    order = _file_rows(ds, sids)
    for k, h in enumerate(ds.hazards):
        mode = cfg.hazard_classes.get(h.hazard_class, cfg.hazards)
        d = ds.site_hazard_km[order, k]
        within = d <= h.buffer_km
        if mode == "hard":
            inside |= within
        elif mode == "soft" and h.buffer_km > 0:
            penalty += cfg.hazard_penalty_msek * np.clip(1.0 - d / h.buffer_km, 0.0, 1.0)
        for j in np.nonzero(within)[0]:
            areas[j].add(h.hazard_id)
    return inside, penalty, [frozenset(a) for a in areas]


def _file_rows(ds: Dataset, sids: Sequence[str]) -> np.ndarray:
    """Rows of ``ds.sites`` (file order, as the dataset's distance tables) for ``sids``
    (the problem's order, sorted by id)."""
    row = {s.site_id: j for j, s in enumerate(ds.sites)}
    return np.array([row[s] for s in sids], dtype=int)


def _near_border(ds: Dataset, cfg: PlanConfig, sids: Sequence[str]) -> np.ndarray:
    """(J,) bool in ``sids`` order: closer than ``border_km`` to a land border or than
    ``coast_km`` to the coast."""
    near = np.zeros(len(sids), dtype=bool)
    order = _file_rows(ds, sids)
    for cls, km in (("land_border", cfg.border_km), ("coast", cfg.coast_km)):
        if km is None:
            continue
        for k, h in enumerate(ds.hazards):
            if h.hazard_class == cls:
                near |= ds.site_hazard_km[order, k] < km
    return near


def _unknown(
    keys: Sequence[str] | Mapping[str, object], known: Sequence[str], column: str, what: str
) -> list[Problem]:
    """A problem for each key of a scenario table that the dataset does not know."""
    return [
        Problem(
            "scenario",
            f"{k!r} is not {what} of the dataset ({', '.join(known)})",
            column=column,
            unit="key",
        )
        for k in keys
        if k not in known
    ]


def from_dataset(ds: Dataset, cfg: PlanConfig, check: Check = no_check) -> PlacementProblem:
    """Derive the placement problem of a dataset under a plan configuration.

    ``check`` is called between the crisis scenarios (the run's time limit: a
    :meth:`~nisd.optimise.deadline.Deadline.checker`).

    Raises
    ------
    ConfigError
        Unknown required/forbidden sites or scenario sets, or a site both
        required and forbidden.
    InputError
        The scenarios' latency tables would not fit in half the machine's memory.
    NoSolutionError
        ``check`` found the time up.
    """
    check_config(ds, cfg)
    return _derive(ds, cfg, check)


# the settings the derived problem depends on (besides the required and forbidden sites
# and require_existing, which only set its site masks); every other setting is read by the
# model alone
DERIVED = (
    "min_population",
    "growth",
    "utilisation_cap",
    "hazards",
    "hazard_classes",
    "hazard_penalty_msek",
    "border_km",
    "coast_km",
    "crisis",
)


def derived_settings(cfg: PlanConfig) -> dict[str, Any]:
    """The part of ``cfg`` that :func:`from_dataset` reads beyond the site lists."""
    return cfg.model_dump(mode="json", include=set(DERIVED))


def with_config(ds: Dataset, pp: PlacementProblem, cfg: PlanConfig) -> PlacementProblem:
    """``from_dataset(ds, cfg)`` from ``pp``, already derived from ``ds`` under a
    configuration with the same :data:`DERIVED` settings as ``cfg``.

    Latency, scenarios and crisis data depend on those settings only; the required,
    forbidden and existing sites set the site masks, and everything else (k, separation,
    number of sites, budget, objective, solver...) is read by the model. Re-solves that
    change only such settings (``nisd explain``'s probes, most sweeps) reuse the rest
    instead of deriving it again.

    Raises
    ------
    ConfigError
        As :func:`from_dataset`; ValueError when a :data:`DERIVED` setting differs.
    """
    check_config(ds, cfg)
    if derived_settings(cfg) != derived_settings(pp.config):
        raise ValueError(
            "with_config: the configurations differ in a setting the problem is derived from"
        )
    ids = np.array(pp.site_ids)
    # what the lists do not decide: hazards and the border (the same in both)
    allowed = _allowed_apart_from_lists(ds, pp) & ~np.isin(ids, list(cfg.forbidden))
    existing = [cfg.require_existing and ds.site_by_id[s].existing for s in pp.site_ids]
    required = np.array(existing, dtype=bool) | np.isin(ids, list(cfg.required))
    return replace(pp, config=cfg, allowed=allowed, required=required)


def _allowed_apart_from_lists(ds: Dataset, pp: PlacementProblem) -> np.ndarray:
    """(J,): the sites no hard hazard buffer or border distance rules out."""
    cfg = pp.config
    ok = ~_hazards(ds, cfg, list(pp.site_ids))[0]
    return ok & ~_near_border(ds, cfg, list(pp.site_ids))


def check_config(ds: Dataset, cfg: PlanConfig) -> None:
    """The checks of :func:`from_dataset` (unknown sites, keys, levels and scenario sets),
    without deriving anything.

    Raises
    ------
    ConfigError
        Unknown sites, keys or levels.
    InputError
        An unknown scenario set name (as deriving the crisis scenarios would say).
    """
    for sl in cfg.crisis.service_levels():
        parse_sets(sl.sets)
    problems: list[Problem] = []
    known = set(ds.site_ids)
    for key in ("required", "forbidden"):
        for s in getattr(cfg, key):
            if s not in known:
                problems.append(
                    Problem("scenario", f"{key}: unknown site {s!r}", column=key, unit="key")
                )
    both = set(cfg.required) & set(cfg.forbidden)
    if both:
        problems.append(
            Problem(
                "scenario",
                f"sites both required and forbidden: {', '.join(sorted(both))}",
                column="required",
                unit="key",
            )
        )
    levels = ds.config.criticality.levels
    for lv in cfg.crisis.levels:
        if lv not in levels:
            problems.append(
                Problem(
                    "scenario",
                    f"crisis.levels: {lv!r} is not one of {', '.join(levels)}",
                    column="crisis.levels",
                    unit="key",
                )
            )
    where = [("war.serve", cfg.war.serve)] + [
        ("crisis.serve" if n == 0 and cfg.crisis.sets else f"crisis.tiers[{n}].serve", sl.serve)
        for n, sl in enumerate(cfg.crisis.service_levels())
    ]
    for column, keys in where:
        problems += _unknown(keys, levels, column, "a criticality level")
    county_known = sorted({s.county_code for s in ds.sites if s.county_code})
    zone_known = sorted({s.power_zone for s in ds.sites if s.power_zone})
    for n, pr in enumerate(cfg.presence):
        problems += _unknown(pr.counties, county_known, f"presence[{n}].counties", "a county")
        problems += _unknown(
            pr.power_zones, zone_known, f"presence[{n}].power_zones", "a power zone"
        )
    classes = {h.hazard_class for h in ds.hazards}
    for key, cls in (("border_km", "land_border"), ("coast_km", "coast")):
        if getattr(cfg, key) is not None and cls not in classes:
            problems.append(
                Problem(
                    "scenario",
                    f"{key} needs a hazard of class {cls} in the dataset's hazards",
                    column=key,
                    unit="key",
                )
            )
    problems += _unknown(
        cfg.hazard_classes, sorted(classes), "hazard_classes", "a hazard class of the data"
    )
    tiers = [
        ("crisis.serve" if n == 0 and cfg.crisis.sets else f"crisis.tiers[{n}].serve", sl.serve)
        for n, sl in enumerate(cfg.crisis.service_levels())
    ]
    if cfg.war.on:
        tiers.append(("war.serve", cfg.war.serve))
    problems += [
        Problem("scenario", msg, column="crisis", unit="key")
        for msg in level_problems(ds.demand, levels, [(w, dict(s)) for w, s in tiers])
    ]
    types_known = sorted(t.type_id for t in ds.site_types)
    problems += _unknown(cfg.min_population, types_known, "min_population", "a site type")
    problems += _unknown(
        cfg.war.harden_cost_msek, types_known, "war.harden_cost_msek", "a site type"
    )
    if problems:
        raise ConfigError(problems)


def _derive(ds: Dataset, cfg: PlanConfig, check: Check) -> PlacementProblem:
    levels = ds.config.criticality.levels
    sites = sorted(ds.sites, key=lambda s: s.site_id)
    demand = sorted(ds.demand, key=lambda d: d.demand_id)
    types = list(ds.site_types)
    g = build_graph(ds)
    sids = [s.site_id for s in sites]
    dids = [d.demand_id for d in demand]
    rg = routing_graph(g)
    lat = latency_matrix(rg, dids, sids)
    site_lat = latency_matrix(rg, sids, sids)
    dist = distance_matrix_km(ds, sids, sids)
    cost = np.full((len(sites), len(types)), np.inf)
    cap = np.zeros((len(sites), len(types)))
    for j, s in enumerate(sites):
        for t, ty in enumerate(types):
            staff = cfg.min_population.get(ty.type_id, 0)
            if ty.type_id in ds.allowed_types(s) and s.population >= staff:
                cost[j, t] = ty.cost_msek * s.cost_factor
                cap[j, t] = s.capacity if s.capacity is not None else ty.capacity
    # an unbounded capacity is as good as the whole load (keeps the MILP finite)
    total_load = float(sum(d.load for d in demand))
    cap = np.minimum(cap, total_load * (1.0 + cfg.growth) / cfg.utilisation_cap)
    in_hazard, penalty, areas = _hazards(ds, cfg, sids)
    allowed = np.array([s.site_id not in cfg.forbidden for s in sites])
    allowed &= ~in_hazard
    allowed &= ~_near_border(ds, cfg, sids)
    required = np.array(
        [s.site_id in cfg.required or (cfg.require_existing and s.existing) for s in sites]
    )
    rank = np.array([ds.criticality_rank(d.criticality) for d in demand], dtype=np.int64)
    crisis_ms = np.array([d.crisis_ms for d in demand])
    scen, scen_levels = _crisis_scenarios(ds, g, cfg, levels)
    critical = np.zeros(len(demand), dtype=bool)
    rows: list[CrisisRow] = []
    cut_off: list[tuple[str, str]] = []
    clat: dict[str, LatencyRows] = {}
    cup: dict[str, np.ndarray] = {}
    ccut: dict[str, np.ndarray] = {}
    lead = workload_leads([d.workload for d in demand])
    shared: dict[bytes, LatencyRows] = {}
    deps = Dependencies.of(demand)
    budget, held = table_bytes(), lat.nbytes + site_lat.nbytes
    for n_sc, sc in enumerate(scen):
        check(n_sc, len(scen))
        known = len(shared)
        m, up, cut = scenario_arrays(
            rg,
            sids,
            dids,
            crisis_ms,
            sc,
            islands=cfg.crisis.islands == "skip",
            shared=shared,
            deps=deps,
        )
        if len(shared) > known:
            held += m.rows.nbytes
            if held > budget:
                raise InputError(
                    [
                        Problem(
                            str(ds.path),
                            f"{len(sites):,} sites × {len(demand):,} users under "
                            f"{len(scen):,} crisis scenarios need more than "
                            f"{held / 2**30:.1f} GiB of latency tables after {n_sc + 1} "
                            f"scenario(s): at most half this machine's memory "
                            f"({budget / 2**30:.1f} GiB). Plan fewer sites or users, or "
                            "fewer crisis sets (crisis.sets)",
                        )
                    ]
                )
        clat[sc.name] = m
        cup[sc.name] = up
        ccut[sc.name] = cut
        share = scen_levels[sc.name][rank]
        critical |= share >= 1.0 - 1e-9
        for i in np.nonzero((share > 0) & cut)[0].tolist():
            if cfg.crisis.cut_off == "skip":
                cut_off.append((sc.name, dids[i]))
            else:
                rows.append(CrisisRow(sc.name, i, frozenset()))
        # fully served classes: some surviving site in time must be open (a valid cut).
        # One row per workload (a point without one is its own) and reachable set: the
        # points of a workload share their sites, so their equal rows say the same.
        in_full = np.nonzero((share >= 1.0 - 1e-9) & ~cut)[0]
        if not len(in_full):
            continue
        # the reachable set of each point, through its (latency row, bound) group
        _first, group, in_time = m.within(crisis_ms)
        reach = up[None, :] & in_time
        set_first, set_of_group = unique_rows(reach)
        set_of = set_of_group[group[in_full]]
        first, _q = unique_rows(np.stack([lead[in_full], set_of], axis=1))
        sets: dict[int, frozenset[int]] = {}
        for n in sorted(first.tolist()):
            k = int(set_of[n])
            if k not in sets:
                sets[k] = frozenset(np.nonzero(reach[set_first[k]])[0].tolist())
            rows.append(CrisisRow(sc.name, int(in_full[n]), sets[k]))
    return PlacementProblem(
        site_ids=tuple(sids),
        demand_ids=tuple(dids),
        type_ids=tuple(t.type_id for t in types),
        load=np.array([d.load for d in demand]),
        cost=cost,
        capacity=cap,
        latency=lat,
        primary_ms=np.array([d.primary_ms for d in demand]),
        backup_ms=np.array([d.backup_ms for d in demand]),
        distance_km=dist,
        site_latency=site_lat,
        config=cfg,
        allowed=allowed,
        required=required,
        existing=np.array([s.existing for s in sites], dtype=bool),
        county=tuple(s.county_code for s in sites),
        power_zone=tuple(s.power_zone for s in sites),
        macroregion=tuple(s.macroregion for s in sites),
        hazard_area=tuple(areas),
        hazard_penalty=penalty,
        demand_names=tuple(d.name for d in demand),
        site_names=tuple(s.name for s in sites),
        type_protection=np.array([t.protection for t in types], dtype=np.int64),
        demand_protection=np.array([d.protection for d in demand], dtype=np.int64),
        workload=tuple(d.workload for d in demand),
        dependencies=deps if deps else None,
        critical=critical,
        crisis_rows=tuple(rows),
        scenarios=tuple(scen),
        crisis_latency=clat,
        crisis_ms=crisis_ms,
        crisis_up=cup,
        cut_off=tuple(cut_off),
        scenario_levels=scen_levels,
        crisis_cut=ccut,
        rank=rank,
        classes=tuple(levels),
        routing=rg,
        backbone_nodes=tuple(sorted(ds.node_by_id)),
        srlg_ids=tuple(sorted({grp for lk in ds.links for grp in lk.srlg})),
    )


def scenario_arrays(
    rg: RoutingGraph,
    sids: Sequence[str],
    dids: Sequence[str],
    crisis_ms: np.ndarray,
    sc: Scenario,
    *,
    islands: bool = False,
    shared: dict[bytes, LatencyRows] | None = None,
    deps: Dependencies | None = None,
) -> tuple[LatencyRows, np.ndarray, np.ndarray]:
    """After ``sc``: demand→site latency (I, J, as distinct rows), sites up (J,), demand
    points cut off (I,).

    With ``islands``, users the scenario leaves on an island apart from the national
    network (:func:`nisd.topology.served.islanded`) count as cut off. ``shared`` keeps
    the matrices of earlier scenarios by the routes they leave
    (:meth:`RoutingGraph.routes_alive`): a scenario that changes no route but the lost
    sites' own (the loss of one site) reuses them, so the latency to a lost site may be
    finite; it is always read with ``up``. ``deps``: a user whose dependency rows are all
    cut off is cut off too (:mod:`nisd.topology.depends`).
    """
    alive = edge_alive(rg, sc)
    up = np.array([s not in sc.sites for s in sids])
    if shared is None:
        m = latency_rows(rg, dids, sids, alive=alive)
    else:
        routes = rg.routes_alive(alive, sc.sites)
        key = np.packbits(routes).tobytes()
        if key not in shared:
            shared[key] = latency_rows(rg, dids, sids, alive=routes)
        m = shared[key]
    _first, group, in_time = m.within(crisis_ms)
    cut = ~(up[None, :] & in_time).any(axis=1)[group]
    if islands:
        cut |= islanded(up[None, :] & np.isfinite(m.rows))[m.index]
    if deps:
        cut = deps.cut(cut)
    return m, up, np.asarray(cut)


def with_scenarios(
    pp: PlacementProblem, scenarios: Sequence[Scenario], levels: np.ndarray
) -> PlacementProblem:
    """``pp`` with more crisis scenarios (each with the class shares ``levels``).

    Used for attacks found while planning (their rows enter the model as
    capacity-true flow rows; no covering rows are derived for them).

    Raises
    ------
    ValueError
        ``pp`` has no routing graph (it was not derived from a dataset).
    """
    if pp.routing is None:
        raise ValueError("scenarios can only be added to a problem derived from a dataset")
    clat, cup, ccut = dict(pp.crisis_latency), dict(pp.crisis_up), dict(pp.crisis_cut)
    lv = dict(pp.scenario_levels)
    new = [sc for sc in scenarios if sc.name not in clat]
    for sc in new:
        clat[sc.name], cup[sc.name], ccut[sc.name] = scenario_arrays(
            pp.routing,
            pp.site_ids,
            pp.demand_ids,
            pp.crisis_ms,
            sc,
            islands=pp.config.crisis.islands == "skip",
            deps=pp.dependencies,
        )
        lv[sc.name] = np.asarray(levels, float)
    return replace(
        pp,
        scenarios=pp.scenarios + tuple(new),
        crisis_latency=clat,
        crisis_up=cup,
        crisis_cut=ccut,
        scenario_levels=lv,
    )


def _crisis_scenarios(
    ds: Dataset, g: nx.MultiGraph, cfg: PlanConfig, levels: Sequence[str]
) -> tuple[list[Scenario], dict[str, np.ndarray]]:
    """Every scenario of every service level, once, with the largest share per class."""
    scen: dict[str, Scenario] = {}
    shares: dict[str, np.ndarray] = {}
    for sl in cfg.crisis.service_levels():
        vec = np.array([sl.serve.get(lv, 0.0) for lv in levels])
        for sc in scenario_sets(ds, g, sl.sets):
            scen.setdefault(sc.name, sc)
            shares[sc.name] = np.maximum(shares.get(sc.name, np.zeros(len(levels))), vec)
    return list(scen.values()), shares


def reduce_rows(rows: tuple[CrisisRow, ...]) -> list[CrisisRow]:
    """Covering rows without duplicates and without rows implied by a smaller one.

    A row "open one of A" is implied by a row "open one of B" when B ⊆ A.
    """
    uniq: dict[frozenset[int], CrisisRow] = {}
    for r in rows:
        uniq.setdefault(r.sites, r)
    ordered = sorted(uniq.values(), key=lambda r: (len(r.sites), sorted(r.sites)))
    kept: list[CrisisRow] = []
    for r in ordered:
        if not any(k.sites <= r.sites for k in kept):
            kept.append(r)
    return kept


def from_matrices(
    latency: np.ndarray,
    distance_km: np.ndarray,
    cost: np.ndarray,
    capacity: np.ndarray,
    load: np.ndarray,
    primary_ms: np.ndarray,
    backup_ms: np.ndarray,
    config: PlanConfig,
    site_latency: np.ndarray | None = None,
    power_zone: Sequence[str | None] | None = None,
    county: Sequence[str | None] | None = None,
    type_protection: Sequence[int] | None = None,
    demand_protection: Sequence[int] | None = None,
    existing: Sequence[bool] | None = None,
) -> PlacementProblem:
    """The matrix door: a placement problem from arrays alone (one or more site types).

    ``latency`` is (I, J); ``distance_km`` and ``site_latency`` (J, J); ``cost`` and
    ``capacity`` (J, T); ``load``, ``primary_ms``, ``backup_ms`` (I,); optional
    ``power_zone`` and ``county`` labels per site (J,); optional protection levels
    per type (T,) and needed per demand point (I,); optional ``existing`` flags (J,)
    for the tie rule. No crisis scenarios; every site allowed unless its cost is
    infinite for every type.
    """
    n_i, n_j = latency.shape
    cost = np.asarray(cost, float).reshape(n_j, -1)
    return PlacementProblem(
        site_ids=tuple(f"s{j}" for j in range(n_j)),
        demand_ids=tuple(f"d{i}" for i in range(n_i)),
        type_ids=tuple(f"t{t}" for t in range(cost.shape[1])),
        load=np.asarray(load, float),
        cost=cost,
        capacity=np.asarray(capacity, float).reshape(n_j, -1),
        latency=np.asarray(latency, float),
        primary_ms=np.asarray(primary_ms, float),
        backup_ms=np.asarray(backup_ms, float),
        distance_km=np.asarray(distance_km, float),
        site_latency=np.asarray(site_latency if site_latency is not None else distance_km, float),
        config=config,
        allowed=np.isfinite(cost).any(axis=1),
        required=np.array([f"s{j}" in config.required for j in range(n_j)]),
        existing=np.array(existing if existing is not None else np.zeros(n_j), dtype=bool),
        county=tuple(county) if county is not None else (None,) * n_j,
        power_zone=tuple(power_zone) if power_zone is not None else (None,) * n_j,
        macroregion=(None,) * n_j,
        hazard_area=(frozenset(),) * n_j,
        hazard_penalty=np.zeros(n_j),
        demand_names=tuple(f"d{i}" for i in range(n_i)),
        site_names=tuple(f"s{j}" for j in range(n_j)),
        type_protection=np.asarray(
            type_protection if type_protection is not None else np.zeros(cost.shape[1]),
            dtype=np.int64,
        ),
        demand_protection=np.asarray(
            demand_protection if demand_protection is not None else np.zeros(n_i), dtype=np.int64
        ),
        critical=np.zeros(n_i, dtype=bool),
        crisis_ms=np.full(n_i, np.inf),
    )
