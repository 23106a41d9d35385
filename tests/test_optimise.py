"""The placement MILP: known optima by brute force, honest statuses, the checker, the CLI."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nisd.cli import cli
from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import ConfigError, InfeasibleError, NoSolutionError
from nisd.io import load_dataset
from nisd.io.scenario import load_plan_config
from nisd.optimise import from_dataset, optimise
from nisd.optimise.check import check_plan
from nisd.optimise.problem import PlacementProblem
from nisd.optimise.solve import available
from tests.conftest import ESTONIA


def brute_min_sites(pp: PlacementProblem) -> int | None:
    """Fewest sites such that every demand point has k valid, separated sites."""
    conflict = pp.conflict()
    k = pp.config.k
    for n in range(1, pp.n_sites + 1):
        for subset in itertools.combinations(range(pp.n_sites), n):
            if not pp.allowed[list(subset)].all():
                continue
            ok = True
            for i in range(pp.n_demand):
                prim = [j for j in subset if pp.latency[i, j] <= pp.primary_ms[i] + 1e-9]
                back = [j for j in subset if pp.latency[i, j] <= pp.backup_ms[i] + 1e-9]
                found = (
                    any(
                        all(b != a and not conflict[a, b] for b in bs) and len(set(bs)) == k - 1
                        for a in prim
                        for bs in itertools.combinations(back, k - 1)
                        if a not in bs
                    )
                    if k > 1
                    else bool(prim)
                )
                if not found:
                    ok = False
                    break
            if ok:
                return n
    return None


@pytest.mark.parametrize("solver", available())
@pytest.mark.parametrize("k,sep", [(1, None), (2, None), (2, 100.0), (2, 150.0)])
def test_min_sites_matches_brute_force(k: int, sep: float | None, solver: str) -> None:
    ds = load_dataset(ESTONIA)
    cfg = PlanConfig(k=k, separation_km=sep, hazards="off", solver={"name": solver})
    pp = from_dataset(ds, cfg)
    expected = brute_min_sites(pp)
    if expected is None:
        with pytest.raises(InfeasibleError):
            optimise(ds, pp)
        return
    plan = optimise(ds, pp)
    assert plan.status == "optimal"
    assert plan.kpis.sites == expected
    assert check_plan(pp, plan.sites, plan.assignments) == []


def test_shuffled_rows_give_the_same_objective(tmp_path: Path) -> None:
    import shutil

    d = tmp_path / "ee"
    shutil.copytree(ESTONIA, d)
    lines = (d / "sites.csv").read_text().splitlines()
    (d / "sites.csv").write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    cfg = PlanConfig(k=2, separation_km=100.0, hazards="off")
    a = optimise(load_dataset(ESTONIA), from_dataset(load_dataset(ESTONIA), cfg))
    b = optimise(load_dataset(d), from_dataset(load_dataset(d), cfg))
    assert a.value == b.value
    assert a.sites == b.sites


def test_infeasible_is_proved() -> None:
    ds = load_dataset(ESTONIA)
    cfg = PlanConfig(p=2, k=1, min_site_distance_km=1000, hazards="off")
    with pytest.raises(InfeasibleError, match="no plan satisfies"):
        optimise(ds, from_dataset(ds, cfg))


def test_time_limited_run_is_never_called_optimal_unproved(sweden: object) -> None:
    from nisd.io import default_data_dir

    ds = load_dataset(default_data_dir())
    cfg = load_plan_config(
        Path(__file__).parent.parent / "scenarios" / "baseline.toml", {"solver": {"time_limit": 2}}
    )
    try:
        plan = optimise(ds, from_dataset(ds, cfg))
    except NoSolutionError:
        return
    if plan.status == "optimal":
        assert plan.bound is not None and abs(plan.bound - plan.value) < 1e-6
    else:
        assert plan.status == "feasible"


def test_checker_catches_violations() -> None:
    ds = load_dataset(ESTONIA)
    cfg = PlanConfig(k=2, separation_km=100.0, hazards="off")
    pp = from_dataset(ds, cfg)
    plan = optimise(ds, pp)
    bad = {d: list(reversed(v)) if d == "d-tln" else v for d, v in plan.assignments.items()}
    bad["d-trt"] = [plan.assignments["d-trt"][0]] * 2
    msgs = check_plan(pp, plan.sites, bad)
    assert any("d-trt: assigned sites are not distinct" in m for m in msgs)
    closed = next(s for s in pp.site_ids if s not in plan.sites)
    msgs = check_plan(pp, plan.sites, {**plan.assignments, "d-tln": [closed, closed]})
    assert any(f"assigned site {closed} is not opened" in m for m in msgs)


def test_config_errors(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text("p = 3\nseparation = 150\n")
    with pytest.raises(ConfigError, match="unknown key 'separation'"):
        load_plan_config(f)
    f.write_text("separation_km = 50\n")
    with pytest.raises(ConfigError, match="at least 100"):
        load_plan_config(f)
    child = tmp_path / "child.toml"
    f.write_text("p = 4\n[solver]\ntime_limit = 10\n")
    child.write_text('extends = "s.toml"\n[solver]\nseed = 3\n')
    cfg = load_plan_config(child)
    assert cfg.p == 4 and cfg.solver.time_limit == 10 and cfg.solver.seed == 3


def test_plan_cli_writes_and_never_overwrites_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    scen = tmp_path / "ee.toml"
    scen.write_text('k = 2\nseparation_km = 100\nhazards = "off"\n')
    res = CliRunner().invoke(cli, ["plan", str(scen), "--data", str(ESTONIA), "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "plan.json").read_text())
    for key in ("status", "objective", "bound", "gap", "sites", "assignments", "kpis", "run"):
        assert key in doc
    assert doc["status"] == "optimal"
    assert doc["run"]["input_hash"]
    before = (out / "plan.json").read_bytes()
    bad = tmp_path / "bad.toml"
    bad.write_text('p = 2\nk = 1\nmin_site_distance_km = 1000\nhazards = "off"\n')
    res = CliRunner().invoke(cli, ["plan", str(bad), "--data", str(ESTONIA), "--out", str(out)])
    assert res.exit_code == 4
    assert "no plan satisfies" in res.stderr
    assert (out / "plan.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".nisd")) == []


def test_plan_cli_bad_option() -> None:
    res = CliRunner().invoke(cli, ["plan", "--gap", "2"])
    assert res.exit_code == 2
    res = CliRunner().invoke(cli, ["plan", "nope.toml"])
    assert res.exit_code == 3 and "scenario file not found" in res.stderr


def test_every_plan_serves_critical_demand_in_crisis() -> None:
    ds = load_dataset(ESTONIA)
    cfg = PlanConfig(
        k=2,
        separation_km=100.0,
        hazards="off",
        crisis={"sets": ["single-site", "single-link"], "levels": ["critical"]},
    )
    pp = from_dataset(ds, cfg)
    plan = optimise(ds, pp)
    assert plan.scenarios and all(s.levels_met for s in plan.scenarios)
    crit = sum(d.load for d in ds.demand if d.criticality == "critical")
    for s in plan.scenarios:
        cut = sum(d.load for d in ds.demand if d.demand_id in s.cut_off)
        served = (s.served("critical") or 0.0) * crit
        assert served >= crit - cut - 1e-6, s.scenario
    assert np.isfinite(plan.kpis.worst_case_share_served)


def test_infeasible_plan_is_explained_in_user_terms(sweden: object) -> None:
    from nisd.io import default_data_dir

    ds = load_dataset(default_data_dir())
    # 543 racks of load cannot fit in one site (a core site holds 400)
    total = sum(d.load for d in ds.demand)
    assert 400 < total <= 800
    cfg = PlanConfig(k=1, p_max=1, separation_km=None)
    with pytest.raises(InfeasibleError) as info:
        optimise(ds, from_dataset(ds, cfg))
    msg = str(info.value)
    assert "proved by cbc" in msg or "proved by highs" in msg
    assert "count_max: at most 1 sites missed by 1" in msg


def test_infeasible_separation_names_the_demand() -> None:
    ds = load_dataset(ESTONIA)
    cfg = PlanConfig(k=2, separation_km=400.0, hazards="off")
    with pytest.raises(InfeasibleError) as info:
        optimise(ds, from_dataset(ds, cfg))
    msg = str(info.value)
    assert (
        "Riigi Infosüsteemi Amet (d-tln): no second site within 5 ms that is at least 400 km" in msg
    )
    assert "elastic re-solve: assign:" in msg


def _tallinn_cut_off(tmp_path: Path) -> Dataset:
    """Estonia with a crisis preset that cuts Tallinn's users off from every site."""
    import shutil

    d = tmp_path / "ee"
    shutil.copytree(ESTONIA, d)
    (d / "crisis_presets.toml").write_text(
        '[tallinn-cut]\nmeaning = "Tallinn users cut off"\nisolate = ["d-tln"]\n'
    )
    return load_dataset(d)


def test_crisis_precheck_names_the_cut_off_demand(tmp_path: Path) -> None:
    from nisd.optimise.explain import precheck

    ds = _tallinn_cut_off(tmp_path)
    cfg = PlanConfig(
        k=1,
        separation_km=None,
        hazards="off",
        crisis={"sets": ["presets"], "levels": ["critical"], "cut_off": "fail"},
    )
    msgs = precheck(from_dataset(ds, cfg))
    assert msgs == [
        "preset tallinn-cut: critical Riigi Infosüsteemi Amet (d-tln) has no "
        "surviving site within 6 ms"
    ]
    with pytest.raises(InfeasibleError, match="tallinn-cut: d-tln unserved"):
        optimise(ds, from_dataset(ds, cfg))


def test_cut_off_demand_is_recorded_not_infeasible(tmp_path: Path) -> None:
    ds = _tallinn_cut_off(tmp_path)
    cfg = PlanConfig(
        k=1, separation_km=None, hazards="off", crisis={"sets": ["presets"], "levels": ["critical"]}
    )
    pp = from_dataset(ds, cfg)
    assert pp.cut_off == (("preset tallinn-cut", "d-tln"),)
    plan = optimise(ds, pp)
    assert plan.scenarios[0].cut_off == ("d-tln",)


@pytest.mark.parametrize("solver", available())
def test_a_start_never_changes_the_answer(solver: str) -> None:
    """A MIP start (feasible or not) only speeds the solver up: same optimum, same proof."""
    ds = load_dataset(ESTONIA)
    cfg = PlanConfig(
        k=2,
        separation_km=100.0,
        hazards="off",
        crisis={"sets": ["single-site"], "serve": {"critical": 1.0}},
        solver={"name": solver},
    )
    cold = optimise(ds, from_dataset(ds, cfg))
    warm = optimise(ds, from_dataset(ds, cfg), start=(cold.sites, cold.assignments))
    assert warm.status == cold.status == "optimal"
    assert warm.value == pytest.approx(cold.value)
    assert warm.run.start_given is True
    everything = {s: "site" for s in ds.site_ids}  # not a plan: more sites than allowed
    odd = optimise(
        ds, from_dataset(ds, cfg.model_copy(update={"p_max": 2})), start=(everything, {})
    )
    assert odd.status == "optimal" and odd.kpis.sites <= 2


@pytest.mark.parametrize("presolve", ["full", "light", "off"])
def test_presolve_never_changes_the_answer(presolve: str) -> None:
    """HiGHS's presolve levels (auto picks full or light by size) give the same proved optimum."""
    pytest.importorskip("highspy")
    ds = load_dataset(ESTONIA)
    base = {"k": 2, "separation_km": 100.0, "hazards": "off", "separate_power_zone": False}
    crisis = {"sets": ["single-site"], "serve": {"critical": 1.0}}
    auto = optimise(ds, from_dataset(ds, PlanConfig(**base, crisis=crisis)))
    cfg = PlanConfig(**base, crisis=crisis, solver={"name": "highs", "presolve": presolve})
    plan = optimise(ds, from_dataset(ds, cfg))
    assert plan.status == auto.status == "optimal"
    assert plan.value == pytest.approx(auto.value)
    assert plan.config is not None and plan.config.solver.presolve == presolve


def test_presolve_names_are_checked() -> None:
    with pytest.raises(ValueError, match="presolve"):
        PlanConfig(solver={"presolve": "heavy"})


def test_hazard_buffers_exclude_exactly_the_sites_inside_them() -> None:
    """Each site's hazard exclusion against great-circle distances computed here, by site id
    (the problem sorts sites by id; the data file does not)."""
    from nisd.io import default_data_dir

    ds = load_dataset(default_data_dir())
    pp = from_dataset(ds, PlanConfig(k=1, separation_km=None, hazards="hard"))
    assert [s.site_id for s in ds.sites] != list(pp.site_ids)  # the orders differ

    def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
        p1, p2 = np.radians(lat1), np.radians(lat2)
        a = (
            np.sin((p2 - p1) / 2) ** 2
            + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
        )
        return float(2 * 6371.0088 * np.arcsin(np.sqrt(a)))

    by_id = {s.site_id: s for s in ds.sites}
    points = [h for h in ds.hazards if h.geometry.geom_type == "Point"]
    # lines: the land border and the coast (distance a policy), the dam-break corridors
    lines = [h for h in ds.hazards if h not in points]
    assert all(h.buffer_km == 0 or h.hazard_class == "dam_break" for h in lines)
    import shapely
    from pyproj import Transformer
    from shapely.geometry import Point

    to_metric = Transformer.from_crs(4326, 3006, always_xy=True)

    def metric(geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geom, lambda c: np.column_stack(to_metric.transform(*c.T)))

    corridors = [(h, metric(h.geometry)) for h in lines if h.buffer_km > 0]
    for j, sid in enumerate(pp.site_ids):
        s = by_id[sid]
        inside = {
            h.hazard_id
            for h in points
            if km(s.lat, s.lon, h.geometry.y, h.geometry.x) <= h.buffer_km
        }
        # the dataset measures in SWEREF 99 TM: allow a kilometre's difference at the edge
        edge = {
            h.hazard_id
            for h in points
            if abs(km(s.lat, s.lon, h.geometry.y, h.geometry.x) - h.buffer_km) < 1.0
        }
        here = metric(Point(s.lon, s.lat))
        for h, line in corridors:
            d = line.distance(here) / 1000.0
            (inside if d <= h.buffer_km else set()).add(h.hazard_id)
            (edge if abs(d - h.buffer_km) < 0.01 else set()).add(h.hazard_id)
        assert inside - edge <= pp.hazard_area[j] <= inside | edge, sid
        assert bool(pp.allowed[j]) == (not pp.hazard_area[j]), sid


def test_protection_levels_in_the_default_and_their_explanation(tmp_path: Path) -> None:
    """Classified load is held only by core sites; a level no type offers is explained."""
    import shutil

    from nisd.io import default_data_dir
    from nisd.render.payload import build_payload
    from nisd.render.report import protection_rows

    src = default_data_dir()
    ds = load_dataset(src)
    cfg = PlanConfig(k=2, separation_km=200.0, hazards="hard", p_max=8)
    plan = optimise(ds, from_dataset(ds, cfg))
    level = {t.type_id: t.protection for t in ds.site_types}
    need = {d.demand_id: d.protection for d in ds.demand}
    assert max(need.values()) == 2
    for did, seq in plan.assignments.items():
        assert all(level[plan.sites[s]] >= need[did] for s in seq), did
    off = optimise(ds, from_dataset(ds, cfg.model_copy(update={"protection": False})))
    assert off.value is not None and plan.value is not None
    assert off.value <= plan.value + 1e-6
    # the report's table, from the page data of this plan
    rows = protection_rows(build_payload(ds, plan))
    # services: every user holds official records (1) or classified data (2)
    assert [r[0] for r in rows] == [2, 1]
    assert rows[0][3] == "core" and "(regional)" not in rows[0][4]
    assert rows[0][1] == sum(1 for d in ds.demand if d.protection == 2)
    # a level no site type offers: refused with the reason
    data = tmp_path / "d"
    shutil.copytree(src, data)
    text = (data / "demand.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    cells = text[1].split(",")
    cells[header.index("protection")] = "3"
    text[1] = ",".join(cells)
    (data / "demand.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    ds3 = load_dataset(data)
    with pytest.raises(InfeasibleError, match="needs protection level 3"):
        optimise(ds3, from_dataset(ds3, cfg))


@pytest.mark.parametrize(
    ("cap", "growth", "site"),
    [(1.0, 0.0, "s0"), (0.8, 0.0, "s1"), (1.0, 0.2, "s1"), (0.95, 0.05, "s0")],
)
def test_utilisation_cap_and_growth(cap: float, growth: float, site: str) -> None:
    """One user of 9 racks; s0 (cost 1) holds 10, s1 (cost 2) holds 20: by hand, 9 × (1 +
    growth) ≤ cap × 10 decides whether the cheap site is enough (9.45 ≤ 9.5 in the last)."""
    from nisd.optimise.problem import from_matrices

    cfg = PlanConfig(k=1, separation_km=None, hazards="off", utilisation_cap=cap, growth=growth)
    pp = from_matrices(
        np.array([[1.0, 1.0]]),
        np.array([[0.0, 300.0], [300.0, 0.0]]),
        np.array([[1.0], [2.0]]),
        np.array([[10.0], [20.0]]),
        np.array([9.0]),
        np.array([5.0]),
        np.array([5.0]),
        cfg,
    )
    plan = optimise(None, pp)  # type: ignore[arg-type]  # no crisis: no dataset needed
    assert list(plan.sites) == [site]
    wrong = {"s0": "s1", "s1": "s0"}[site]
    problems = check_plan(pp, {wrong: "t0"}, {"d0": [wrong]})
    assert (problems == []) == (wrong == "s1")
    if wrong == "s0":
        assert "exceeds capacity 10" in problems[0]
        assert ("growth" in problems[0]) == ((cap, growth) != (1.0, 0.0))


def test_presence_names_unknown_regions(tmp_path: Path) -> None:
    scen = tmp_path / "s.toml"
    scen.write_text(
        '[[presence]]\nname = "core"\ncounties = ["01", "99"]\npower_zones = ["SE9"]\n',
        encoding="utf-8",
    )
    res = CliRunner().invoke(cli, ["plan", str(scen), "--out", str(tmp_path / "p")])
    assert res.exit_code == 3 and "Traceback" not in res.output
    assert "presence[0].counties" in res.output and "'99' is not a county" in res.output
    assert "presence[0].power_zones" in res.output and "'SE9' is not a power zone" in res.output
    assert not (tmp_path / "p").exists()
    with pytest.raises(ValueError, match="needs counties or power_zones"):
        PlanConfig(presence=[{"name": "nowhere"}])


def test_border_distance_excludes_exactly_the_sites_near_it() -> None:
    """Sites closer than border_km to the land border, against distances computed here in
    SWEREF 99 TM with pyproj and shapely; a dataset without a border is refused."""
    import pyproj
    import shapely

    from nisd.io import default_data_dir
    from tests.conftest import ESTONIA

    ds = load_dataset(default_data_dir())
    base = {"k": 1, "separation_km": None, "hazards": "off"}
    pp = from_dataset(ds, PlanConfig(**base, border_km=100.0))
    border = next(h for h in ds.hazards if h.hazard_class == "land_border")
    to_m = pyproj.Transformer.from_crs(4326, 3006, always_xy=True).transform
    line = shapely.transform(border.geometry, lambda xy: np.column_stack(to_m(xy[:, 0], xy[:, 1])))
    by_id = {s.site_id: s for s in ds.sites}
    near = []
    for j, sid in enumerate(pp.site_ids):
        s = by_id[sid]
        km = shapely.Point(to_m(s.lon, s.lat)).distance(line) / 1000.0
        if abs(km - 100.0) > 1.0:
            assert bool(pp.allowed[j]) == (km >= 100.0), (sid, km)
        if km < 100.0:
            near.append(sid)
    assert near and len(near) < len(pp.site_ids)  # the rule bites, and not everywhere
    est = load_dataset(ESTONIA)
    with pytest.raises(ConfigError, match="border_km needs a hazard of class land_border"):
        from_dataset(est, PlanConfig(**base, border_km=100.0))


def test_min_population_keeps_each_type_in_towns_large_enough(tmp_path: Path) -> None:
    """Every opened site of a type lies in a town of at least that type's population,
    checked against the data here; an unknown type is refused with its key."""
    from nisd.io import default_data_dir

    ds = load_dataset(default_data_dir())
    rule = {"regional": 100_000}
    cfg = PlanConfig(k=2, separation_km=200.0, hazards="off", min_population=rule)
    plan = optimise(ds, from_dataset(ds, cfg))
    pop = {s.site_id: s.population for s in ds.sites}
    assert plan.status == "optimal"
    assert all(pop[s] >= rule.get(t, 0) for s, t in plan.sites.items())
    free = optimise(ds, from_dataset(ds, cfg.model_copy(update={"min_population": {}})))
    assert free.value is not None and plan.value is not None
    assert free.value <= plan.value + 1e-6
    scen = tmp_path / "s.toml"
    scen.write_text("[min_population]\nbunker = 5000\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["plan", str(scen), "--out", str(tmp_path / "p")])
    assert res.exit_code == 3 and "Traceback" not in res.output
    assert "min_population" in res.output and "'bunker' is not a site type" in res.output


@pytest.mark.parametrize("method", ["full", "sites-first"])
def test_solves_with_other_thread_counts_in_one_process(method: str) -> None:
    """HiGHS sizes its thread scheduler at the first run of a process and solved nothing
    (model status "not set") when a later run asked for another count: a plan made with
    the default threads, then a sweep's one-thread solves, got no plan."""
    pytest.importorskip("highspy")
    ds = load_dataset(ESTONIA)
    values = []
    for threads in (None, 1, 2, 1, None):
        cfg = PlanConfig.model_validate(
            {
                "k": 2,
                "separation_km": 100,
                "hazards": "off",
                "solver": {"name": "highs", "threads": threads, "method": method},
            }
        )
        r = optimise(ds, from_dataset(ds, cfg), {})
        assert r.status == "optimal", threads
        values.append(r.value)
    assert len(set(values)) == 1
