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
    assert math.isclose(sum(by_workload["Försäkringskassan"]), 40.0, abs_tol=1e-4)
    assert sum(d.kind == "county_board" for d in sweden.demand) == 21
    # citizens' use is part of the agencies' load, counted once
    assert sum(d.kind == "population" for d in sweden.demand) == 0
    nuclear = {h.name: h for h in sweden.hazards}
    assert nuclear["Forsmark"].buffer_km == 40
    assert len(sweden.regions_of_kind("county")) == 21
    assert len(sweden.regions_of_kind("power_zone")) == 4
    assert all(lk.length_km > 0 for lk in sweden.links)
    assert len(sweden.links) == 49


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
