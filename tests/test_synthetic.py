"""Synthetic countries: loadable, deterministic, plannable."""

from __future__ import annotations

from pathlib import Path

import pytest

from nisd.config import PlanConfig
from nisd.io import load_dataset
from nisd.io.synthetic import write_country
from nisd.optimise import from_dataset, optimise
from nisd.optimise.check import check_plan


def test_same_seed_same_files(tmp_path: Path) -> None:
    a = write_country(tmp_path / "a", 30, 20, seed=3)
    b = write_country(tmp_path / "b", 30, 20, seed=3)
    c = write_country(tmp_path / "c", 30, 20, seed=4)
    for name in ("sites.csv", "demand.csv", "links.csv", "regions.geojson"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "sites.csv").read_bytes() != (c / "sites.csv").read_bytes()


def test_loads_with_every_site_in_a_county_and_zone(tmp_path: Path) -> None:
    ds = load_dataset(write_country(tmp_path, 60, 40, seed=1))
    assert (len(ds.sites), len(ds.demand)) == (60, 40)
    counties = {r.region_id for r in ds.regions if r.kind == "county"}
    zones = {r.region_id for r in ds.regions if r.kind == "power_zone"}
    assert all(s.county_code in counties and s.power_zone in zones for s in ds.sites)
    # the region outlines agree with the codes written on the sites
    by_id = {(r.kind, r.region_id): r.geometry for r in ds.regions}
    from shapely.geometry import Point

    for s in ds.sites:
        assert by_id["county", s.county_code].intersects(Point(s.lon, s.lat))
        assert by_id["power_zone", s.power_zone].intersects(Point(s.lon, s.lat))


def test_plannable_and_checked(tmp_path: Path) -> None:
    ds = load_dataset(write_country(tmp_path, 25, 20, seed=2))
    cfg = PlanConfig(k=2, separation_km=200, separate_power_zone=True, hazards="off")
    plan = optimise(ds, from_dataset(ds, cfg))
    assert plan.status == "optimal"
    assert check_plan(from_dataset(ds, cfg), plan.sites, plan.assignments) == []


@pytest.mark.parametrize(("sites", "demand"), [(0, 5), (5, 0)])
def test_refuses_an_empty_country(tmp_path: Path, sites: int, demand: int) -> None:
    with pytest.raises(ValueError, match="at least one site and one demand point"):
        write_country(tmp_path, sites, demand)
