"""The independent checker, family by family: a plan that breaks exactly one family.

Each case starts from a plan that passes every check, changes one thing, and asserts
the checker's message for that family (and nothing else).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from nisd.config import PlanConfig
from nisd.optimise.check import check_plan
from nisd.optimise.problem import CrisisRow, PlacementProblem, from_matrices
from nisd.topology.latency import LatencyRows
from nisd.topology.scenarios import Scenario

# four sites on a line, 100 km apart; two demand points near s0 and s3
POS = np.array([0.0, 100.0, 200.0, 300.0])


def problem(**cfg: Any) -> PlacementProblem:
    dist = np.abs(POS[:, None] - POS[None, :])
    lat = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
    defaults: dict[str, Any] = {"k": 2, "separation_km": None, "hazards": "off"}
    pp = from_matrices(
        lat,
        dist,
        np.array([10.0, 20.0, 30.0, 40.0]),
        np.array([100.0, 100.0, 100.0, 100.0]),
        np.array([30.0, 40.0]),
        np.array([5.0, 5.0]),
        np.array([5.0, 5.0]),
        PlanConfig(**{**defaults, **cfg}),
        site_latency=dist / 100.0,
    )
    return dataclasses.replace(
        pp,
        county=("A", "A", "B", "C"),
        power_zone=("Z1", "Z1", "Z2", "Z2"),
        macroregion=("N", "N", "S", "S"),
    )


SITES = {"s0": "t0", "s3": "t0"}
ASSIGN = {"d0": ["s0", "s3"], "d1": ["s3", "s0"]}


def test_the_starting_plan_passes() -> None:
    assert check_plan(problem(), SITES, ASSIGN) == []


@pytest.mark.parametrize(
    ("cfg", "sites", "assign", "message"),
    [
        ({}, {**SITES, "s9": "t0"}, ASSIGN, "opened site 's9' is not a candidate"),
        ({}, {"s0": "t7", "s3": "t0"}, ASSIGN, "site s0: type 't7' is not allowed there"),
        ({"p_min": 3}, SITES, ASSIGN, "2 sites opened, at least 3 required"),
        ({"p_max": 2}, {**SITES, "s1": "t0"}, ASSIGN, "3 sites opened, at most 2 allowed"),
        ({"budget_msek": 40}, SITES, ASSIGN, "cost 50.000 MSEK exceeds the budget 40"),
        ({"required": ["s1"]}, SITES, ASSIGN, "required site s1 is not opened"),
        ({}, SITES, {**ASSIGN, "d0": ["s0"]}, "d0: 1 assigned sites, 2 required"),
        ({}, SITES, {**ASSIGN, "d0": ["s0", "s0"]}, "d0: assigned sites are not distinct"),
        ({}, SITES, {**ASSIGN, "d0": ["s0", "s1"]}, "d0: assigned site s1 is not opened"),
        (
            {},
            {**SITES, "s2": "t0"},
            {**ASSIGN, "d0": ["s2", "s0"]},
            "d0: primary s2 at 3.00 ms exceeds 2.5 ms",
        ),
        (
            {"separation_km": 350},
            SITES,
            ASSIGN,
            "d0: primary s0 and backup s3 are too close (300 km)",
        ),
        (
            {"min_site_distance_km": 150},
            {**SITES, "s1": "t0"},
            ASSIGN,
            "are 100 km apart, under 150 km",
        ),
        ({"min_per_macroregion": 2}, SITES, ASSIGN, "macroregion N: 1 sites, at least 2 required"),
        ({"min_per_power_zone": 2}, SITES, ASSIGN, "power zone Z1: 1 sites, at least 2 required"),
        (
            {"max_per_county": 1},
            {**SITES, "s1": "t0"},
            ASSIGN,
            "county A: 2 sites, at most 1 allowed",
        ),
        (
            {"replication_ms": 0.5},
            SITES,
            ASSIGN,
            "site s0 has no replication partner within 0.5 ms",
        ),
    ],
)
def test_each_family_is_caught(
    cfg: dict[str, Any], sites: dict[str, str], assign: dict[str, list[str]], message: str
) -> None:
    pp = problem(**cfg)
    if "primary s2" in message:  # a tighter primary bound, so that s2 is too far for d0
        pp = dataclasses.replace(pp, primary_ms=np.array([2.5, 5.0]))
    msgs = check_plan(pp, sites, assign)
    assert any(message in m for m in msgs), msgs


def test_backup_latency_and_capacity() -> None:
    pp = dataclasses.replace(problem(), backup_ms=np.array([3.5, 5.0]))
    msgs = check_plan(pp, SITES, ASSIGN)
    assert msgs == ["d0: backup 1 s3 at 4.00 ms exceeds 3.5 ms"]
    pp = dataclasses.replace(problem(), capacity=np.full((4, 1), 35.0))
    msgs = check_plan(pp, SITES, ASSIGN)
    assert msgs == ["site s3: primary load 40 exceeds capacity 35"]


def test_forbidden_site() -> None:
    pp = dataclasses.replace(problem(), allowed=np.array([False, True, True, True]))
    assert check_plan(pp, SITES, ASSIGN) == [
        "site s0 is forbidden, inside a hazard buffer or too near a land border"
    ]


def test_crisis_reach() -> None:
    """After losing s3, d1 (class served in full) must reach a surviving opened site."""
    pp = problem()
    sc = Scenario("site s3", "single-site", sites=frozenset(["s3"]))
    far = pp.latency.copy()
    far[1, 0] = 9.0  # d1 cannot reach s0 within its crisis bound of 5 ms
    pp = dataclasses.replace(
        pp,
        scenarios=(sc,),
        crisis_latency={sc.name: LatencyRows.of(far)},
        crisis_up={sc.name: np.array([True, True, True, False])},
        crisis_cut={sc.name: np.zeros(2, bool)},
        scenario_levels={sc.name: np.array([1.0])},
        rank=np.zeros(2, np.int64),
        classes=("critical",),
        crisis_ms=np.array([5.0, 5.0]),
        crisis_rows=(CrisisRow(sc.name, 1, frozenset([1, 2])),),
    )
    msgs = check_plan(pp, SITES, ASSIGN)
    assert msgs == ["site s3: d1 (critical, served in full) has no surviving site within 5 ms"]
