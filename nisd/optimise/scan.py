"""Every attack within a budget, scored in batches: the worst attacks found by listing them all.

The served-load evaluator (:func:`nisd.topology.resilience.evaluate`) takes about two
milliseconds an attack; three targets out of the Swedish default's 110 are 222,000
attacks. This module scores every attack in batches of arrays instead, exactly (the
same routes, the same islands rule, the same maximum flow), and hands the few whose
score puts them near the top to the evaluator, whose figures decide the order and are
the ones shown.

Per batch of attacks:

1. **What each attack takes out**: the edges of its targets (as
   :func:`nisd.optimise.interdict.attack_scenario` fails them) and its opened sites.
2. **Routes**: shortest latency from each opened site to each user, by Bellman–Ford over
   the backbone's transit vertices, every attack of the batch at once. Sites and users
   are leaves (no route passes through them), so a route is an access link out of the
   site, backbone hops, an access link into the user. Each route is summed from the site
   outward, as the evaluator's search sums it, so the latencies are the same numbers and
   "in time" is the same test (:func:`nisd.topology.latency.in_time`).
3. **Islands** (``crisis.islands = "skip"``): the pieces of the surviving backbone by
   label propagation; where an attack splits it, each user's row of reachable candidate
   sites is built and the rule of :func:`nisd.topology.served.islanded` applied to it
   (the same function): users on an island are served nothing.
4. **Served load of each class prefix**: for a bipartite network the most load a set
   ``S`` of users can send is ``min over sets T of opened sites of C(T) + L(users of S
   with a usable site outside T)`` (max-flow/min-cut; Gale 1957, *A theorem on flows in
   networks*, Pacific J. Math. 7). With at most :data:`MAX_SITES` opened sites every ``T``
   is tried, the loads summed over subsets by the zeta transform. These are the ranks of
   :mod:`nisd.topology.served` (the lexicographic flow reaches every prefix's rank), so
   the score is the interdiction search's key (:meth:`nisd.optimise.interdict.Found.key`).

Users with the same access links (same backbone vertices, weights and the targets that
take each link out) are scored once. A plan this module cannot score (a site or a user
that routes pass through, or more than :data:`MAX_SITES` opened sites) is left to the
evaluator (:func:`scannable` says why).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from math import comb

import numpy as np

from nisd.optimise.interdict import AttackObjective, FlowData, Target, prefix_weights
from nisd.topology.latency import in_time
from nisd.topology.served import islanded

MAX_SITES = 12  # 2**12 sets of opened sites per attack in the min-cut formula
MARGIN = 0.01  # racks: scores this close to the last pick's are re-evaluated
CELLS = 4_000_000  # floats of the largest array of one batch (sites × users × links)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Layout:
    """A plan's routing structure as arrays (transit vertices numbered 0..T-1; one extra
    edge number, ``n_edges``, that is always down, pads the ragged lists)."""

    targets: tuple[Target, ...]
    kill: np.ndarray  # (n_targets + 1, n_edges + 1) bool; the last row is "no target"
    site_of_target: np.ndarray  # (n_targets + 1,) opened site index or -1
    cand_of_target: np.ndarray  # (n_targets + 1,) candidate index or -1
    n_transit: int
    in_src: np.ndarray  # (T, D) transit source of each arc into a transit vertex
    in_edge: np.ndarray  # (T, D)
    in_w: np.ndarray  # (T, D) (inf for padding)
    site_t: np.ndarray  # (J, Ds) transit vertex each opened site's access arcs reach
    site_edge: np.ndarray
    site_w: np.ndarray
    group_of_user: np.ndarray  # (I,) users with the same access share a group
    group_t: np.ndarray  # (G, Du) transit vertex of each access arc into the group
    group_edge: np.ndarray
    group_w: np.ndarray
    cand_t: np.ndarray  # (C, Dc) transit vertex each candidate site's arcs reach
    cand_edge: np.ndarray
    fd: FlowData

    @property
    def load(self) -> np.ndarray:
        return self.fd.load

    @property
    def rank(self) -> np.ndarray:
        return self.fd.rank


def _pad(
    rows: Sequence[Sequence[tuple[int, int, float]]], none_edge: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ragged lists of (vertex, edge, weight) as padded arrays (padding: vertex 0, the
    always-down edge, weight inf)."""
    width = max([len(r) for r in rows] + [1])
    t = np.zeros((len(rows), width), dtype=np.int64)
    e = np.full((len(rows), width), none_edge, dtype=np.int64)
    w = np.full((len(rows), width), np.inf)
    for n, r in enumerate(rows):
        for k, (v, ed, wt) in enumerate(r):
            t[n, k], e[n, k], w[n, k] = v, ed, wt
    return t, e, w


def scannable(fd: FlowData, candidates: Sequence[str]) -> str | None:
    """Why the plan's attacks cannot be scored in batches (None: they can)."""
    rg = fd.rg
    if len(fd.site_ids) > MAX_SITES:
        return f"more than {MAX_SITES} opened sites"
    leaves = list(fd.site_ids) + list(fd.demand_ids) + list(candidates)
    if any(not rg.leaf[rg.out_index[v]] for v in leaves if v in rg.out_index):
        return "a site or user that routes pass through"
    transit = _transit(rg.leaf)
    if bool((~transit[rg.arc_src] & ~transit[rg.arc_dst]).any()):
        return "a link between two sites or users"
    return None


def _transit(leaf: np.ndarray) -> np.ndarray:
    transit = ~leaf
    transit[np.nonzero(leaf)[0] + 1] = False  # a leaf's receiving vertex
    return transit


def layout(fd: FlowData, targets: Sequence[Target], candidates: Sequence[str]) -> Layout:
    """The arrays the batches read (call :func:`scannable` first)."""
    rg = fd.rg
    n_e = len(rg.edge_keys)
    transit = _transit(rg.leaf)
    rows = np.nonzero(transit)[0]
    tix = np.full(rg.n, -1, dtype=np.int64)
    tix[rows] = np.arange(len(rows))
    kill = np.zeros((len(targets) + 1, n_e + 1), dtype=bool)
    kill[:, n_e] = True
    site_col = {s: j for j, s in enumerate(fd.site_ids)}
    cand_col = {s: c for c, s in enumerate(candidates)}
    site_of = np.full(len(targets) + 1, -1, dtype=np.int64)
    cand_of = np.full(len(targets) + 1, -1, dtype=np.int64)
    for n, t in enumerate(targets):
        kill[n, rg.srlg_edges[t.id] if t.kind == "srlg" else rg.vertex_edges[t.id]] = True
        if t.kind == "site":
            site_of[n] = site_col.get(t.id, -1)
            cand_of[n] = cand_col.get(t.id, -1)
    into: list[list[tuple[int, int, float]]] = [[] for _ in rows]
    out_of: dict[int, list[tuple[int, int, float]]] = {}
    into_leaf: dict[int, list[tuple[int, int, float]]] = {}
    for a in range(len(rg.arc_src)):
        u, v = int(rg.arc_src[a]), int(rg.arc_dst[a])
        e, w = int(rg.arc_edge[a]), float(rg.arc_w[a])
        if transit[u] and transit[v]:
            into[tix[v]].append((int(tix[u]), e, w))
        elif transit[v]:
            out_of.setdefault(u, []).append((int(tix[v]), e, w))
        elif transit[u]:
            into_leaf.setdefault(v, []).append((int(tix[u]), e, w))
    in_src, in_edge, in_w = _pad(into, n_e)
    site_t, site_edge, site_w = _pad([out_of.get(rg.out_index[s], []) for s in fd.site_ids], n_e)
    cand_t, cand_edge, _ = _pad([out_of.get(rg.out_index[s], []) for s in candidates], n_e)
    # users with the same access (vertex, weight, and which targets take the link out)
    killers = {e: frozenset(np.nonzero(kill[:-1, e])[0].tolist()) for e in range(n_e)}
    groups: dict[tuple[tuple[int, float, frozenset[int]], ...], int] = {}
    group_of = np.zeros(len(fd.demand_ids), dtype=np.int64)
    access: list[list[tuple[int, int, float]]] = []
    for i, d in enumerate(fd.demand_ids):
        arcs = sorted(into_leaf.get(rg.in_index[d], []))
        key = tuple((v, w, killers[e]) for v, e, w in arcs)
        if key not in groups:
            groups[key] = len(groups)
            access.append(arcs)
        group_of[i] = groups[key]
    group_t, group_edge, group_w = _pad(access, n_e)
    return Layout(
        targets=tuple(targets),
        kill=kill,
        site_of_target=site_of,
        cand_of_target=cand_of,
        n_transit=len(rows),
        in_src=in_src,
        in_edge=in_edge,
        in_w=in_w,
        site_t=site_t,
        site_edge=site_edge,
        site_w=site_w,
        group_of_user=group_of,
        group_t=group_t,
        group_edge=group_edge,
        group_w=group_w,
        cand_t=cand_t,
        cand_edge=cand_edge,
        fd=fd,
    )


def _routes(lay: Layout, alive: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(B, J, G) shortest latency from each opened site to each user group."""
    b, j = alive.shape[0], len(lay.site_t)
    dist = np.full((b, j, lay.n_transit), np.inf)
    ws = np.where(alive[:, lay.site_edge], lay.site_w, np.inf)  # (B, J, Ds)
    jj = np.arange(j)
    for d in range(lay.site_t.shape[1]):
        col = lay.site_t[:, d]
        dist[:, jj, col] = np.minimum(dist[:, jj, col], ws[:, :, d])
    win = np.where(alive[:, lay.in_edge], lay.in_w, np.inf)[:, None]  # (B, 1, T, D)
    for _ in range(lay.n_transit):
        new = np.minimum(dist, (dist[:, :, lay.in_src] + win).min(axis=3))
        if np.array_equal(new, dist):
            break
        dist = new
    wu = np.where(alive[:, lay.group_edge], lay.group_w, np.inf)[:, None]  # (B, 1, G, Du)
    out = (dist[:, :, lay.group_t] + wu).min(axis=3)
    return np.where(up[:, :, None], out, np.inf)


def _islanded(
    lay: Layout, alive: np.ndarray, cand_up: np.ndarray, seen: dict[bytes, np.ndarray]
) -> np.ndarray:
    """(B, G) user groups left on an island apart from the national network (``seen``:
    the answer for each split already met, by its pieces and surviving links)."""
    b, t = alive.shape[0], lay.n_transit
    lab = np.broadcast_to(np.arange(t), (b, t)).copy()
    link = alive[:, lay.in_edge]  # (B, T, D)
    for _ in range(t):
        new = np.minimum(lab, np.where(link, lab[:, lay.in_src], t).min(axis=2))
        if np.array_equal(new, lab):
            break
        lab = new
    out = np.zeros((b, len(lay.group_t)), dtype=bool)
    split = np.nonzero((lab != lab[:, :1]).any(axis=1))[0]
    g_alive = alive[:, lay.group_edge]  # (B, G, Du); padding is the always-down edge
    c_alive = alive[:, lay.cand_edge]
    for n in split.tolist():
        labels = lab[n]
        c_on = c_alive[n] & cand_up[n][:, None]
        key = labels.tobytes() + np.packbits(g_alive[n]).tobytes() + np.packbits(c_on).tobytes()
        if key not in seen:
            # per piece (its label): the candidate sites up in it
            in_piece = np.zeros((t, len(lay.cand_t)), dtype=bool)
            cs, ds = np.nonzero(c_on)
            in_piece[labels[lay.cand_t[cs, ds]], cs] = True
            rows = (in_piece[labels[lay.group_t]] & g_alive[n][:, :, None]).any(axis=1)
            # groups are numbered in the order of their first user, so islanded() meets
            # the rows in the order it meets the users' (its tie rule reads that order)
            seen[key] = islanded(rows)
        out[n] = seen[key]
    return out


def _ranks(lay: Layout, usable: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """(B, P) the most load of each weight vector's users the plan serves (the min cut
    over every set of opened sites)."""
    b, _i, j = usable.shape
    size = 1 << j
    mask = (usable.astype(np.int64) << np.arange(j)[None, None, :]).sum(axis=2)  # (B, I)
    cap = np.minimum(lay.fd.capacity, float(lay.load.sum()))
    sets = np.arange(size)
    cap_of = ((sets[:, None] >> np.arange(j)[None, :]) & 1) @ cap  # C(T) per set T
    flat = (np.arange(b)[:, None] * size + mask).ravel()
    out = np.empty((b, len(weights)))
    for p, w in enumerate(weights):
        lw = lay.load * w
        f = np.bincount(flat, weights=np.broadcast_to(lw, mask.shape).ravel(), minlength=b * size)
        f = f.reshape(b, size)
        for bit in range(j):  # the load of users whose usable sites all lie in T
            v = f.reshape(b, size >> (bit + 1), 2, 1 << bit)
            v[:, :, 1, :] += v[:, :, 0, :]
        # the cut of T: its sites' capacity and the load of users with a usable site
        # outside T (a user with none is inside every T: it cannot be served)
        out[:, p] = (cap_of[None, :] + float(lw.sum()) - f).min(axis=1)
    return out


def _key_values(lay: Layout, ranks: np.ndarray, objective: AttackObjective) -> np.ndarray:
    """The key's served figures from the class-prefix ranks, rounded as the evaluator's
    rows round them (each class's share to 6 decimals, the racks to 3)."""
    k = len(lay.fd.classes)
    load_c = np.bincount(lay.rank, weights=lay.load, minlength=k)[:k]
    present = sorted(set(lay.rank[lay.load > 0].tolist()))
    by_class = np.zeros((len(ranks), k))
    prev = np.zeros(len(ranks))
    for p, c in enumerate(present):
        by_class[:, c] = ranks[:, p] - prev
        prev = ranks[:, p]
    share = np.round(np.divide(by_class, load_c, out=np.zeros_like(by_class), where=load_c > 0), 6)
    racks = share * load_c
    if objective == "total":
        return np.round(racks.sum(axis=1, keepdims=True), 3)
    return np.round(np.stack([racks[:, : c + 1].sum(axis=1) for c in present], axis=1), 3)


def _index_attacks(
    targets: Sequence[Target], budget: float, protected: set[str]
) -> Iterator[tuple[int, ...]]:
    """Every attack within ``budget`` as target positions (sizes ascending)."""
    usable = [n for n, t in enumerate(targets) if not (t.kind == "site" and t.id in protected)]
    cost = [targets[n].cost for n in usable]
    cheapest = sorted(cost)
    for size in range(0, len(usable) + 1):
        if size and sum(cheapest[:size]) > budget + 1e-9:
            return
        for combo in itertools.combinations(range(len(usable)), size):
            if sum(cost[k] for k in combo) <= budget + 1e-9:
                yield tuple(usable[k] for k in combo)


def count_attacks(targets: Sequence[Target], budget: float, protected: set[str]) -> int:
    """How many attacks within ``budget`` (without listing them when costs are all 1)."""
    usable = [t for t in targets if not (t.kind == "site" and t.id in protected)]
    if all(t.cost == 1.0 for t in usable):
        r = int(np.floor(budget + 1e-9))
        return sum(comb(len(usable), s) for s in range(0, min(r, len(usable)) + 1))
    return sum(1 for _ in _index_attacks(targets, budget, protected))


class Scan:
    """Scores every attack within ``budget`` on a plan, a batch at a time.

    ``values`` (N, P) are the key's served figures of each attack (class prefixes,
    critical first, or one figure of all load), ``attacks`` (N, r) its targets as
    positions in ``lay.targets`` (``len(lay.targets)`` pads a smaller attack).
    """

    def __init__(
        self,
        lay: Layout,
        budget: float,
        *,
        candidates: int,
        objective: AttackObjective = "critical-first",
        islands: bool = False,
        protected: set[str] | None = None,
    ) -> None:
        self.lay = lay
        self.objective = objective
        self.islands = islands
        self.candidates = candidates
        protected = protected or set()
        nt = len(lay.targets)
        cheapest = min([t.cost for t in lay.targets] + [1.0])
        self.width = max(1, min(nt, int(np.floor(budget / cheapest + 1e-9)))) if nt else 1
        self.total = count_attacks(lay.targets, budget, protected)
        # the evaluator's flow is critical-first whatever the attacker's objective
        self.weights = prefix_weights(lay.fd, "critical-first")
        j, g = len(lay.site_t), len(lay.group_t)
        wide = max(lay.group_t.shape[1], lay.in_src.shape[1], 1)
        self.batch = int(max(16, min(2048, CELLS // max(1, j * max(g, lay.n_transit) * wide))))
        self._gen = _index_attacks(lay.targets, budget, protected)
        self._seen: dict[bytes, np.ndarray] = {}
        self._values: list[np.ndarray] = []
        self._attacks: list[np.ndarray] = []
        self.done = 0
        self.seconds = 0.0

    def step(self) -> bool:
        """Score the next batch; False when every attack is scored."""
        t = time.perf_counter()
        chunk = list(itertools.islice(self._gen, self.batch))
        if not chunk:
            return False
        lay, nt, j = self.lay, len(self.lay.targets), len(self.lay.site_t)
        idx = np.full((len(chunk), self.width), nt, dtype=np.int64)
        for n, a in enumerate(chunk):
            idx[n, : len(a)] = a
        alive = np.asarray(~lay.kill[idx].any(axis=1))  # (B, E + 1)
        up = np.ones((len(chunk), j), dtype=bool)
        cand_up = np.ones((len(chunk), self.candidates), dtype=bool)
        for col in range(self.width):
            s = lay.site_of_target[idx[:, col]]
            up[np.nonzero(s >= 0)[0], s[s >= 0]] = False
            c = lay.cand_of_target[idx[:, col]]
            cand_up[np.nonzero(c >= 0)[0], c[c >= 0]] = False
        lat = _routes(lay, alive, up)  # (B, J, G)
        usable = in_time(lat[:, :, lay.group_of_user], lay.fd.bound[None, None, :])
        usable = usable.transpose(0, 2, 1) & lay.fd.holds[None]  # (B, I, J)
        if self.islands:
            isl = _islanded(lay, alive, cand_up, self._seen)[:, lay.group_of_user]  # (B, I)
            usable &= ~isl[:, :, None]
        if lay.fd.deps is not None:
            usable &= ~lay.fd.deps.dead(usable.any(axis=2))[:, :, None]
        self._values.append(_key_values(lay, _ranks(lay, usable, self.weights), self.objective))
        self._attacks.append(idx)
        self.done += len(chunk)
        self.seconds += time.perf_counter() - t
        return True

    def run(self, progress: Progress | None = None) -> None:
        """Score every attack left (``progress(done, total)`` after each batch)."""
        while self.step():
            if progress is not None:
                progress(self.done, self.total)

    def estimate(self) -> float:
        """Seconds to score every attack, from the batches scored so far."""
        return self.seconds / max(1, self.done) * self.total

    @property
    def values(self) -> np.ndarray:
        if not self._values:
            return np.zeros((0, 1 if self.objective == "total" else len(self.weights)))
        return np.concatenate(self._values)

    @property
    def attacks(self) -> np.ndarray:
        if not self._attacks:
            return np.zeros((0, self.width), dtype=np.int64)
        return np.concatenate(self._attacks)


def order(lay: Layout, values: np.ndarray, attacks: np.ndarray) -> np.ndarray:
    """Positions of the attacks sorted by key: least served (prefix by prefix), fewest
    targets, then target names."""
    nt = len(lay.targets)
    names = sorted(range(nt), key=lambda n: lay.targets[n].name)
    name_rank = np.empty(nt + 1, dtype=np.int64)
    name_rank[names] = np.arange(nt)
    name_rank[nt] = -1  # padding sorts before any name (equal sizes are compared here)
    named = np.sort(name_rank[attacks], axis=1)
    size = (attacks < nt).sum(axis=1)
    # np.lexsort sorts by the last key first
    keys = [named[:, c] for c in range(named.shape[1] - 1, -1, -1)]
    keys += [size] + [values[:, p] for p in range(values.shape[1] - 1, -1, -1)]
    return np.lexsort(keys)


def near(values: np.ndarray, last: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """Attacks whose key could be no later than ``last`` (within ``margin`` racks in every
    figure where it decides): the ones the evaluator looks at again."""
    keep = np.zeros(len(values), dtype=bool)
    open_ = np.ones(len(values), dtype=bool)
    for p in range(values.shape[1]):
        less = open_ & (values[:, p] < last[p] - margin)
        more = open_ & (values[:, p] > last[p] + margin)
        keep |= less
        open_ &= ~(less | more)
    return keep | open_


def as_targets(lay: Layout, row: np.ndarray) -> tuple[Target, ...]:
    nt = len(lay.targets)
    return tuple(sorted(lay.targets[int(k)] for k in row if k < nt))
