"""War: the worst attack on a plan (interdiction) against enumeration, robust plans, hardening."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nisd.cli import cli
from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import ConfigError
from nisd.optimise.fortify import fortify
from nisd.optimise.interdict import Target, flow_data, targets_of, violating_attack, worst_attacks
from nisd.optimise.war import _distinct, attack, enumerate_attacks
from nisd.topology import build_graph
from nisd.topology.latency import latency_matrix, routing_graph
from nisd.topology.served import serve

# ---- a small random country: the interdiction programme against brute force ----------


def random_country(seed: int, n_nodes: int, n_sites: int, n_demand: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    g = nx.MultiGraph()
    nodes = [f"n{i}" for i in range(n_nodes)]
    for n in nodes:
        g.add_node(n, transit=True)
    srlgs = []
    for i in range(n_nodes):  # a ring with a few chords; two chords share a group
        a, b = nodes[i], nodes[(i + 1) % n_nodes]
        g.add_edge(a, b, key=f"r{i}", latency_ms=float(rng.uniform(0.5, 2.0)), srlg=(f"g{i}",))
        srlgs.append(f"g{i}")
    for c in range(2):
        a, b = rng.choice(n_nodes, 2, replace=False)
        g.add_edge(
            nodes[a], nodes[b], key=f"c{c}", latency_ms=float(rng.uniform(1, 3)), srlg=("chords",)
        )
    srlgs.append("chords")
    sites = [f"s{j}" for j in range(n_sites)]
    for s in sites:
        g.add_node(s, transit=False)
        at = nodes[int(rng.integers(n_nodes))]
        g.add_edge(s, at, key=f"a-{s}", latency_ms=0.1, srlg=(f"acc-{s}",))
    dem = [f"d{i}" for i in range(n_demand)]
    for d in dem:
        g.add_node(d, transit=False)
        at = nodes[int(rng.integers(n_nodes))]
        g.add_edge(d, at, key=f"a-{d}", latency_ms=0.1, srlg=(f"acc-{d}",))
    load = rng.integers(1, 8, n_demand).astype(float)
    rank = rng.integers(0, 3, n_demand)
    bound = rng.uniform(2.0, 6.0, n_demand)
    cap = {s: float(rng.integers(4, 20)) for s in sites}
    assign = {d: list(rng.choice(sites, 2, replace=False)) for d in dem}
    rg = routing_graph(g)
    fd = flow_data(rg, dem, load, rank, ["critical", "high", "normal"], bound, cap, assign)
    return fd, nodes, srlgs


def brute_force(fd, targets, budget):  # type: ignore[no-untyped-def]
    """Every attack evaluated with the served-flow LP over Dijkstra latencies."""
    rg = fd.rg
    out = []
    for size in range(len(targets) + 1):
        for combo in itertools.combinations(targets, size):
            if sum(t.cost for t in combo) > budget + 1e-9:
                continue
            verts = [t.id for t in combo if t.kind in ("site", "node")]
            alive = rg.alive_mask(verts, (), [t.id for t in combo if t.kind == "srlg"])
            lat = latency_matrix(rg, list(fd.site_ids), list(fd.demand_ids), alive=alive).T
            up = np.array([s not in verts for s in fd.site_ids])
            usable = fd.holds & (lat <= fd.bound[:, None] + 1e-9) & up[None, :]
            served = serve(fd.load, fd.rank, np.where(up, fd.capacity, 0.0), usable).served
            by = np.bincount(fd.rank, weights=served, minlength=3)
            prefix = tuple(
                round(float(by[: c + 1].sum()), 3) for c in sorted(set(fd.rank.tolist()))
            )
            out.append((prefix, len(combo), tuple(t.name for t in sorted(combo))))
    return sorted(out)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    budget=st.sampled_from([1, 2]),
    kinds=st.sampled_from([("site",), ("site", "node"), ("site", "node", "srlg")]),
)
def test_interdiction_equals_enumeration_on_random_countries(
    seed: int, budget: int, kinds: tuple[str, ...]
) -> None:
    fd, nodes, srlgs = random_country(seed, 5, 4, 6)
    targets = targets_of(fd.rg, fd.site_ids, nodes, srlgs, kinds)
    found, _search = worst_attacks(fd, targets, budget, top=1)
    best = brute_force(fd, targets, budget)[0]
    got = found[0]
    assert tuple(round(v, 3) for v in got.served_prefix) == pytest.approx(best[0], abs=2e-3)
    assert (len(got.targets), got.names) == (best[1], best[2])


def test_violating_attack_agrees_with_enumeration() -> None:
    fd, nodes, srlgs = random_country(7, 5, 4, 6)
    targets = targets_of(fd.rg, fd.site_ids, nodes, srlgs, ("site", "node"))
    total = np.bincount(fd.rank, weights=fd.load, minlength=3)
    for share in (0.3, 0.6, 1.0):
        levels = np.array([share, 0.0, 0.0])
        found, margin, _ = violating_attack(fd, targets, 1, levels)
        worst_critical = min(p[0] for p, _n, _t in brute_force(fd, targets, 1))
        need = share * total[0]
        assert (found is not None) == (worst_critical < need - 1e-6)
        assert margin == pytest.approx(worst_critical - need, abs=1e-5)


# ---- the Swedish default -------------------------------------------------------------


POINTS = Path(__file__).resolve().parent.parent / "data" / "points"


@pytest.fixture(scope="module")
def points() -> Dataset:
    """The point form of the Swedish data: the attack searches enumerate every attack as
    their peer, which over the 1,050 user points of the services form takes minutes.
    Without the platform dependencies: the interdiction programme does not model them
    (docs/model.md), and these tests hold it to the enumeration exactly; the scan and the
    evaluator with dependencies are held to each other in tests/test_scan.py."""
    from dataclasses import replace

    from nisd.io import load_dataset

    ds = load_dataset(POINTS)
    return replace(ds, demand=tuple(replace(d, depends_on=()) for d in ds.demand))


@pytest.fixture(scope="module")
def sweden_plan(points: Dataset) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Five sites of the Swedish data; each user held at its two nearest."""
    sweden = points
    sites = {
        "s-lulea": "core",
        "s-nacka": "regional",
        "s-molndal": "regional",
        "s-umea": "regional",
        "s-eskilstuna": "regional",
    }
    g = build_graph(sweden)
    ids = [d.demand_id for d in sweden.demand]
    lat = latency_matrix(routing_graph(g), ids, sorted(sites))
    names = sorted(sites)
    assign = {
        d: [names[j] for j in np.argsort(lat[i], kind="stable")[:2]] for i, d in enumerate(ids)
    }
    return sites, assign


@pytest.mark.slow
@pytest.mark.parametrize(
    ("budget", "kinds", "objective"),
    [
        (1, ("site", "node", "srlg"), "critical-first"),
        (2, ("site",), "critical-first"),
        (2, ("site",), "total"),
        (2, ("site", "node", "srlg"), "critical-first"),
    ],
)
def test_worst_attack_on_sweden_equals_enumeration(
    points: Dataset,
    sweden_plan: tuple[dict[str, str], dict[str, list[str]]],
    budget: int,
    kinds: tuple[str, ...],
    objective: str,
) -> None:
    sites, assign = sweden_plan
    sweden = points
    g = build_graph(sweden)
    res = attack(
        sweden,
        g,
        sites,
        assign,
        budget=budget,
        kinds=kinds,
        top=1,
        objective=objective,  # type: ignore[arg-type]
        method="milp",
    )
    listed = enumerate_attacks(
        sweden,
        g,
        sites,
        assign,
        budget=budget,
        kinds=kinds,
        objective=objective,  # type: ignore[arg-type]
    )
    n = sum(1 for _ in listed)
    assert n == sum(
        1
        for size in range(budget + 1)
        for _ in itertools.combinations(range(res.targets_considered), size)
    )
    _key, best = listed[0]
    worst = res.worst
    assert worst is not None
    assert worst.targets == best.targets
    assert worst.demand_served_share == pytest.approx(best.demand_served_share, abs=1e-6)
    assert worst.served_by_class == best.served_by_class


@pytest.mark.slow
def test_top_attacks_are_distinct_and_ordered(
    points: Dataset, sweden_plan: tuple[dict[str, str], dict[str, list[str]]]
) -> None:
    sweden = points
    sites, assign = sweden_plan
    g = build_graph(sweden)
    res = attack(sweden, g, sites, assign, budget=2, kinds=("site",), top=4, method="milp")
    listed = [e for _k, e in enumerate_attacks(sweden, g, sites, assign, budget=2)]
    assert [a.targets for a in res.attacks] == [e.targets for e in listed[:4]]
    assert res.to_json()["worst"] == res.attacks[0].to_json()
    assert res.found_by == "milp"


@pytest.mark.slow
@pytest.mark.parametrize(("budget", "kinds"), [(2, ("site",)), (1, ("site", "node", "srlg"))])
def test_enumerated_attacks_are_the_programmes_attacks(
    points: Dataset,
    sweden_plan: tuple[dict[str, str], dict[str, list[str]]],
    budget: int,
    kinds: tuple[str, ...],
) -> None:
    """Listing every attack (the default when there are few) gives the interdiction
    programme's top attacks, in its order, with the evaluator's figures."""
    sweden = points
    sites, assign = sweden_plan
    g = build_graph(sweden)
    args = {"budget": budget, "kinds": kinds, "top": 6}
    milp = attack(sweden, g, sites, assign, method="milp", **args)  # type: ignore[arg-type]
    every = attack(sweden, g, sites, assign, **args)  # type: ignore[arg-type]
    assert every.found_by == "enumerate" and every.attacks_evaluated == sum(
        1
        for size in range(budget + 1)
        for _ in itertools.combinations(range(every.targets_considered), size)
    )
    assert [a.targets for a in every.attacks] == [a.targets for a in milp.attacks]
    for a, b in zip(every.attacks, milp.attacks, strict=True):
        assert a.served_by_class == b.served_by_class


def test_distinct_drops_attacks_containing_an_earlier_one() -> None:
    s1, s2, s3 = (Target("site", x) for x in ("a", "b", "c"))
    ranked = [(s1,), (s1, s2), (), (s2, s3)]
    assert _distinct(ranked, 5) == [0, 2, 3]
    assert _distinct(ranked, 2) == [0, 2]


# ---- hardening -----------------------------------------------------------------------


def test_fortify_is_the_cheapest_hardening(
    points: Dataset, sweden_plan: tuple[dict[str, str], dict[str, list[str]]]
) -> None:
    sweden = points
    sites, assign = sweden_plan
    g = build_graph(sweden)
    cost = {"core": 15.0, "regional": 25.0}
    keep = {"critical": 1.0}
    res = fortify(
        sweden, g, sites, assign, budget=2, levels=keep, harden_cost=cost, kinds=("site",)
    )
    assert res.certificate.margin_racks >= -1e-6

    # brute force: the attacks that break the level, and the cheapest set meeting them all
    listed = enumerate_attacks(sweden, g, sites, assign, budget=2, kinds=("site",))
    breaking = [
        {t.split(":", 1)[1] for t in e.targets}
        for _k, e in listed
        if (e.served("critical") or 0.0) < 1.0 - 1e-6
    ]
    assert breaking  # the plan is not safe unhardened

    def safe(hardened: set[str]) -> bool:
        return all(a & hardened for a in breaking)

    best = min(
        sum(cost[sites[s]] for s in combo)
        for size in range(len(sites) + 1)
        for combo in itertools.combinations(sorted(sites), size)
        if safe(set(combo))
    )
    assert res.cost_msek == pytest.approx(best)
    assert safe(set(res.hardened))


# ---- robust plans ---------------------------------------------------------------------


def test_war_needs_more_copies_than_attacks() -> None:
    with pytest.raises(ValueError, match=r"needs k >= 3"):
        PlanConfig.model_validate({"k": 2, "war": {"attacks": 2}})
    with pytest.raises(ValueError, match="split"):
        PlanConfig.model_validate({"k": 3, "war": {"attacks": 1}, "crisis": {"split": False}})
    PlanConfig.model_validate({"k": 3, "war": {"attacks": 2}})


def test_war_unknown_class_is_refused(sweden: Dataset) -> None:
    from nisd.optimise import from_dataset

    cfg = PlanConfig.model_validate({"k": 2, "war": {"attacks": 1, "serve": {"vital": 1.0}}})
    with pytest.raises(ConfigError, match=r"war\.serve"):
        from_dataset(sweden, cfg)
    cfg = PlanConfig.model_validate({"k": 2, "war": {"harden_cost_msek": {"bunker": 5.0}}})
    with pytest.raises(ConfigError, match=r"'bunker' is not a site type"):
        from_dataset(sweden, cfg)
    for bad in ({"targets": ["towns"]}, {"cost": {"site": 0}}, {"attacks": -1}):
        with pytest.raises(ValueError, match="war"):
            PlanConfig.model_validate({"k": 3, "war": bad})


@pytest.fixture(scope="module")
def robust_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sweden (point form) robust to the loss of any one site (~15 s)."""
    d = tmp_path_factory.mktemp("war")
    scen = d / "war1.toml"
    scen.write_text(
        "k = 2\np_max = 5\n[war]\nattacks = 1\nserve = { critical = 1.0, high = 1.0 }\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        cli, ["plan", str(scen), "--data", str(POINTS), "--out", str(d / "plan")]
    )
    assert res.exit_code == 0, res.output
    assert "Proved: after any attack of budget 1 on site" in res.output
    return d / "plan" / "plan.json"


def test_robust_plan_survives_every_attack(robust_plan: Path, points: Dataset) -> None:
    sweden = points
    doc = json.loads(robust_plan.read_text(encoding="utf-8"))
    war = doc["run"]["war"]
    assert doc["status"] == "optimal"
    assert war["certificate"] is not None and war["certificate"]["margin_racks"] >= -1e-6
    its = war["iterations"]
    # (on the point form the cheapest first plan already survives every single loss, so no
    # attack need be added; the last search is the certificate either way)
    assert its[-1]["attack"] is None
    # each attack added is a scenario of the plan, met on the independent re-check
    added = {"attack " + " + ".join(it["attack"]) for it in its if it["attack"]}
    rows = {r["scenario"]: r for r in doc["scenarios"]}
    assert added <= set(rows) and all(rows[n]["levels_met"] for n in added)
    # and enumeration agrees: no single site loss breaks the levels
    sites = {s["site_id"]: s["type"] for s in doc["sites"]}
    g = build_graph(sweden)
    for _k, e in enumerate_attacks(sweden, g, sites, doc["assignments"], budget=1):
        assert e.served("critical") == pytest.approx(1.0, abs=1e-6), e.targets
        assert e.served("high") == pytest.approx(1.0, abs=1e-6), e.targets
    worst = war["worst_attack"]
    assert worst["levels_met"] is True and len(worst["targets"]) == 1


# ---- the command ---------------------------------------------------------------------


def test_attack_command(robust_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "attack.json"
    res = CliRunner().invoke(
        cli,
        ["attack", str(robust_plan), "--r", "1", "--top", "2", "--json", "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert json.loads(out.read_text(encoding="utf-8")) == doc
    assert len(doc["attacks"]) == 2 and doc["worst"] == doc["attacks"][0]
    assert all(a["levels_met"] for a in doc["attacks"])  # the plan's own [war] levels
    plan = json.loads(robust_plan.read_text(encoding="utf-8"))
    assert doc["worst"]["targets"] == plan["run"]["war"]["worst_attack"]["targets"]
    text = CliRunner().invoke(cli, ["attack", str(robust_plan), "--r", "1", "--top", "1"])
    assert text.exit_code == 0 and " 1. site:" in text.output
    # robust to one loss; against two, some sites must be hardened
    hard = CliRunner().invoke(
        cli,
        [
            "attack",
            str(robust_plan),
            *("--r", "2", "--top", "1", "--fortify", "--json"),
            *("--harden-cost", "core=15,regional=25"),
        ],
    )
    assert hard.exit_code == 0, hard.output
    f = json.loads(hard.stdout)["fortify"]
    assert f["hardened"] and f["certificate"]["margin_racks"] >= -1e-6


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--targets", "towns"], "--targets: unknown target kind 'towns'", 3),
        (["--cost", "node"], "--cost: 'node' is not NAME=NUMBER", 3),
        (["--cost", "bridge=2"], "--cost: unknown target kind(s) bridge", 3),
        (["--keep", "vital=1"], "--keep: unknown class(es) vital", 3),
        (["--keep", "critical=1.5"], "--keep: critical = 1.5 is not a share between 0 and 1", 3),
        (["--fortify", "--keep", "critical=1", "--harden-cost", "nope=5"], "no hardening cost", 3),
        (["--harden-cost", "core=inf", "--fortify"], "--harden-cost: 'core=inf' is not", 3),
        (["--r", "nan"], "--r", 2),
        (["--method", "fast"], "Invalid value for '--method'", 2),
    ],
)
def test_attack_command_refuses_bad_options(
    robust_plan: Path, args: list[str], message: str, code: int
) -> None:
    res = CliRunner().invoke(cli, ["attack", str(robust_plan), *args])
    assert res.exit_code == code
    assert message in res.output
    assert "Traceback" not in res.output


def test_attack_command_missing_plan(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["attack", str(tmp_path / "nope.json")])
    assert res.exit_code == 3 and "nope.json" in res.output and "Traceback" not in res.output


# ---- pages ---------------------------------------------------------------------------


def test_report_and_map_show_the_attacks(robust_plan: Path, tmp_path: Path) -> None:
    import nisd

    out = tmp_path / "attack.json"
    res = CliRunner().invoke(
        cli, ["attack", str(robust_plan), "--r", "2", "--top", "2", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    plan = nisd.read_plan(robust_plan)
    page = nisd.view(nisd.dataset_of(plan), plan, attacks=nisd.read_attacks(out))
    rows = {r.scenario: r for r in page.rows}
    for a in doc["attacks"]:  # the page's figures are the attack file's
        assert rows[a["scenario"]].demand_served_share == pytest.approx(
            a["demand_served_share"], abs=1e-6
        )
    assert page.war_words[0].startswith("Proved: after any attack of budget 1")
    planned = [r.scenario for r in plan.scenarios if r.kind == "attack"]
    assert list(page.attacks[: len(planned)]) == planned
    page = tmp_path / "report.html"
    res = CliRunner().invoke(
        cli, ["report", "--lang", "en", str(robust_plan), "--attack", str(out), "--out", str(page)]
    )
    assert res.exit_code == 0, res.output
    text = page.read_text(encoding="utf-8")
    assert "War: the worst attacks" in text
    for a in doc["attacks"]:
        assert a["scenario"].removeprefix("attack ") in text
        assert f"{a['demand_served_share']:.1%}" in text
    res = CliRunner().invoke(
        cli,
        [
            "map",
            "--lang",
            "en",
            str(robust_plan),
            "--attack",
            str(out),
            "--out",
            str(tmp_path / "m.html"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert doc["attacks"][0]["scenario"] in (tmp_path / "m.html").read_text(encoding="utf-8")


ATTACK = (
    '{"budget": 1, "target_kinds": ["site"], "attacks": [{"targets": [%s], '
    '"scenario": "x", "demand_served_share": 1.0}]}'
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "a.json: not found"),
        ("{", "a.json: is not valid JSON"),
        ('{"attacks": 3}', "a.json, column attacks: Input should be a valid tuple"),
        (ATTACK % '"bridge:x"', "is not site:ID, node:ID or srlg:ID"),
        (ATTACK % '"site:atlantis"', "site:atlantis is not in the dataset"),
    ],
)
def test_pages_refuse_a_bad_attack_file(
    robust_plan: Path, tmp_path: Path, content: str | None, message: str
) -> None:
    f = tmp_path / "a.json"
    if content is not None:
        f.write_text(content, encoding="utf-8")
    out = tmp_path / "r.html"
    res = CliRunner().invoke(
        cli, ["report", "--lang", "en", str(robust_plan), "--attack", str(f), "--out", str(out)]
    )
    assert res.exit_code == 3 and message in res.output, res.output
    assert "Traceback" not in res.output and not out.exists()


def test_ladder_rung_of_attacks(robust_plan: Path, points: Dataset) -> None:
    sweden = points
    from nisd.records import Plan
    from nisd.study.ladder import attack_rung, ladder

    doc = json.loads(robust_plan.read_text(encoding="utf-8"))
    plan = Plan.read(robust_plan)
    rungs = [attack_rung("one", "attack:1"), attack_rung("two", "attack:2:sites")]
    df, choice = ladder(sweden, [("robust", plan)], rungs)
    one, two = df.to_dict("records")
    assert choice == "robust"
    assert one["worst_share"] == pytest.approx(1.0) and one["worst_scenario"].startswith("attack")
    sites = {s["site_id"]: s["type"] for s in doc["sites"]}
    hit = attack(sweden, build_graph(sweden), sites, doc["assignments"], budget=2, top=1).worst
    assert hit is not None
    assert two["worst_share"] == pytest.approx(hit.served("critical"), abs=1e-6)
    assert two["worst_scenario"] == hit.scenario
    for bad in ("attack:", "attack:0", "attack:x", "attack:2:towns"):
        with pytest.raises(ValueError, match="attack"):
            attack_rung("bad", bad)


def test_primary_backup_separation_figure(robust_plan: Path, points: Dataset) -> None:
    """The plan's primary–backup separation is what separation_km binds, computed again here."""
    sweden = points
    from nisd.topology.latency import distance_matrix_km

    doc = json.loads(robust_plan.read_text(encoding="utf-8"))
    ids = sorted({s["site_id"] for s in doc["sites"]})
    d = distance_matrix_km(sweden, ids, ids)
    col = {s: n for n, s in enumerate(ids)}
    pairs = [float(d[col[seq[0]], col[b]]) for seq in doc["assignments"].values() for b in seq[1:]]
    got = doc["kpis"]["min_backup_separation_km"]
    assert got == pytest.approx(min(pairs), abs=1e-3)
    assert got >= doc["run"]["parameters"]["separation_km"] - 1e-6
    assert doc["kpis"]["min_separation_km"] <= got + 1e-6


def test_python_attack_checks_its_inputs_first(robust_plan: Path, points: Dataset) -> None:
    sweden = points
    import nisd
    from nisd.errors import InputError
    from nisd.records import Plan

    plan = Plan.read(robust_plan)
    with pytest.raises(InputError, match=r"keep: unknown class\(es\) vital"):
        nisd.attack(sweden, plan, r=1, keep={"vital": 1.0})
    with pytest.raises(InputError, match="no hardening cost for site type"):
        nisd.attack(sweden, plan, r=1, fortify=True, harden_cost={"bunker": 1.0})
    with pytest.raises(InputError, match="objective"):
        nisd.attack(sweden, plan, r=1, objective="worst")
    with pytest.raises(InputError, match="method: 'fast': auto, milp or enumerate"):
        nisd.attack(sweden, plan, r=1, method="fast")
    with pytest.raises(InputError, match=r"keep: critical = 1\.5 is not a share between 0 and 1"):
        nisd.attack(sweden, plan, r=1, keep={"critical": 1.5})
    with pytest.raises(InputError, match="keep: critical = nan is not a share between 0 and 1"):
        nisd.attack(sweden, plan, r=1, keep={"critical": float("nan")})
    with pytest.raises(InputError, match="harden_cost: core = inf is not a finite cost"):
        nisd.attack(
            sweden, plan, r=1, keep={"critical": 1.0}, fortify=True, harden_cost={"core": 1e999}
        )
