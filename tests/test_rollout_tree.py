"""The roll-out under uncertainty (a two-stage scenario tree): against brute force over the
first-stage decisions on tiny countries, one branch of probability 1 is the roll-out, the
first stage identical in every branch read from the output alone, VSS and EVPI never
negative, bad trees refused with the key named (exit 3)."""

from __future__ import annotations

import itertools
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nisd
from nisd.cli import cli
from nisd.config import PlanConfig, RolloutConfig
from nisd.dataset import Dataset
from nisd.errors import ConfigError, InfeasibleError
from nisd.io import load_dataset
from nisd.io.synthetic import write_country
from nisd.optimise.rollout import rollout
from nisd.optimise.rollout.branches import futures
from nisd.optimise.rollout.years import Year
from nisd.records import Rollout
from tests.helpers import assignable, tiny_rollout_config

D = 2031  # the decision year of every tiny tree
ROOT = Path(__file__).resolve().parent.parent
Signature = frozenset[tuple[int, int, int]]


def best_by_first_stage(years: list[Year], ro: RolloutConfig) -> dict[Signature, float]:
    """For one branch: the cheapest discounted roll-out for each first stage (the sites in
    service before D or started before D, with their type and first year in service), by
    enumerating every site's type and first year."""
    pp = years[0].pp
    first = ro.first_year
    span = [y.year for y in years]
    per_site: list[list[tuple[int, int] | None]] = []
    for j in range(pp.n_sites):
        opts: list[tuple[int, int] | None] = [None]
        for t, tid in enumerate(pp.type_ids):
            if pp.allowed[j] and np.isfinite(pp.cost[j, t]):
                lead = ro.lead_time_years.get(tid, 0)
                opts += [(t, v) for v in span if v >= first + lead]
        per_site.append(opts)
    budget = ro.per_year("capital_budget_msek")

    @cache
    def ok(n: int, opened: frozenset[tuple[int, int]]) -> bool:
        return assignable(years[n].pp, dict(opened))

    out: dict[Signature, float] = {}
    for combo in itertools.product(*per_site):
        spend = dict.fromkeys(span, 0.0)
        sig = []
        for j, choice in enumerate(combo):
            if choice is None:
                continue
            t, v = choice
            tid = pp.type_ids[t]
            k, lead = ro.capital_cost_msek.get(tid, 0.0), ro.lead_time_years.get(tid, 0)
            for u in [v] if lead == 0 else range(v - lead, v):
                spend[u] += k / max(lead, 1)
            if v - lead < D or v < D:
                sig.append((j, t, v))
        if budget is not None and any(spend[u] > budget[u] + 1e-9 for u in span):
            continue
        key = frozenset(sig)
        total = 0.0
        for u in span:
            run = sum(
                pp.cost[j, c[0]] - ro.annuity(pp.type_ids[c[0]])
                for j, c in enumerate(combo)
                if c is not None and c[1] <= u
            )
            total += (run + spend[u]) / (1 + ro.discount_rate) ** (u - first)
        if key in out and total >= out[key] - 1e-9:
            continue
        if all(
            not years[n].pp.n_demand
            or ok(
                n, frozenset((j, c[0]) for j, c in enumerate(combo) if c is not None and c[1] <= u)
            )
            for n, u in enumerate(span)
        ):
            out[key] = total
    return out


def brute(ds: Dataset, cfg: PlanConfig, objective: str) -> float | None:
    """The tree's optimum by brute force: over every first stage feasible in every branch,
    the expected (or worst, or largest regret) of each branch's best completion."""
    fs = futures(ds, cfg)
    tables = [best_by_first_stage(f.years, f.ro) for f in fs]
    common = set(tables[0]).intersection(*tables[1:])
    if not common:
        return None
    own = [min(t.values()) for t in tables]
    values = []
    for sig in common:
        costs = [t[sig] for t in tables]
        if objective == "expected":
            values.append(sum(f.probability * c for f, c in zip(fs, costs, strict=True)))
        elif objective == "worst":
            values.append(max(costs))
        else:
            values.append(max(c - o for c, o in zip(costs, own, strict=True)))
    return min(values)


def tree_cfg(
    branches: list[dict[str, Any]],
    objective: str = "expected",
    method: str = "auto",
    **ro: Any,
) -> PlanConfig:
    return tiny_rollout_config(
        first_year=2029,
        objective=["cost"],
        uncertainty={
            "decision_year": D,
            "objective": objective,
            "branches": branches,
            "method": method,
        },
        **ro,
    )


def first_stage_of(doc: Rollout) -> list[tuple[Any, ...]]:
    """Per branch: its sites and assignments of every year before D, and its sites in
    service from D whose construction began before D (from the record alone)."""
    cfg = doc.config
    assert cfg is not None and cfg.rollout is not None
    lead = cfg.rollout.lead_time_years
    out = []
    for b in doc.branches:
        before = [(y.year, y.sites, y.assignments) for y in b.years if y.year < D]
        started = sorted(
            (s.site_id, s.type, s.in_service_from)
            for s in b.sites
            if s.in_service_from is not None
            and s.in_service_from >= D
            and s.in_service_from - lead.get(s.type, 0) < D
        )
        out.append((before, started))
    return out


def check_invariants(doc: Rollout) -> None:
    assert doc.decision_year == D and doc.hedge is not None and doc.first_stage is not None
    stages = first_stage_of(doc)
    assert all(s == stages[0] for s in stages), "the branches differ before the decision year"
    h = doc.hedge
    assert h.evpi_msek is not None and h.evpi_msek >= 0
    if h.vss_msek is not None:
        assert h.vss_msek >= 0
    expected = sum(b.probability * b.totals.discounted_cost_msek for b in doc.branches)
    assert h.expected_cost_msek == pytest.approx(expected, abs=1e-5)
    for b in doc.branches:
        assert b.own_best_msek is not None
        assert b.totals.discounted_cost_msek >= b.own_best_msek - 1e-5


BRANCHES = st.lists(
    st.fixed_dictionaries(
        {
            "decline": st.sampled_from([[], ["d0"], ["d1", "d2"]]),
            "growth_per_year": st.sampled_from([None, 0.5, 1.0]),
        }
    ),
    min_size=2,
    max_size=3,
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(1, 6),
    shape=BRANCHES,
    weights=st.lists(st.integers(1, 4), min_size=3, max_size=3),
    objective=st.sampled_from(["expected", "worst", "regret"]),
    lead=st.sampled_from([1, 2]),
    method=st.sampled_from(["decomposition", "extensive"]),
)
def test_tiny_trees_match_brute_force(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    shape: list[dict[str, Any]],
    weights: list[int],
    objective: str,
    lead: int,
    method: str,
) -> None:
    ds = load_dataset(write_country(tmp_path_factory.mktemp("c"), 5, 3, seed=seed))
    w = weights[: len(shape)]
    branches = [
        {"name": f"b{n}", "probability": x / sum(w), **{k: v for k, v in b.items() if v}}
        for n, (b, x) in enumerate(zip(shape, w, strict=True))
    ]
    cfg = tree_cfg(branches, objective, method, lead_time_years={"core": 2, "regional": lead})
    expected = brute(ds, cfg, objective)
    if expected is None:
        with pytest.raises(InfeasibleError):
            rollout(ds, cfg)
        return
    doc = rollout(ds, cfg)
    assert doc.status.value == "optimal"
    assert doc.value == pytest.approx(expected, abs=1e-4)
    check_invariants(doc)
    h = doc.hedge
    assert h is not None and h.method == method
    if objective == "expected":
        assert h.expected_cost_msek == pytest.approx(expected, abs=1e-4)
    elif objective == "worst":
        assert h.worst_cost_msek == pytest.approx(expected, abs=1e-4)
    else:
        assert h.max_regret_msek == pytest.approx(expected, abs=1e-4)


def test_one_branch_of_probability_one_is_the_rollout(tmp_path: Path) -> None:
    ds = load_dataset(write_country(tmp_path, 5, 3, seed=2))
    plain = tiny_rollout_config(first_year=2029, objective=["cost"], growth_per_year=0.3)
    tree = tree_cfg([{"name": "only", "probability": 1.0}], growth_per_year=0.3)
    a, b = rollout(ds, plain), rollout(ds, tree)
    assert b.value == pytest.approx(a.value, abs=1e-6)
    assert b.totals is not None and a.totals is not None
    assert b.totals.discounted_cost_msek == pytest.approx(a.totals.discounted_cost_msek, abs=1e-6)
    assert [y.sites for y in b.years] == [y.sites for y in a.years]
    assert b.hedge is not None and b.hedge.evpi_msek == 0.0 and b.hedge.vss_msek == 0.0
    check_invariants(b)


def test_a_future_that_needs_an_early_start_is_hedged(tmp_path: Path) -> None:
    """Growth that needs more sites than the plain future: with every site's lead time
    reaching back before the decision year, the hedged first stage serves both branches,
    and the plan for the average future costs no less (VSS ≥ 0), perfect information
    no more (EVPI ≥ 0)."""
    ds = load_dataset(write_country(tmp_path, 5, 3, seed=3))
    cfg = tree_cfg(
        [
            {"name": "as planned", "probability": 0.7},
            {"name": "loads double", "probability": 0.3, "growth_per_year": 1.0},
        ],
        lead_time_years={"core": 2, "regional": 2},
    )
    doc = rollout(ds, cfg)
    check_invariants(doc)
    assert doc.shown_branch == "as planned"
    assert doc.branch("loads double").shown_branch == "loads double"
    with pytest.raises(KeyError, match="no branch"):
        doc.branch("peace")
    again = Rollout.from_json(doc.to_json())
    assert again == doc


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "tree.toml"
    p.write_text(
        f'extends = "{ROOT / "scenarios" / "rollout-2032.toml"}"\n[rollout]\nobjective = ["cost"]\n'
        + text,
        encoding="utf-8",
    )
    return p


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "[rollout.uncertainty]\ndecision_year = 2029\n[[rollout.uncertainty.branches]]\n"
            'name = "a"\nprobability = 0.5\n',
            "sum to 0.5, not 1",
        ),
        (
            "[rollout.uncertainty]\ndecision_year = 2040\n[[rollout.uncertainty.branches]]\n"
            'name = "a"\nprobability = 1.0\n',
            "decision_year = 2040",
        ),
        (
            "[rollout.uncertainty]\ndecision_year = 2029\n[[rollout.uncertainty.branches]]\n"
            'name = "a"\nprobability = 0.5\n[[rollout.uncertainty.branches]]\nname = "a"\n'
            "probability = 0.5\n",
            "a used twice",
        ),
        (
            "[rollout.uncertainty]\ndecision_year = 2029\n[[rollout.uncertainty.branches]]\n"
            'name = "a"\nprobability = 1.0\ndecline = ["d-nobody"]\n',
            "'d-nobody' is neither",
        ),
        (
            "[rollout.uncertainty]\ndecision_year = 2029\n[[rollout.uncertainty.branches]]\n"
            'name = "a"\nprobability = 1.0\ndecline = ["d-forsakringskassan"]\n',
            "before the decision year 2029",
        ),
        (
            "[rollout.uncertainty]\ndecision_year = 2029\n[[rollout.uncertainty.branches]]\n"
            'name = "a"\nprobability = 1.0\nreadiness = { "2030" = ["war"] }\n',
            "'war' is not one of the crisis sets",
        ),
        (
            "[rollout.uncertainty]\ndecision_year = 2029\n[[rollout.uncertainty.branches]]\n"
            'name = "a"\nprobability = 1.0\nreadiness = { "2027" = ["county"] }\n',
            "readiness key '2027'",
        ),
        (
            "[rollout.uncertainty]\ndecision_year = 2029\n[[rollout.uncertainty.branches]]\n"
            'name = "a"\nprobability = 1.0\ndecline = ["d-dns"]\n',
            "needed by others",
        ),
        (
            "migration_cost_msek = 0.5\n[rollout.uncertainty]\ndecision_year = 2029\n"
            'method = "decomposition"\n[[rollout.uncertainty.branches]]\n'
            'name = "a"\nprobability = 1.0\n',
            "needs years linked only through the sites",
        ),
        (
            '[rollout.uncertainty]\ndecision_year = 2029\nmethod = "fast"\n'
            '[[rollout.uncertainty.branches]]\nname = "a"\nprobability = 1.0\n',
            "method",
        ),
    ],
)
def test_bad_trees_are_refused_with_the_key(tmp_path: Path, text: str, says: str) -> None:
    out = tmp_path / "ro"
    res = CliRunner().invoke(cli, ["rollout", str(_write(tmp_path, text)), "--out", str(out)])
    assert res.exit_code == 3, res.output
    assert says in res.output and "uncertainty" in res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_the_readiness_goal_is_refused_under_uncertainty() -> None:
    with pytest.raises(ValueError, match=r"readiness. goal is not supported"):
        RolloutConfig.model_validate(
            {
                "first_year": 2026,
                "last_year": 2032,
                "objective": ["cost", "readiness"],
                "uncertainty": {
                    "decision_year": 2029,
                    "branches": [{"name": "a", "probability": 1.0}],
                },
            }
        )


@pytest.mark.parametrize("method", ["decomposition", "extensive"])
def test_the_fewest_moves_keep_the_cost_and_the_first_stage(tmp_path: Path, method: str) -> None:
    """Cost, then the fewest moves: the same expected cost as cost alone, the first stage
    still shared, no more moves than with cost alone (expected moves for the extensive
    form; the most probable branch's, which fixes the shared years, for the
    decomposition)."""
    ds = load_dataset(write_country(tmp_path, 5, 3, seed=5))
    branches = [
        {"name": "as planned", "probability": 0.6},
        {"name": "loads double", "probability": 0.4, "growth_per_year": 1.0},
    ]
    alone = rollout(ds, tree_cfg(branches, "expected", method))
    both = rollout(ds, tiny_rollout_config(
        first_year=2029,
        objective=["cost", "moves"],
        uncertainty={"decision_year": D, "branches": branches, "method": method},
    ))  # fmt: skip
    check_invariants(both)
    assert [g.goal for g in both.goals] == ["cost", "moves"]
    assert both.hedge is not None and alone.hedge is not None
    assert both.hedge.method == method
    assert both.hedge.expected_cost_msek == pytest.approx(alone.hedge.expected_cost_msek, abs=1e-4)
    for a, b in zip(alone.branches, both.branches, strict=True):
        assert [y.sites for y in a.years] == [y.sites for y in b.years]

    def moves(r: Rollout) -> float:
        return sum(b.probability * b.totals.migrations for b in r.branches)

    if method == "extensive":
        assert moves(both) <= moves(alone) + 1e-9
    else:
        assert both.branches[0].totals.migrations <= alone.branches[0].totals.migrations
        assert both.goals[1].value == pytest.approx(moves(both))


def test_config_error_is_a_config_error(tmp_path: Path) -> None:
    ds = load_dataset(write_country(tmp_path, 5, 3, seed=1))
    cfg = tree_cfg([{"name": "a", "probability": 1.0, "decline": ["nobody"]}])
    with pytest.raises(ConfigError, match="nobody"):
        futures(ds, cfg)
    assert math.isfinite(1.0)


def test_each_future_alone_on_workers_agrees_with_serial(tmp_path: Path) -> None:
    ds = load_dataset(write_country(tmp_path, 5, 3, seed=4))
    cfg = tree_cfg(
        [
            {"name": "as planned", "probability": 0.6},
            {"name": "d0 declines", "probability": 0.4, "decline": ["d0"]},
        ]
    )
    serial = rollout(ds, cfg)
    side = nisd.rollout(ds, cfg, workers=2)
    assert serial.hedge is not None and side.hedge is not None
    assert side.hedge.wait_and_see_msek == pytest.approx(serial.hedge.wait_and_see_msek)
    assert side.hedge.evpi_msek == pytest.approx(serial.hedge.evpi_msek)
    assert [b.own_best_msek for b in side.branches] == pytest.approx(
        [b.own_best_msek for b in serial.branches]
    )
    assert side.hedge.method == "decomposition" and side.hedge.branch_solves
    assert side.value == pytest.approx(serial.value)


TINY_TREE = """
k = 2
separation_km = 100.0
hazards = "off"
protection = false
[crisis]
sets = []
[rollout]
first_year = 2029
last_year = 2032
objective = ["cost"]
discount_rate = 0.05
lead_time_years = { core = 2, regional = 1 }
capital_cost_msek = { core = 300.0, regional = 80.0 }
[rollout.uncertainty]
decision_year = 2031
method = "METHOD"
[[rollout.uncertainty.branches]]
name = "as planned"
probability = 0.6
[[rollout.uncertainty.branches]]
name = "loads grow"
probability = 0.4
growth_per_year = 0.2
"""


@pytest.mark.parametrize(
    ("method", "says"),
    [
        ("decomposition", "solved by scenario decomposition: "),
        ("extensive", "solved as one model of every branch"),
    ],
)
def test_the_command_says_how_the_tree_was_solved(tmp_path: Path, method: str, says: str) -> None:
    data = write_country(tmp_path / "data", 5, 3, seed=2)
    scenario = tmp_path / "tree.toml"
    scenario.write_text(TINY_TREE.replace("METHOD", method), encoding="utf-8")
    out = tmp_path / "ro"
    args = ["rollout", str(scenario), "--data", str(data), "--out", str(out), "--workers", "2"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert says in res.output and "expected cost" in res.output
    doc = Rollout.from_json(json.loads((out / "rollout.json").read_text(encoding="utf-8")))
    assert doc.hedge is not None and doc.hedge.method == method
    check_invariants(doc)
