"""The default dataset and another country's load and summarise correctly."""

from __future__ import annotations

import json
import math
from pathlib import Path

from click.testing import CliRunner

from nisd.cli import cli
from nisd.dataset import Dataset
from nisd.io import load_dataset
from nisd.topology.validate import summary
from tests.conftest import ESTONIA


def test_default_dataset_meets_the_brief(sweden: Dataset) -> None:
    s = summary(sweden)
    assert s.sites >= 60
    assert s.counties == 21
    assert s.connected is True
    assert s.unreachable_demand == ()
    assert {x.power_zone for x in sweden.sites} == {"SE1", "SE2", "SE3", "SE4"}
    # every county seat is a candidate
    assert sum(x.is_county_seat for x in sweden.sites) == 21
    assert len({x.county_code for x in sweden.sites if x.is_county_seat}) == 21


def test_default_dataset_facts(sweden: Dataset) -> None:
    vasteras = sweden.node_by_id["n-vasteras"]
    assert math.isclose(vasteras.lat, 59.61617, abs_tol=0.01)
    assert math.isclose(vasteras.lon, 16.55276, abs_tol=0.01)
    # demand as services: each agency's workload has a user point in every county
    by_workload: dict[str, list[float]] = {}
    for d in sweden.demand:
        if d.workload:
            by_workload.setdefault(d.name.split(": ")[0], []).append(d.load)
    for agency in (
        "Försäkringskassan",
        "Skatteverket",
        "Lantmäteriet",
        "Trafikverket",
        "Transportstyrelsen",
        "Fortifikationsverket",
        "Polismyndigheten",
        "Migrationsverket",
        "Riksgälden",
        "Statens servicecenter",
    ):
        assert len(by_workload[agency]) == 21, agency
    # 8 x sqrt(staff / 1000) racks at about 14,000 staff (SOURCES.md "Demand")
    assert math.isclose(sum(by_workload["Försäkringskassan"]), 29.9, abs_tol=1e-4)
    assert sum(d.kind == "county_board" for d in sweden.demand) == 21
    # citizens' use is part of the agencies' load, counted once
    assert sum(d.kind == "population" for d in sweden.demand) == 0
    nuclear = {h.name: h for h in sweden.hazards}
    assert nuclear["Forsmark"].buffer_km == 40
    assert len(sweden.regions_of_kind("county")) == 21
    assert len(sweden.regions_of_kind("power_zone")) == 4
    assert all(lk.length_km > 0 for lk in sweden.links)
    assert len(sweden.links) == 48


def test_sweden_as_a_planner_knows_it(sweden: Dataset) -> None:
    """Today's agencies, the county boards' joint IT, the platform services they depend on,
    a basis for every load, the estate today and the hazards next to the candidates."""
    names = {d.name.split(": ")[0] for d in sweden.demand}
    assert "Myndigheten för civilt försvar (MCF)" in names
    assert not any("MSB" in n or "samhällsskydd" in n for n in names)
    assert "Regeringskansliet" in names
    workloads = {d.workload or d.demand_id: d for d in sweden.demand}
    agencies = {w for w, d in workloads.items() if d.kind == "agency"}
    assert len(agencies) >= 40
    boards = [d for d in sweden.demand if d.kind == "county_board"]
    assert {d.workload for d in boards} == {"d-lansstyrelserna"}
    lead = {d.county_code for d in boards if d.criticality == "critical"}
    assert lead == {"01", "05", "12", "14", "18", "25"}  # förordning (2022:525)
    assert all(d.load_basis for d in sweden.demand)
    platform = {"d-efos", "d-sgsi", "d-pki", "d-dns"}
    assert platform <= set(workloads)
    assert all(set(workloads[w].depends_on) == platform for w in agencies)
    assert workloads["d-efos"].depends_on == ("d-pki", "d-dns")
    hazards = " | ".join(h.name for h in sweden.hazards)
    for place in ("Studsvik", "Westinghouse", "Uppsala", "Berga", "Muskö", "Karlskrona"):
        assert place in hazards, place
    existing = [s for s in sweden.sites if s.existing]
    assert {s.site_id for s in existing} >= {"s-forsakringskassan-sundsvall"}
    assert all(s.existing_type and s.existing_basis for s in existing)
    assert {"s-boden", "s-kiruna"} <= set(sweden.site_ids)
    assert all(s.candidate_basis for s in sweden.sites)
    assert not any("junction" in n for n in sweden.node_by_id)


def test_frames_are_copies(sweden: Dataset) -> None:
    df = sweden.frame("sites")
    df.loc[df.index[0], "name"] = "changed"
    assert sweden.sites[0].name != "changed"
    assert list(sweden.frame("links").columns)[:3] == ["link_id", "a", "b"]


def test_validate_json_cli(default_dir: Path) -> None:
    res = CliRunner().invoke(cli, ["validate", str(default_dir), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for key in ("sites", "demand_points", "nodes", "links", "counties", "connected"):
        assert key in out
    assert out["sites"] >= 60 and out["counties"] == 21 and out["connected"] is True


def test_another_country_validates_without_code_change() -> None:
    ds = load_dataset(ESTONIA)
    assert ds.config.crs == "EPSG:3301"
    s = summary(ds)
    assert s.sites == 6 and s.connected and s.unreachable_demand == ()
    # lengths estimated from great-circle distance x the dataset's own route factor
    assert all(lk.length_basis == "great-circle x 1.25" for lk in ds.links)
    # criticality defaults to the least critical level of this dataset
    assert ds.demand_by_id["d-trt"].criticality == "normal"
    res = CliRunner().invoke(cli, ["validate", str(ESTONIA)])
    assert res.exit_code == 0, res.output
    assert "sites 6" in res.output


def test_names_with_markup_are_kept_verbatim(data_copy: Path) -> None:
    from tests.helpers import set_cell

    nasty = "</script><img src=x onerror=alert(1)> `${x}` \\ \"q\" 'q' Þórshöfn 東京"
    set_cell(data_copy / "sites.csv", 0, "name", nasty)
    ds = load_dataset(data_copy)
    assert ds.sites[0].name == nasty


def test_utf8_bom_is_accepted(data_copy: Path) -> None:
    p = data_copy / "sites.csv"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    ds = load_dataset(data_copy)
    assert ds.sites[0].site_id == "s-stockholm"


def test_geojson_and_geopackage_sites(data_copy: Path, tmp_path: Path) -> None:
    import geopandas as gpd
    import pandas as pd

    df = pd.read_csv(data_copy / "sites.csv", dtype=str)
    gdf = gpd.GeoDataFrame(
        df.drop(columns=["lat", "lon"]),
        geometry=gpd.points_from_xy(df.lon.astype(float), df.lat.astype(float)),
        crs=4326,
    )
    (data_copy / "sites.csv").unlink()
    gdf.to_file(data_copy / "sites.geojson", driver="GeoJSON")
    a = load_dataset(data_copy)
    (data_copy / "sites.geojson").unlink()
    gdf.to_crs(3006).to_file(data_copy / "sites.gpkg", driver="GPKG")
    b = load_dataset(data_copy)
    assert len(a.sites) == len(b.sites) == len(df)
    assert math.isclose(a.sites[0].lat, b.sites[0].lat, abs_tol=1e-6)
    assert math.isclose(b.sites[0].lon, float(df.lon[0]), abs_tol=1e-6)
