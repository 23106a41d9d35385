"""The NISD MILP against brute force on small random instances, per objective and family."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import InfeasibleError
from nisd.optimise import optimise
from nisd.optimise.check import check_plan
from nisd.optimise.problem import PlacementProblem, from_matrices
from nisd.records import Plan
from tests.helpers import geometry, two_type_costs


def brute(pp: PlacementProblem, objective: str) -> float | None:
    """Best objective over every site subset and every assignment (one site type)."""
    cfg = pp.config
    n_i, n_j = pp.latency.shape
    conflict = pp.conflict()
    best = math.inf
    lo = cfg.p if cfg.p is not None else (cfg.p_min or 1)
    hi = cfg.p if cfg.p is not None else (cfg.p_max or n_j)
    for size in range(max(lo, 1), min(hi, n_j) + 1):
        for subset in itertools.combinations(range(n_j), size):
            if not all(pp.allowed[j] for j in subset):
                continue
            if cfg.min_site_distance_km and any(
                pp.distance_km[a, b] < cfg.min_site_distance_km
                for a, b in itertools.combinations(subset, 2)
            ):
                continue
            cost = sum(pp.cost[j, 0] for j in subset)
            choices = []
            for i in range(n_i):
                opts = []
                for seq in itertools.permutations(subset, cfg.k):
                    if pp.latency[i, seq[0]] > pp.primary_ms[i]:
                        continue
                    if any(pp.latency[i, j] > pp.backup_ms[i] for j in seq[1:]):
                        continue
                    if cfg.k > 1 and any(conflict[seq[0], j] for j in seq[1:]):
                        continue
                    opts.append(seq)
                choices.append(opts)
            if any(not c for c in choices):
                continue
            for combo in itertools.product(*[sorted({c[0] for c in ch}) for ch in choices]):
                if cfg.capacity:
                    used = np.zeros(n_j)
                    for i, j in enumerate(combo):
                        used[j] += pp.load[i]
                    if any(used[j] > pp.capacity[j, 0] + 1e-9 for j in subset):
                        continue
                lat = [pp.latency[i, j] for i, j in enumerate(combo)]
                value = {
                    "cost": cost,
                    "median": sum(pp.load[i] * x for i, x in enumerate(lat)),
                    "center": max(lat),
                }[objective]
                best = min(best, value)
    return None if best == math.inf else best


def matches(pp: PlacementProblem, expected: float | None, objective: str = "cost") -> Plan | None:
    """The MILP's proved optimum equals brute force's, and its plan passes the checker;
    where brute force finds no plan the MILP must prove there is none. Returns the plan
    (None when there is none) for further checks."""
    ds: Dataset = None  # type: ignore[assignment]  # no crisis scenarios: no dataset needed
    if expected is None:
        try:
            optimise(ds, pp)
        except InfeasibleError:
            return None
        raise AssertionError("the MILP found a plan where brute force found none")
    plan = optimise(ds, pp)
    assert plan.status == "optimal"
    assert check_plan(pp, plan.sites, plan.assignments) == []
    got = plan.kpis.cost_msek if objective == "cost" else plan.value
    assert math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-6), (got, expected)
    return plan


@st.composite
def instances(draw: st.DrawFn) -> tuple[PlacementProblem, str]:
    n_i = draw(st.integers(1, 3))
    n_j = draw(st.integers(2, 4))
    lat, dist = geometry(draw, n_i, n_j, 400)
    cost = np.array(draw(st.lists(st.integers(1, 9), min_size=n_j, max_size=n_j)), float)
    cap = np.array(draw(st.lists(st.integers(1, 6), min_size=n_j, max_size=n_j)), float)
    load = np.array(draw(st.lists(st.integers(1, 3), min_size=n_i, max_size=n_i)), float)
    k = draw(st.integers(1, min(3, n_j)))
    zones = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=n_j, max_size=n_j))
    counties = draw(st.lists(st.sampled_from(["01", "02"]), min_size=n_j, max_size=n_j))
    cfg = PlanConfig(
        k=k,
        separate_power_zone=k > 1 and draw(st.booleans()),
        separate_county=k > 1 and draw(st.booleans()),
        separation_km=draw(st.sampled_from([None, 100.0, 200.0])) if k > 1 else None,
        capacity=draw(st.booleans()),
        p_max=draw(st.sampled_from([None, n_j - 1 if n_j - 1 >= k else None])),
        min_site_distance_km=draw(st.sampled_from([None, 50.0])),
        hazards="off",
    )
    objective = draw(st.sampled_from(["cost", "median", "center"]))
    cfg = cfg.model_copy(update={"objective": cfg.objective.model_copy(update={"name": objective})})
    pp = from_matrices(
        lat,
        dist,
        cost[:, None],
        cap[:, None],
        load,
        np.full(n_i, draw(st.sampled_from([3.0, 5.0, 9.0]))),
        np.full(n_i, 9.0),
        cfg,
        power_zone=zones,
        county=counties,
    )
    return pp, objective


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_milp_equals_brute_force(case: tuple[PlacementProblem, str]) -> None:
    pp, objective = case
    matches(pp, brute(pp, objective), objective)


def brute_protected(pp: PlacementProblem) -> float | None:
    """Cheapest plan over every site subset, every type per site and every assignment,
    with each user's sites built as types protected enough for it."""
    cfg = pp.config
    n_i, n_j = pp.latency.shape
    n_t = len(pp.type_ids)
    conflict = pp.conflict()
    best = math.inf
    for size in range(1, n_j + 1):
        for subset in itertools.combinations(range(n_j), size):
            for types in itertools.product(range(n_t), repeat=size):
                built = dict(zip(subset, types, strict=True))
                if any(not np.isfinite(pp.cost[j, t]) for j, t in built.items()):
                    continue
                cost = sum(pp.cost[j, t] for j, t in built.items())
                if cost >= best:
                    continue
                options = []
                for i in range(n_i):
                    need = pp.demand_protection[i]
                    ok = [j for j in subset if pp.type_protection[built[j]] >= need]
                    seqs = [
                        seq
                        for seq in itertools.permutations(ok, cfg.k)
                        if pp.latency[i, seq[0]] <= pp.primary_ms[i]
                        and all(pp.latency[i, j] <= pp.backup_ms[i] for j in seq[1:])
                        and not any(conflict[seq[0], j] for j in seq[1:])
                    ]
                    options.append(sorted({s[0] for s in seqs}))
                if any(not o for o in options):
                    continue
                for prim in itertools.product(*options):
                    used = np.zeros(n_j)
                    for i, j in enumerate(prim):
                        used[j] += pp.load[i]
                    if all(used[j] <= pp.capacity[j, built[j]] + 1e-9 for j in subset):
                        best = cost
                        break
    return None if best == math.inf else best


@st.composite
def protected_instances(draw: st.DrawFn) -> PlacementProblem:
    n_i = draw(st.integers(1, 3))
    n_j = draw(st.integers(2, 4))
    lat, dist = geometry(draw, n_i, n_j, 400)
    # two types: a cheap one (protection 0 or 1) and a dear, protected one (level 2)
    cost = two_type_costs(draw, n_j, cheap=(1, 5), extra=(1, 6))
    cap = np.array(draw(st.lists(st.integers(2, 6), min_size=n_j, max_size=n_j)), float)
    load = np.array(draw(st.lists(st.integers(1, 3), min_size=n_i, max_size=n_i)), float)
    need = draw(st.lists(st.integers(0, 2), min_size=n_i, max_size=n_i))
    k = draw(st.integers(1, 2))
    cfg = PlanConfig(k=k, separation_km=100.0 if k > 1 else None, hazards="off")
    return from_matrices(
        lat,
        dist,
        cost,
        np.column_stack([cap, cap * 2]),
        load,
        np.full(n_i, 5.0),
        np.full(n_i, 9.0),
        cfg,
        type_protection=[draw(st.integers(0, 1)), 2],
        demand_protection=need,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(protected_instances())
def test_protection_equals_brute_force(pp: PlacementProblem) -> None:
    matches(pp, brute_protected(pp))


@st.composite
def presence_instances(draw: st.DrawFn) -> PlacementProblem:
    n_i = draw(st.integers(1, 3))
    n_j = draw(st.integers(2, 5))
    lat, dist = geometry(draw, n_i, n_j, 300)
    cost = np.array(draw(st.lists(st.integers(1, 9), min_size=n_j, max_size=n_j)), float)
    counties = draw(st.lists(st.sampled_from(["01", "02"]), min_size=n_j, max_size=n_j))
    presence = {
        "name": "core region",
        "counties": ["01"],
        "min": draw(st.integers(1, 2)),
        "partner_km": draw(st.sampled_from([None, 80.0, 150.0])),
    }
    cfg = PlanConfig(k=1, separation_km=None, hazards="off", capacity=False, presence=[presence])
    return from_matrices(
        lat,
        dist,
        cost[:, None],
        np.full((n_j, 1), 99.0),
        np.ones(n_i),
        np.full(n_i, 9.0),
        np.full(n_i, 9.0),
        cfg,
        county=counties,
    )


def brute_presence(pp: PlacementProblem) -> float | None:
    pr = pp.config.presence[0]
    n_i, n_j = pp.latency.shape
    best = math.inf
    for size in range(1, n_j + 1):
        for subset in itertools.combinations(range(n_j), size):
            inside = [j for j in subset if pp.county[j] in pr.counties]
            if len(inside) < pr.min:
                continue
            if pr.partner_km is not None and not any(
                pp.distance_km[a, b] <= pr.partner_km for a in inside for b in subset if b != a
            ):
                continue
            if any(all(pp.latency[i, j] > pp.primary_ms[i] for j in subset) for i in range(n_i)):
                continue
            best = min(best, sum(pp.cost[j, 0] for j in subset))
    return None if best == math.inf else best


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(presence_instances())
def test_presence_equals_brute_force(pp: PlacementProblem) -> None:
    matches(pp, brute_presence(pp))
