"""Shapley values of a cost game that finish: exact for few players, sampled to a stated
precision otherwise, with as few coalition values solved as the game allows.

The value of a coalition (its cheapest plan) is a MILP solve, the expensive part. Three
things keep their number down:

* **memo**: a coalition's value is solved once;
* **bounds from monotonicity**: serving more users never costs less, so every coalition
  solved bounds the others, ``max v(T ⊆ S) ≤ v(S) ≤ min v(T ⊇ S)``; where the bounds meet,
  the value is known without a solve. The game is checked as it goes: a solved value that
  breaks monotonicity switches the inference off (and is said), and what was inferred
  before it is computed again (:func:`exact`) or its orders dropped (:func:`sampled`);
* **orders by bisection**: along a random order the prefixes' values rise in a few steps;
  the prefixes are evaluated by bisecting between known ends, so that a stretch whose ends
  have the same value is filled without a solve.

Sampled values (Castro, Gómez & Tejada 2009, *Polynomial calculation of the Shapley
value based on sampling*, Computers & Operations Research 36(5)) average groups of
orders: a random order, its reverse, and the orders that permute the few players whose
marginal costs vary most among the places they hold (:func:`sampled`); sampling stops
when every player's value is known within ``precision`` at the stated confidence (normal
interval over the groups), when the time budget is spent, or at the most orders allowed,
whichever first, and the precision reached is reported.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

Progress = Callable[[int, int], None]


class Game:
    """A cost game over ``players``: ``v(S)`` memoised, inferred from monotonicity where it
    can be; ``solves`` counts the values computed, ``inferred`` those that were not."""

    def __init__(
        self,
        players: Sequence[str],
        value: Callable[[frozenset[str]], float],
        *,
        monotone: bool = True,
        tol: float = 1e-6,
    ) -> None:
        self.players = list(players)
        self.bit = {p: 1 << n for n, p in enumerate(self.players)}
        self._value = value
        self.monotone = monotone
        self.tol = tol
        self.known: dict[int, float] = {0: 0.0}
        self.solves = 0
        self.inferred = 0
        self.broken: tuple[frozenset[str], frozenset[str]] | None = None

    def mask(self, s: frozenset[str]) -> int:
        return sum(self.bit[p] for p in s)

    def bounds(self, m: int) -> tuple[float, float]:
        """The values every known coalition inside and around ``m`` allows."""
        lo, hi = 0.0, math.inf
        for t, v in self.known.items():
            if t & ~m == 0:  # t ⊆ m
                lo = max(lo, v)
            if m & ~t == 0:  # m ⊆ t
                hi = min(hi, v)
        return lo, hi

    def __call__(self, s: frozenset[str]) -> float:
        m = self.mask(s)
        if m in self.known:
            return self.known[m]
        if self.monotone:
            lo, hi = self.bounds(m)
            if math.isfinite(hi) and hi - lo <= self.tol * max(1.0, abs(hi)):
                self.inferred += 1
                return lo
        v = float(self._value(s))
        self.solves += 1
        if self.monotone:
            lo, hi = self.bounds(m)
            if v < lo - self.tol * max(1.0, lo) or v > hi + self.tol * max(1.0, abs(hi)):
                self.monotone = False  # serving more users cost less: bounds no longer hold
                self.broken = (s, frozenset(self._names(m)))
        self.known[m] = v
        return v

    def _names(self, m: int) -> list[str]:
        return [p for p in self.players if m & self.bit[p]]

    def prefixes(self, order: Sequence[str]) -> list[float]:
        """``v`` of every prefix of ``order`` (the empty one first), by bisection."""
        chain = [frozenset(order[:k]) for k in range(len(order) + 1)]
        vals: list[float | None] = [None] * len(chain)
        vals[0], vals[-1] = self(chain[0]), self(chain[-1])

        def fill(a: int, b: int) -> None:
            va, vb = vals[a], vals[b]
            assert va is not None and vb is not None
            if b - a <= 1:
                return
            if self.monotone and abs(vb - va) <= self.tol * max(1.0, abs(vb)):
                for k in range(a + 1, b):
                    vals[k] = va
                    self.inferred += 1
                return
            mid = (a + b) // 2
            vals[mid] = self(chain[mid])
            fill(a, mid)
            fill(mid, b)

        fill(0, len(chain) - 1)
        return [float(v) for v in vals if v is not None]


def exact(game: Game, progress: Progress | None = None) -> dict[str, float]:
    """The Shapley value by every coalition (2^n of them; most inferred, not solved)."""
    players = game.players
    n = len(players)
    out = dict.fromkeys(players, 0.0)
    total = 2**n
    # subsets by size: small and large coalitions first bound the ones between
    masks = sorted(range(total), key=lambda m: (-abs(2 * bin(m).count("1") - n), m))
    value: dict[int, float] = {}
    for done, m in enumerate(masks, 1):
        value[m] = game(frozenset(game._names(m)))
        if progress is not None and done % 16 == 0:
            progress(done, total)
    if not game.monotone and game.inferred:
        # a value broke monotonicity: the values inferred before it are not trusted;
        # every coalition is taken again (the solved ones from the memo)
        value = {m: game(frozenset(game._names(m))) for m in masks}
    fact = [math.factorial(k) for k in range(n + 1)]
    for p in players:
        b = game.bit[p]
        for m in range(total):
            if m & b:
                continue
            size = bin(m).count("1")
            w = fact[size] * fact[n - size - 1] / fact[n]
            out[p] += w * (value[m | b] - value[m])
    if progress is not None:
        progress(total, total)
    return out


@dataclass(frozen=True)
class Estimate:
    """Sampled Shapley values: each player's mean marginal cost and the half-width of its
    interval at ``confidence``; how many orders were drawn and why sampling stopped."""

    value: dict[str, float]
    half_width: dict[str, float]
    orders: int
    confidence: float
    stopped_by: str  # "precision", "time" or "orders"
    seconds: float
    key_players: tuple[str, ...] = ()


def sampled(
    game: Game,
    *,
    precision: float,
    confidence: float = 0.95,
    seconds: float = 60.0,
    max_orders: int = 20_000,
    pilot_pairs: int = 4,
    key_players: int = 2,
    seed: int = 0,
    progress: Progress | None = None,
) -> Estimate:
    """Shapley values from random orders, until every player's value is within
    ``precision`` (absolute, the game's unit) at ``confidence``, or ``seconds`` have
    passed, or ``max_orders`` orders are drawn.

    A pilot of ``pilot_pairs`` antithetic pairs finds the ``key_players`` whose marginal
    costs vary most (in a cost game, those who bring a whole site with them when they come
    first). Every later sample is a group: a random order, the orders that permute the key
    players among the places they hold in it, and the reverses of all of them; the sample
    is the group's mean marginal cost. Over a group each key player comes first among them
    equally often, so the cost they share by who comes first no longer varies from sample
    to sample; every order is still equally likely, so the mean is unbiased.

    ``progress(done, of)`` reports the precision reached as a share of the goal: ``done``
    of ``of`` = 1000 when it is met."""
    t0 = time.perf_counter()
    rng = random.Random(seed)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    players = game.players
    pilot: dict[str, list[float]] = {p: [] for p in players}
    samples: dict[str, list[float]] = {p: [] for p in players}
    orders = 0
    key: list[str] = []
    stopped = "orders"

    order_sizes = [0, 0]  # the orders of the next group: a pair, then the key groups

    def marginals(group: list[list[str]]) -> dict[str, float]:
        nonlocal orders
        order_sizes[:] = [0] * len(group)
        acc = dict.fromkeys(players, 0.0)
        for o in group:
            vals = game.prefixes(o)
            for k, p in enumerate(o):
                acc[p] += (vals[k + 1] - vals[k]) / len(group)
        orders += len(group)
        return acc

    trusted = game.monotone
    while orders < max_orders:
        if trusted and not game.monotone:
            # a value broke monotonicity: orders whose prefixes were inferred are dropped
            # and sampling starts again (the solved values stay in the memo)
            trusted = False
            pilot = {p: [] for p in players}
            samples = {p: [] for p in players}
            key = []
        n_done = len(samples[players[0]]) if players else 0
        spent = time.perf_counter() - t0
        if n_done >= 2 and orders and spent + spent / orders * len(order_sizes) > seconds:
            stopped = "time"  # the next group would end past the budget
            break
        order = list(players)
        rng.shuffle(order)
        if len(pilot[players[0]]) < pilot_pairs:
            m = marginals([order, order[::-1]])
            for p in players:
                pilot[p].append(m[p])
                samples[p].append(m[p])
            if len(pilot[players[0]]) == pilot_pairs:
                spread = _half_widths(pilot, 1.0)
                key = sorted(players, key=lambda p: -spread[p])[: max(0, key_players)]
                key = [p for p in key if spread[p] > 0]
                # the pilot's pairs are samples of another design: start again with groups
                samples = {p: [] for p in players}
        else:
            at = sorted(order.index(p) for p in key)
            group = []
            for perm in itertools.permutations(key):
                o = list(order)
                for pos, p in zip(at, perm, strict=True):
                    o[pos] = p
                group += [o, o[::-1]]
            m = marginals(group)
            for p in players:
                samples[p].append(m[p])
        n = len(samples[players[0]]) if players else 0
        over = time.perf_counter() - t0 > seconds
        if n >= 2:
            half = _half_widths(samples, z)
            worst = max(half.values(), default=0.0)
            if progress is not None:
                progress(min(1000, int(1000 * precision / max(worst, 1e-12))), 1000)
            if worst <= precision and n >= 5:
                stopped = "precision"
                break
        if over and n >= 2:
            stopped = "time"
            break
    if len(samples[players[0]] if players else []) < 2:  # the pilot alone: use it
        samples = pilot
    half = _half_widths(samples, z)
    return Estimate(
        value={p: sum(v) / len(v) if v else 0.0 for p, v in samples.items()},
        half_width=half,
        orders=orders,
        confidence=confidence,
        stopped_by=stopped,
        seconds=time.perf_counter() - t0,
        key_players=tuple(key),
    )


def _half_widths(samples: dict[str, list[float]], z: float) -> dict[str, float]:
    out = {}
    for p, v in samples.items():
        n = len(v)
        if n < 2:
            out[p] = math.inf
            continue
        mean = sum(v) / n
        var = sum((x - mean) ** 2 for x in v) / (n - 1)
        out[p] = z * math.sqrt(var / n)
    return out


__all__ = ["Estimate", "Game", "exact", "sampled"]
