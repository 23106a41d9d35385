"""The NISD placement MILP, built from small named constraint families.

Why this module is long: it is the one placement model, one module (as PyPSA keeps a
model's families together): every family adds rows to the same variables, and the
sites-first master, the roll-out and the explanation of infeasibility compose them.

Formulation (indices: site j, type t, demand i, rank r = 1..k; see
``docs/model.md``):

* ``y[j,t]`` = 1 when site j is built as type t; ``o_j = Σ_t y[j,t] ≤ 1``.
* ``x[i,j,r]`` = 1 when j is demand i's rank-r site; created only where the
  fibre latency is within the bound (primary bound for r = 1, backup bound
  otherwise) and j may be built: infeasible pairs never enter the model.
* assignment: ``Σ_j x[i,j,r] = 1``; distinct sites: ``Σ_r x[i,j,r] ≤ o_j``.
* the user points of one workload (demand as services) share one set of ``x``
  variables: created where the site is within the bounds of every one of them, so
  the workload's sites serve all its users; rows that read only a user's own
  variables are written once, for the workload's first point.

Families (each a function adding named rows, switched by the scenario file):
count (p, p_min/p_max, budget), required/forbidden, capacity (primary load
≤ capacity of the built type), geo-redundancy (``x[i,j,r] + Σ_{j' in C(j)}
x[i,j',1] ≤ 1`` for r ≥ 2, C the sites too close to or in the same county /
zone / hazard area as j), spread (``o_j + o_j' ≤ 1`` closer than D_min;
minimum per macroregion and power zone; maximum per county), replication
(``o_j ≤ Σ_{j' partner} o_j'``), crisis robustness (covering rows
``Σ_{j ∈ A(s,i)} o_j ≥ 1`` for every scenario s and critical demand i, A the
sites that survive s and still reach i within its crisis bound over the
surviving fibre; duplicate and dominated rows dropped), capacity-true
service levels (a flow ``f[s,i,j]`` per scenario s, added lazily: see
:func:`add_crisis_flow`), dedicated backup (room for all load backed up).

Objectives: annual cost (+ hazard penalty, + optional network cost per
rack·km); p-median (load-weighted primary latency); p-center (worst primary
latency, via an epigraph variable); p-dispersion (smallest distance between
opened sites, maximised via ``D ≤ d_jj' + M (2 - o_j - o_j')``); weighted sums
(after scaling each term by its range); lexicographic (solve in order, each
earlier objective held within a tolerance).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pulp

from nisd.optimise.deadline import Check, no_check
from nisd.optimise.problem import PlacementProblem, reduce_rows
from nisd.topology.latency import in_time, unique_rows


@dataclass(frozen=True)
class RowInfo:
    """A row's family and what it means (parts such as a scenario and a demand id)."""

    family: str
    what: tuple[str, ...] = ()


@dataclass
class Model:
    """A built MILP and its variables, keyed by indices (never by user strings)."""

    prob: pulp.LpProblem
    y: dict[tuple[int, int], pulp.LpVariable]
    x: dict[tuple[int, int, int], pulp.LpVariable]
    open: dict[int, pulp.LpAffineExpression]
    terms: dict[str, pulp.LpAffineExpression] = field(default_factory=dict)
    families: dict[str, int] = field(default_factory=dict)
    rows: dict[str, RowInfo] = field(default_factory=dict)
    crisis_rows: int = 0
    crisis_rows_raw: int = 0
    flow_scenarios: list[str] = field(default_factory=list)
    # put before every variable and row name: several models (the years of a roll-out)
    # can then share one problem
    prefix: str = ""
    # the assignment variables of workload leads only (``x`` maps every user point,
    # a workload's points to their lead's variables)
    x_lead: dict[tuple[int, int, int], pulp.LpVariable] = field(default_factory=dict)

    def add(self, family: str, row: pulp.LpConstraint, *what: str) -> None:
        """Add a row named ``<family>_<n>`` (index-only, never a user string); ``what``
        says what it means in user terms (e.g. scenario and demand id), kept as a tuple."""
        n = self.families.get(family, 0)
        name = f"{self.prefix}{family}_{n}"
        self.prob += row, name
        self.families[family] = n + 1
        self.rows[name] = RowInfo(family, tuple(what))


@dataclass(frozen=True)
class Reach:
    """Where each workload lead may be assigned, as arrays (what :func:`create` builds on).

    ``leads`` (L,) the lead of each workload (a user point alone is its own lead);
    ``members[l]`` its user points; ``types`` (L, T) the types protected enough for
    every member; ``built`` (J, T) the (site, type) pairs that may be built; ``site``
    (k, L, J) whether lead l may have site j as its rank-r site: j may be built as a
    type protected enough, and every member reaches j within its primary bound
    (rank 1) or backup bound (ranks 2..k).
    """

    leads: np.ndarray
    members: tuple[np.ndarray, ...]
    types: np.ndarray
    built: np.ndarray
    site: np.ndarray

    def load(self, pp: PlacementProblem) -> np.ndarray:
        """(L,) racks of each workload (its members' loads summed)."""
        return np.array([float(pp.load[g].sum()) for g in self.members])


def reach(pp: PlacementProblem) -> Reach:
    """The assignment pairs of ``pp``'s model (:class:`Reach`), computed with arrays."""
    lead = pp.leads()
    leads = np.unique(lead)
    order = np.argsort(lead, kind="stable")
    starts = np.searchsorted(lead[order], leads)
    members = tuple(np.split(order, starts[1:]))
    built = pp.allowed[:, None] & np.isfinite(pp.cost)
    n_t = len(pp.type_ids)
    types = np.ones((len(leads), n_t), dtype=bool)
    if pp.config.protection and len(pp.demand_protection):
        need = np.maximum.reduceat(pp.demand_protection[order], starts)
        types = pp.type_protection[None, :] >= need[:, None]
    can = (built[None, :, :] & types[:, None, :]).any(axis=2)  # (L, J)
    site = np.zeros((pp.config.k, len(leads), pp.n_sites), dtype=bool)
    for r in range(pp.config.k):
        bound = pp.primary_ms if r == 0 else pp.backup_ms
        ok = in_time(pp.latency, bound[:, None])[order]
        site[r] = np.logical_and.reduceat(ok, starts, axis=0) & can
    return Reach(leads, members, types, built, site)


def create_sites(
    pp: PlacementProblem, prob: pulp.LpProblem | None = None, prefix: str = ""
) -> Model:
    """The site variables ``y[j,t]``, ``o_j`` and one type per site; no assignment."""
    prob = pulp.LpProblem("nisd", pulp.LpMinimize) if prob is None else prob
    y = {}
    for j in range(pp.n_sites):
        if not pp.allowed[j]:
            continue
        for t in range(len(pp.type_ids)):
            if np.isfinite(pp.cost[j, t]):
                y[j, t] = pulp.LpVariable(f"{prefix}y_{j}_{t}", cat="Binary")
    opened = {j: pulp.lpSum(v for (jj, _t), v in y.items() if jj == j) for j in range(pp.n_sites)}
    m = Model(prob, y, {}, opened, prefix=prefix)
    for j in range(pp.n_sites):
        if any((j, t) in y for t in range(len(pp.type_ids))):
            m.add("one_type", opened[j] <= 1)
    return m


def create(pp: PlacementProblem, prob: pulp.LpProblem | None = None, prefix: str = "") -> Model:
    """Variables, assignment and distinctness; nothing optional.

    With ``prob`` the variables and rows go into that problem, named with ``prefix``
    (one model per year of a roll-out in one problem)."""
    cfg = pp.config
    m = create_sites(pp, prob, prefix)
    opened = m.open
    ra = reach(pp)
    x = m.x
    for n, a in enumerate(ra.leads.tolist()):
        group = ra.members[n]
        for r in range(cfg.k):
            for j in np.nonzero(ra.site[r, n])[0].tolist():
                v = pulp.LpVariable(f"{prefix}x_{a}_{j}_{r}", cat="Binary")
                for i in group.tolist():
                    x[i, j, r] = v
    is_lead = set(ra.leads.tolist())
    m.x_lead = {(i, j, r): v for (i, j, r), v in x.items() if i in is_lead}
    by_rank: dict[tuple[int, int], list[int]] = {}
    for a, j, r in m.x_lead:
        by_rank.setdefault((a, r), []).append(j)
    for i in ra.leads.tolist():
        # valid inequalities (implied by assign + distinct): enough reachable sites are open
        for r in range(cfg.k):
            reach_r = sorted(by_rank.get((i, r), []))
            if reach_r:
                m.add("cover_cut", pulp.lpSum(opened[j] for j in reach_r) >= 1)
        allr = sorted({j for r in range(cfg.k) for j in by_rank.get((i, r), [])})
        if allr:
            m.add("cover_cut", pulp.lpSum(opened[j] for j in allr) >= cfg.k)
        for r in range(cfg.k):
            row = pulp.lpSum(x[i, j, r] for j in range(pp.n_sites) if (i, j, r) in x) == 1
            m.add("assign", row, pp.demand_ids[i], str(r))
        for j in range(pp.n_sites):
            ranks = [x[i, j, r] for r in range(cfg.k) if (i, j, r) in x]
            if ranks:
                m.add("distinct", pulp.lpSum(ranks) <= opened[j])
    return m


def add_protection(m: Model, pp: PlacementProblem) -> None:
    """Classified load only where the built type is protected enough.

    ``Σ_r x[i,j,r] ≤ Σ_{t : P_t ≥ N_i} y[j,t]`` for a user i that needs protection level
    N_i and a site j that may also be built as a type below it (where every type of j
    is protected enough, the distinct row says it; where none is, i has no variable at j).
    """
    lead = pp.leads()
    for i in range(pp.n_demand):
        ok = set(pp.protected_types(i))
        if lead[i] != i or len(ok) == len(pp.type_ids):
            continue
        for j in range(pp.n_sites):
            ranks = [m.x[i, j, r] for r in range(pp.config.k) if (i, j, r) in m.x]
            types = [t for t in range(len(pp.type_ids)) if (j, t) in m.y]
            if not ranks or all(t in ok for t in types):
                continue
            strong = pulp.lpSum(m.y[j, t] for t in types if t in ok)
            m.add(
                "protection",
                pulp.lpSum(ranks) <= strong,
                f"protection of {pp.demand_ids[i]} at {pp.site_ids[j]}",
            )


def add_presence(m: Model, pp: PlacementProblem) -> None:
    """Required presence: ``Σ_{j ∈ R} o_j ≥ m`` for a named region R; with a partner
    distance D, ``z_j ≤ o_j``, ``z_j ≤ Σ_{j' ≠ j : d_jj' ≤ D} o_j'``, ``Σ_{j ∈ R} z_j ≥ 1``
    (z continuous in [0, 1]: it can be positive only at an opened site of R with an
    opened partner, so one such site exists)."""
    built = sorted({jj for jj, _t in m.y})
    for n, pr in enumerate(pp.config.presence):
        region = sorted(set(pp.presence_sites(n)) & set(built))
        m.add(
            "presence",
            pulp.lpSum(m.open[j] for j in region) >= pr.min,
            f"at least {pr.min} site(s) in {pr.name}",
        )
        if pr.partner_km is None:
            continue
        z = []
        for j in region:
            zj = pulp.LpVariable(f"{m.prefix}presence_{n}_{j}", lowBound=0, upBound=1)
            z.append(zj)
            m.add("presence_partner", zj <= m.open[j])
            near = [
                m.open[jj]
                for jj in built
                if jj != j and pp.distance_km[j, jj] <= pr.partner_km + 1e-9
            ]
            m.add("presence_partner", zj <= pulp.lpSum(near))
        m.add(
            "presence_partner",
            pulp.lpSum(z) >= 1,
            f"a site in {pr.name} with a partner within {pr.partner_km:g} km",
        )


def add_count(m: Model, pp: PlacementProblem) -> None:
    cfg = pp.config
    total = pulp.lpSum(m.open.values())
    lo = cfg.p if cfg.p is not None else cfg.p_min
    hi = cfg.p if cfg.p is not None else cfg.p_max
    if lo is not None and lo == hi:
        m.add("count_exact", total == lo, f"exactly {lo} sites")
    else:
        if lo is not None:
            m.add("count_min", total >= lo, f"at least {lo} sites")
        if hi is not None:
            m.add("count_max", total <= hi, f"at most {hi} sites")
    if cfg.budget_msek is not None:
        m.add("budget", cost_expr(m, pp) <= cfg.budget_msek, f"budget {cfg.budget_msek:g} MSEK")


def add_required(m: Model, pp: PlacementProblem) -> None:
    for j in np.nonzero(pp.required)[0]:
        m.add("required", m.open[int(j)] == 1, f"required site {pp.site_ids[int(j)]}")


def add_capacity(m: Model, pp: PlacementProblem) -> None:
    """Primary load within each built site's capacity, and in all (a valid row that lets
    the solver reason about how many sites of which type the load needs). Load counts
    ``(1 + growth) / utilisation_cap`` times (:attr:`PlacementProblem.load_factor`)."""
    f = pp.load_factor
    total = float(pp.load.sum()) * f
    if total > 0 and m.y and all(np.isfinite(pp.capacity[j, t]) for j, t in m.y):
        room = pulp.lpSum(pp.capacity[j, t] * v for (j, t), v in m.y.items())
        m.add("capacity_total", room >= total, f"room for all {total:g} racks")
    lead = pp.leads()
    group_load = np.bincount(lead, weights=pp.load, minlength=pp.n_demand)
    at: dict[int, list[pulp.LpAffineExpression]] = {}
    for (i, j, r), v in m.x_lead.items():
        if r == 0:  # a workload's points share the lead's variable
            at.setdefault(j, []).append(f * float(group_load[i]) * v)
    for j in range(pp.n_sites):
        prim = at.get(j)
        if prim:
            m.add(
                "capacity",
                pulp.lpSum(prim) <= site_capacity(m, pp, j),
                f"capacity of {pp.site_ids[j]}",
            )


def add_geo_redundancy(m: Model, pp: PlacementProblem) -> None:
    """A user's primary and each of its backups never sit at conflicting sites.

    Conflicts that come from a partition (same power zone, same county) are cliques:
    for each class g of sites, ``Σ_{j ∈ g} x[i,j,1] + Σ_{j ∈ g} x[i,j,r] ≤ 1`` says
    it at once and is the strongest row for it. What is left (sites closer than the
    separation in different classes, shared hazard areas) gets one row per backup
    candidate: ``x[i,j,r] + Σ_{j' ∈ C'(j)} x[i,j',1] ≤ 1``.
    """
    conflict = pp.conflict()
    classes = pp.conflict_classes()
    rest = conflict.copy()
    for g in classes:
        rest[np.ix_(g, g)] = False
    np.fill_diagonal(rest, False)
    near_of = [np.nonzero(rest[j])[0].tolist() for j in range(pp.n_sites)]
    lead = pp.leads()
    for i in range(pp.n_demand):
        if lead[i] != i:
            continue  # the lead's rows hold for the workload's shared variables
        prim = {j: m.x[i, j, 0] for j in range(pp.n_sites) if (i, j, 0) in m.x}
        for r in range(1, pp.config.k):
            for g in classes:
                first = [m.x[i, j, 0] for j in g if (i, j, 0) in m.x]
                other = [m.x[i, j, r] for j in g if (i, j, r) in m.x]
                # a class of one candidate for i holding both ranks: the distinct row says it
                if first and other and len(first) + len(other) > 2:
                    m.add("georedundancy_class", pulp.lpSum(first + other) <= 1)
            for j in range(pp.n_sites):
                if (i, j, r) not in m.x:
                    continue
                near = [prim[jj] for jj in near_of[j] if jj in prim]
                if near:
                    m.add("georedundancy", m.x[i, j, r] + pulp.lpSum(near) <= 1)


def add_spread(m: Model, pp: PlacementProblem) -> None:
    cfg = pp.config
    cand = [j for j in range(pp.n_sites) if any(jj == j for jj, _t in m.y)]
    if cfg.min_site_distance_km:
        for a, b in itertools.combinations(cand, 2):
            if pp.distance_km[a, b] < cfg.min_site_distance_km:
                m.add("spread_distance", m.open[a] + m.open[b] <= 1)
    for attr, bound, family in (
        (pp.macroregion, cfg.min_per_macroregion, "min_per_macroregion"),
        (pp.power_zone, cfg.min_per_power_zone, "min_per_power_zone"),
    ):
        if bound:
            for value in sorted({v for v in attr if v is not None}):
                members = [m.open[j] for j in cand if attr[j] == value]
                m.add(family, pulp.lpSum(members) >= bound, f"{bound} site(s) in {value}")
    if cfg.max_per_county:
        for value in sorted({v for v in pp.county if v is not None}):
            members = [m.open[j] for j in cand if pp.county[j] == value]
            if len(members) > cfg.max_per_county:
                m.add(
                    "max_per_county",
                    pulp.lpSum(members) <= cfg.max_per_county,
                    f"at most {cfg.max_per_county} site(s) in county {value}",
                )


def add_replication(m: Model, pp: PlacementProblem) -> None:
    lim = pp.config.replication_ms
    if lim is None:
        return
    cand = [j for j in range(pp.n_sites) if any(jj == j for jj, _t in m.y)]
    for j in cand:
        partners = [m.open[jj] for jj in cand if jj != j and pp.site_latency[j, jj] <= lim]
        m.add(
            "replication",
            m.open[j] <= pulp.lpSum(partners),
            f"replication partner of {pp.site_ids[j]} within {lim:g} ms",
        )


def add_crisis(m: Model, pp: PlacementProblem) -> None:
    """Covering rows: a fully served class keeps an open site in reach after each scenario.

    ``Σ_{j ∈ A(s,i)} o_j ≥ 1`` for every scenario s and demand point i whose class
    must be served in full after s (A: the sites that survive s and still reach
    i within its crisis bound). They are implied by the capacity-true rows of
    :func:`add_crisis_flow` and hold for every scenario at once, so the solver
    sees them before any scenario's flow is added. Duplicate and dominated
    rows are dropped.
    """
    if not pp.crisis_rows:
        return
    add_crisis_cover(m, pp)
    add_crisis_data(m, pp)


def add_crisis_cover(m: Model, pp: PlacementProblem) -> None:
    """The covering rows of :func:`add_crisis` alone (they read the sites only)."""
    m.crisis_rows_raw = len(pp.crisis_rows)
    for row in reduce_rows(pp.crisis_rows):
        m.add(
            "crisis",
            pulp.lpSum(m.open[j] for j in sorted(row.sites)) >= 1,
            row.scenario,
            pp.demand_ids[row.demand],
        )
    m.crisis_rows = m.families.get("crisis", 0)


def add_crisis_data(m: Model, pp: PlacementProblem) -> None:
    """Data where it is needed: ``Σ_{j ∈ A(s,i)} Σ_r x[i,j,r] ≥ 1`` for fully served i.

    A demand point whose class must be served in full after scenario s needs
    one of its k assigned sites among A(s,i), the sites that survive s and
    reach it in time (implied by the capacity-true rows; stronger than the
    covering rows on open sites). A row is left out when it cannot bind: when
    fewer than k of i's candidate sites are outside A(s,i), or when a smaller
    row of the same point implies it.
    """
    k = pp.config.k
    lead = pp.leads()
    cand: dict[int, set[int]] = {}
    held: dict[int, list[tuple[int, pulp.LpVariable]]] = {}
    for (i, j, _r), v in m.x_lead.items():
        cand.setdefault(i, set()).add(j)
        held.setdefault(i, []).append((j, v))
    # a workload's users share their variables: their rows are rows of the lead
    per_demand: dict[int, set[frozenset[int]]] = {}
    for row in pp.crisis_rows:
        i = int(lead[row.demand])
        mine = cand.get(i, set())
        if len(mine - row.sites) < k or not row.sites & mine:
            continue  # cannot bind, or empty (the covering row already says it)
        per_demand.setdefault(i, set()).add(frozenset(row.sites & mine))
    for i in sorted(per_demand):
        kept: list[frozenset[int]] = []
        for a in sorted(per_demand[i], key=lambda x: (len(x), sorted(x))):
            if not any(b <= a for b in kept):
                kept.append(a)
        for a in kept:
            terms = [v for j, v in held[i] if j in a]
            m.add("crisis_data", pulp.lpSum(terms) >= 1, f"data of {pp.demand_ids[i]}")


def scenario_need(pp: PlacementProblem, name: str) -> np.ndarray:
    """(K,) racks each class must keep served after scenario ``name``."""
    cut = pp.crisis_cut[name]
    levels = pp.scenario_levels[name]
    base = np.bincount(pp.rank[~cut], weights=pp.load[~cut], minlength=len(levels))
    return np.asarray(levels * base[: len(levels)])


def add_crisis_room(m: Model, pp: PlacementProblem) -> None:
    """Room where it can be reached, for every scenario (Hall-type cuts).

    After scenario s, demand point i can only be served by the sites A(s,i)
    that survive and reach it in time. For every distinct set R = A(s,i) and
    the points D whose sets lie within R, the sites in R must hold what D must
    keep: ``Σ_{j ∈ R} C_j(y) ≥ Σ_c max(0, σ_c(s) B_c(s) − L_c(outside D))``,
    with B_c(s) the load of class c not cut off and L_c(outside D) the class's
    load outside D and not cut off (which can at most serve the rest of the class's
    share; cut-off users serve no share).
    Implied by the capacity-true rows of :func:`add_crisis_flow`, but present
    from the first round, so the first plan already buys enough reachable room.
    """
    best: dict[frozenset[int], float] = {}
    n_k = len(pp.classes)
    cols = np.nonzero(pp.allowed)[0]
    # scenarios that change no route share a matrix (the loss of one site): per matrix,
    # its groups' reach of the allowed sites and their load, once
    per_matrix: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    seen: set[tuple[int, bytes, bytes]] = set()
    for sc in pp.scenarios:
        need = scenario_need(pp, sc.name)
        if need.sum() <= 1e-9:
            continue
        lat = pp.crisis_latency[sc.name]
        up = pp.crisis_up[sc.name][cols]
        key = (id(lat), np.packbits(up).tobytes(), need.tobytes())
        if key in seen:
            continue  # the same matrix, sites and need give the same rows
        seen.add(key)
        if id(lat) not in per_matrix:
            # points with one latency row and one crisis bound reach the same sites
            first, grp, in_time = lat.within(pp.crisis_ms)
            load = np.zeros((len(first), n_k))
            np.add.at(load, (grp, pp.rank), pp.load)
            per_matrix[id(lat)] = (first, in_time[:, cols], load)
        first, in_time, load = per_matrix[id(lat)]
        # users cut off by the scenario are asked nothing and serve no level: their load
        # outside a set relieves no one (a group's users are cut off alike)
        load = load * ~pp.crisis_cut[sc.name][first][:, None]
        reach = up[None, :] & in_time
        some = reach[reach.any(axis=1)]
        sets = some[unique_rows(some)[0]]
        if not len(sets):
            continue
        # a group lies inside set R when it reaches nothing outside R
        hits = reach.astype(np.float32) @ (~sets).astype(np.float32).T  # (G, S)
        outside = (hits > 0).astype(float).T @ load  # (S, K): load that reaches outside R
        rooms = np.clip(need[None, :] - outside, 0, None).sum(axis=1)
        for row, room in zip(sets, rooms.tolist(), strict=True):
            r = frozenset(cols[np.nonzero(row)[0]].tolist())
            if room > best.get(r, 0.0) + 1e-9:
                best[r] = room
    for r, room in sorted(best.items(), key=lambda kv: (len(kv[0]), sorted(kv[0]))):
        # a larger set needing no more room than a smaller one inside it adds nothing
        if any(o < r and best[o] >= room - 1e-9 for o in best):
            continue
        cap = pulp.lpSum(pp.capacity[j, t] * v for (j, t), v in m.y.items() if j in r)
        m.add("crisis_room", cap >= room, f"room within reach after a crisis: {room:g} racks")


def site_capacity(m: Model, pp: PlacementProblem, j: int) -> pulp.LpAffineExpression:
    """Capacity of site j as built (0 when not built)."""
    return pulp.lpSum(pp.capacity[j, t] * v for (jj, t), v in m.y.items() if jj == j)


def held(m: Model, pp: PlacementProblem, i: int, j: int) -> pulp.LpAffineExpression | None:
    """``Σ_r x[i,j,r]``: 1 when site j holds demand i's data (as primary or backup)."""
    xs = [m.x[i, j, r] for r in range(pp.config.k) if (i, j, r) in m.x]
    return pulp.lpSum(xs) if xs else None


def add_dedicated_backup(m: Model, pp: PlacementProblem) -> None:
    """Dedicated (1+1) backup: room at a site for its primary load and, for every point it
    backs up, the protected part of that point's load.

    ``Σ_i w_i x_ij1 + Σ_i σ_i w_i Σ_{r ≥ 2} x_ijr ≤ Σ_t Q_jt y_jt`` with ``σ_i`` the largest
    share any scenario asks of i's class: the room is reserved whichever failure happens,
    never shared between failures (the comparison for shared backup).
    """
    protect = pp.backup_share()
    for j in range(pp.n_sites):
        terms = [
            pp.load[i] * (1.0 if r == 0 else protect[i]) * v
            for (i, jj, r), v in m.x.items()
            if jj == j and (r == 0 or protect[i] > 0)
        ]
        if terms:
            m.add(
                "dedicated_backup",
                pulp.lpSum(terms) <= site_capacity(m, pp, j),
                f"room for primary and protected backed-up load at {pp.site_ids[j]}",
            )


def add_crisis_flow(m: Model, pp: PlacementProblem, names: list[str]) -> None:
    """Capacity-true service levels after the scenarios ``names`` (shared backup).

    For scenario s, continuous ``f[s,i,j] ≥ 0`` is the load of demand i served
    by site j after s, on arcs where j survives s, i reaches j within its
    crisis bound over the surviving fibre, and i's class must keep a share:

    * ``f[s,i,j] ≤ L_i Σ_r x[i,j,r]``: only a site holding i's data serves it;
    * ``Σ_j f[s,i,j] ≤ L_i``;
    * ``Σ_i f[s,i,j] ≤ C_j(y)``: within the capacity of the built type;
    * ``Σ_{i ∈ c} Σ_j f[s,i,j] ≥ σ_c(s) Σ_{i ∈ c, not cut off by s} L_i``.

    Spare room is shared between scenarios (each has its own flow), which is
    failure-dependent relocation (Develder et al., IEEE/ACM ToN 2014; Couto
    et al., Computer Networks 2015). :func:`nisd.optimise.plan.optimise` adds
    scenarios lazily: exact once the served-load evaluator finds no scenario
    violated by the solver's plan.
    """
    lead = pp.leads()
    split = pp.config.crisis.split
    holds: dict[int, np.ndarray] = {}  # lead → (J,) sites that can hold its data
    for a, j, _r in m.x_lead:
        holds.setdefault(a, np.zeros(pp.n_sites, dtype=bool))[j] = True
    for name in names:
        s = len(m.flow_scenarios)
        m.flow_scenarios.append(name)
        lat = pp.crisis_latency[name]
        up = pp.crisis_up[name]
        cut = pp.crisis_cut[name]
        share = pp.scenario_levels[name][pp.rank]
        # With splitting, user points of one workload and class that can use the same
        # sites form one commodity (their load summed): a flow of the sum splits back in
        # proportion to the loads, so nothing is lost and the model is much smaller.
        groups: dict[tuple[int, int, tuple[int, ...]], list[int]] = {}
        # points of one workload at one latency row reach the same sites: ask once
        usable_of: dict[tuple[int, int, float], tuple[int, ...]] = {}
        for i in map(int, np.nonzero((share > 0) & ~cut)[0]):
            where = (int(lead[i]), int(lat.index[i]), float(pp.crisis_ms[i]))
            usable = usable_of.get(where)
            if usable is None:
                ok = holds[where[0]] & up & in_time(lat.rows[where[1]], where[2])
                usable = tuple(np.nonzero(ok)[0].tolist())
                usable_of[where] = usable
            if usable:
                key = (int(lead[i]) if split else i, int(pp.rank[i]), usable)
                groups.setdefault(key, []).append(i)
        at_site: dict[int, list[pulp.LpVariable | pulp.LpAffineExpression]] = {}
        of_class: dict[int, list[pulp.LpVariable | pulp.LpAffineExpression]] = {}
        for (_a, c, usable), members in groups.items():
            rep = members[0]
            load = float(pp.load[members].sum())
            row = []
            for j in usable:
                h = held(m, pp, rep, j)
                assert h is not None
                if split:
                    v: pulp.LpVariable | pulp.LpAffineExpression = pulp.LpVariable(
                        f"{m.prefix}f_{s}_{rep}_{j}", lowBound=0
                    )
                    m.add("crisis_hold", v <= load * h)
                else:  # the whole load or nothing: f = L_i z, z binary
                    z = pulp.LpVariable(f"{m.prefix}z_{s}_{rep}_{j}", cat="Binary")
                    m.add("crisis_hold", z <= h)
                    v = load * z
                row.append(v)
                at_site.setdefault(j, []).append(v)
                of_class.setdefault(c, []).append(v)
            m.add("crisis_load", pulp.lpSum(row) <= load)
        for j in sorted(at_site):
            m.add(
                "crisis_capacity",
                pulp.lpSum(at_site[j]) <= site_capacity(m, pp, j),
                name,
                f"capacity of {pp.site_ids[j]}",
            )
        levels = pp.scenario_levels[name]
        for c, lv in enumerate(levels):
            members_c = np.nonzero((pp.rank == c) & ~cut)[0]
            need = float(lv * pp.load[members_c].sum())
            if need <= 1e-9:
                continue
            m.add(
                "crisis_level",
                pulp.lpSum(of_class.get(c, [])) >= need,
                name,
                pp.classes[c],
            )


def cost_expr(m: Model, pp: PlacementProblem) -> pulp.LpAffineExpression:
    site = pulp.lpSum((pp.cost[j, t] + pp.hazard_penalty[j]) * v for (j, t), v in m.y.items())
    rate = pp.config.objective.network_cost_msek_per_rack_km
    if rate:
        site += primary_sum(m, pp, rate * pp.load[:, None] * pp.latency / 0.0049)
    return site


def primary_sum(m: Model, pp: PlacementProblem, w: np.ndarray) -> pulp.LpAffineExpression:
    """``Σ_i Σ_j w[i, j] x[i, j, 1]`` over every user point, written once per shared
    variable (a workload's points add their weights on their lead's variable)."""
    per_lead = np.zeros_like(w, dtype=float)
    np.add.at(per_lead, pp.leads(), w)
    return pulp.LpAffineExpression(
        [(v, float(per_lead[i, j])) for (i, j, r), v in m.x_lead.items() if r == 0]
    )


def objective_terms(
    m: Model, pp: PlacementProblem, names: tuple[str, ...]
) -> dict[str, pulp.LpAffineExpression]:
    """The named objectives as minimised expressions (dispersion is negated)."""
    terms = {"cost": cost_expr(m, pp)}
    terms["median"] = primary_sum(m, pp, pp.load[:, None] * pp.latency)
    if "center" in names:
        _center(m, pp, terms)
    if "dispersion" in names:
        _dispersion(m, pp, terms)
    m.terms = terms
    return terms


def _center(m: Model, pp: PlacementProblem, terms: dict[str, pulp.LpAffineExpression]) -> None:
    w = pulp.LpVariable(f"{m.prefix}w_center", lowBound=0)
    for i in range(pp.n_demand):
        m.add(
            "center",
            pulp.lpSum(pp.latency[i, j] * v for (ii, j, r), v in m.x.items() if ii == i and r == 0)
            <= w,
        )
    terms["center"] = pulp.LpAffineExpression(w)


def _dispersion(m: Model, pp: PlacementProblem, terms: dict[str, pulp.LpAffineExpression]) -> None:
    cand = sorted({j for j, _t in m.y})
    if len(cand) >= 2:
        big = float(pp.distance_km[np.ix_(cand, cand)].max())
        dmin = pulp.LpVariable(f"{m.prefix}d_dispersion", lowBound=0, upBound=big)
        for a, b in itertools.combinations(cand, 2):
            m.add("dispersion", dmin <= pp.distance_km[a, b] + big * (2 - m.open[a] - m.open[b]))
        terms["dispersion"] = -1 * pulp.LpAffineExpression(dmin)
    else:
        terms["dispersion"] = pulp.LpAffineExpression()


FAMILIES = (
    add_protection,
    add_presence,
    add_count,
    add_required,
    add_capacity,
    add_geo_redundancy,
    add_spread,
    add_replication,
    add_crisis,
    add_crisis_room,
    add_dedicated_backup,
)


def objective_names(pp: PlacementProblem) -> tuple[str, ...]:
    obj = pp.config.objective
    if obj.name == "weighted":
        return tuple(obj.weights)
    if obj.name == "lexicographic":
        return tuple(obj.order)
    return (obj.name,)


def build(
    pp: PlacementProblem,
    prob: pulp.LpProblem | None = None,
    prefix: str = "",
    check: Check = no_check,
) -> Model:
    """The full model: create, every switched-on family, objective terms (into ``prob``
    with names starting ``prefix`` when given, see :func:`create`); ``check`` is called
    between the families (the run's time limit)."""
    m = create(pp, prob, prefix)
    cfg = pp.config
    for n, fam in enumerate(FAMILIES):
        check(n, len(FAMILIES))
        if fam is add_capacity and not cfg.capacity:
            continue
        if fam is add_geo_redundancy and cfg.k < 2:
            continue
        if fam is add_dedicated_backup and not (pp.scenarios and cfg.crisis.backup == "dedicated"):
            continue
        fam(m, pp)
    objective_terms(m, pp, objective_names(pp))
    return m
