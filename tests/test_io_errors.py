"""Every bad input is rejected with a message naming the file, line or column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nisd.cli import cli
from nisd.errors import InputError
from nisd.io import load_dataset
from tests.helpers import read_rows, set_cell, write_rows


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_dataset(path)
    return [str(p) for p in info.value.problems if p.severity == "error"]


def one(path: Path, pattern: str) -> str:
    msgs = problems(path)
    hits = [m for m in msgs if pattern in m]
    assert hits, f"no problem mentions {pattern!r}: {msgs}"
    return hits[0]


def test_duplicate_ids(data_copy: Path) -> None:
    set_cell(data_copy / "sites.csv", 3, "site_id", "s-stockholm")
    msg = one(data_copy, "duplicate id")
    assert msg.startswith("sites.csv line 5, column site_id: duplicate id 's-stockholm'")
    assert "first on line 2" in msg


def test_id_used_in_two_tables(data_copy: Path) -> None:
    set_cell(data_copy / "demand.csv", 0, "demand_id", "s-uppsala")
    assert "demand.csv line 2, column demand_id: id 's-uppsala' is already used" in one(
        data_copy, "already used"
    )


def test_swapped_coordinates(data_copy: Path) -> None:
    rows = read_rows(data_copy / "sites.csv")
    rows[1]["lat"], rows[1]["lon"] = rows[1]["lon"], rows[1]["lat"]
    write_rows(data_copy / "sites.csv", rows)
    msg = one(data_copy, "swapped")
    assert msg.startswith("sites.csv line 3, column lat/lon: latitude and longitude look swapped")


def test_outside_bbox(data_copy: Path) -> None:
    set_cell(data_copy / "demand.csv", 2, "lat", "48.85")
    assert "demand.csv line 4, column lat/lon: point (lat 48.85" in one(data_copy, "bounding box")


def test_latitude_out_of_range(data_copy: Path) -> None:
    set_cell(data_copy / "nodes.csv", 0, "lat", "95")
    assert "nodes.csv line 2, column lat: latitude 95 is outside -90..90" in problems(data_copy)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("NaN", "NaN is not allowed"),
        ("nan", "NaN is not allowed"),
        ("-5", "must not be negative, got -5"),
        ("lots", "not a number: 'lots'"),
        ("inf", "not a finite number: 'inf'"),
    ],
)
def test_bad_numbers(data_copy: Path, value: str, reason: str) -> None:
    set_cell(data_copy / "demand.csv", 4, "load", value)
    assert f"demand.csv line 6, column load: {reason}" in problems(data_copy)


def test_missing_required_value(data_copy: Path) -> None:
    set_cell(data_copy / "sites.csv", 0, "name", "")
    assert "sites.csv line 2, column name: value is missing" in problems(data_copy)


def test_empty_file(data_copy: Path) -> None:
    (data_copy / "demand.csv").write_text("", encoding="utf-8")
    assert "demand.csv: is empty: expected a header row and data rows" in problems(data_copy)


def test_header_only(data_copy: Path) -> None:
    p = data_copy / "nodes.csv"
    p.write_text(p.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert "nodes.csv: has a header but no data rows" in problems(data_copy)


def test_missing_required_column(data_copy: Path) -> None:
    rows = read_rows(data_copy / "demand.csv")
    for r in rows:
        del r["load"]
    write_rows(data_copy / "demand.csv", rows)
    assert "demand.csv, column load: required column 'load' is missing" in problems(data_copy)


def test_unknown_column_warns(data_copy: Path) -> None:
    rows = read_rows(data_copy / "sites.csv")
    for r in rows:
        r["colour"] = "blue"
    write_rows(data_copy / "sites.csv", rows)
    ds = load_dataset(data_copy)
    warn = [str(w) for w in ds.warnings]
    assert any(
        w.startswith("sites.csv, column colour: unknown column 'colour' is ignored") for w in warn
    ), warn
    res = CliRunner().invoke(cli, ["validate", str(data_copy)])
    assert res.exit_code == 0
    assert "warning: sites.csv, column colour" in res.stderr


def test_not_utf8(data_copy: Path) -> None:
    p = data_copy / "sites.csv"
    p.write_bytes(p.read_text(encoding="utf-8").encode("latin-1"))
    msg = one(data_copy, "not UTF-8")
    assert msg.startswith("sites.csv line ")
    assert "save it as UTF-8" in msg


def test_wrong_field_count(data_copy: Path) -> None:
    p = data_copy / "links.csv"
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[3] += ",extra"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "links.csv line 4: has 8 fields, the header has 7" in problems(data_copy)


def test_malformed_geojson(data_copy: Path) -> None:
    p = data_copy / "hazards.geojson"
    p.write_text(p.read_text(encoding="utf-8")[:-40], encoding="utf-8")
    assert one(data_copy, "malformed GeoJSON").startswith("hazards.geojson line ")


def test_not_a_feature_collection(data_copy: Path) -> None:
    (data_copy / "hazards.geojson").write_text('{"type": "Point", "coordinates": [1, 2]}')
    assert "hazards.geojson: is not a GeoJSON FeatureCollection" in problems(data_copy)


def _polygon_feature(coords: list[list[float]], **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [coords]},
    }


def test_invalid_geometry_is_not_repaired(data_copy: Path) -> None:
    p = data_copy / "hazards.geojson"
    doc = json.loads(p.read_text(encoding="utf-8"))
    bowtie = [[15.0, 58.0], [16.0, 59.0], [16.0, 58.0], [15.0, 59.0], [15.0, 58.0]]
    doc["features"].append(
        _polygon_feature(
            bowtie, hazard_id="h-x", name="Bowtie", hazard_class="chemical", buffer_km=10
        )
    )
    p.write_text(json.dumps(doc), encoding="utf-8")
    msg = one(data_copy, "invalid Polygon")
    n = len(doc["features"])  # the bowtie is the last feature
    assert msg.startswith(
        f"hazards.geojson feature {n}, column geometry: invalid Polygon geometry: Self-intersection"
    )
    assert "not repaired" in msg


def test_polygon_hazard_accepted(data_copy: Path) -> None:
    p = data_copy / "hazards.geojson"
    doc = json.loads(p.read_text(encoding="utf-8"))
    square = [[15.0, 58.0], [15.1, 58.0], [15.1, 58.1], [15.0, 58.1], [15.0, 58.0]]
    doc["features"].append(
        _polygon_feature(
            square, hazard_id="h-chem", name="Plant", hazard_class="chemical", buffer_km=10
        )
    )
    p.write_text(json.dumps(doc), encoding="utf-8")
    ds = load_dataset(data_copy)
    assert ds.hazards[-1].geometry.geom_type == "Polygon"


def test_conflicting_crs(data_copy: Path) -> None:
    p = data_copy / "hazards.geojson"
    doc = json.loads(p.read_text(encoding="utf-8"))
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}}
    p.write_text(json.dumps(doc), encoding="utf-8")
    msg = one(data_copy, "conflicts")
    assert msg.startswith("hazards.geojson feature 1: coordinates (")
    assert "EPSG:3006 is projected" in msg


def test_projected_coordinates_without_crs(data_copy: Path) -> None:
    p = data_copy / "hazards.geojson"
    doc = json.loads(p.read_text(encoding="utf-8"))
    doc["features"][0]["geometry"]["coordinates"] = [674000.0, 6580000.0]
    p.write_text(json.dumps(doc), encoding="utf-8")
    assert "the file's CRS is missing or wrong" in one(data_copy, "CRS is missing")


def test_geopackage_without_crs(data_copy: Path) -> None:
    import geopandas as gpd
    import pandas as pd

    df = pd.read_csv(data_copy / "nodes.csv", dtype=str)
    gdf = gpd.GeoDataFrame(
        df.drop(columns=["lat", "lon"]),
        geometry=gpd.points_from_xy(df.lon.astype(float), df.lat.astype(float)),
    )
    (data_copy / "nodes.csv").unlink()
    gdf.to_file(data_copy / "nodes.gpkg", driver="GPKG")
    assert "nodes.gpkg: has no CRS: set the layer's CRS (e.g. EPSG:4326)" in problems(data_copy)


def test_two_files_for_one_table(data_copy: Path) -> None:
    (data_copy / "nodes.geojson").write_text('{"type":"FeatureCollection","features":[]}')
    assert "nodes.csv: both nodes.csv and nodes.geojson exist; keep one" in problems(data_copy)


def test_link_to_unknown_id(data_copy: Path) -> None:
    set_cell(data_copy / "links.csv", 2, "b", "n-atlantis")
    assert (
        "links.csv line 4, column b: unknown id 'n-atlantis': not a node, site or demand point"
        in problems(data_copy)
    )


def test_self_loop(data_copy: Path) -> None:
    rows = read_rows(data_copy / "links.csv")
    rows[0]["b"] = rows[0]["a"]
    write_rows(data_copy / "links.csv", rows)
    assert one(data_copy, "self-loop").startswith("links.csv line 2, column b: self-loop")


@pytest.mark.parametrize(("value", "reason"), [("0", "got 0"), ("-12.5", "got -12.5")])
def test_non_positive_length(data_copy: Path, value: str, reason: str) -> None:
    set_cell(data_copy / "links.csv", 1, "length_km", value)
    assert f"links.csv line 3, column length_km: must be greater than zero, {reason}" in problems(
        data_copy
    )


def test_duplicate_link(data_copy: Path) -> None:
    rows = read_rows(data_copy / "links.csv")
    dup = dict(rows[0], link_id="l-copy")
    rows.append(dup)
    write_rows(data_copy / "links.csv", rows)
    msg = one(data_copy, "duplicate link ")
    assert msg.startswith(f"links.csv line {len(rows) + 1}, column a/b: duplicate link")
    assert "first on line 2" in msg


def test_disconnected_backbone_warns_with_components(data_copy: Path) -> None:
    rows = [r for r in read_rows(data_copy / "links.csv") if "kiruna" not in r["link_id"]]
    write_rows(data_copy / "links.csv", rows)
    ds = load_dataset(data_copy)
    warn = " ".join(str(w) for w in ds.warnings)
    assert "the backbone is not connected: 2 components" in warn
    assert "{n-kiruna}" in warn


def test_unknown_site_type_and_zone(data_copy: Path) -> None:
    set_cell(data_copy / "sites.csv", 0, "allowed_types", "bunker")
    set_cell(data_copy / "sites.csv", 1, "power_zone", "SE9")
    msgs = problems(data_copy)
    assert any(
        m.startswith("sites.csv line 2, column allowed_types: unknown site type(s) bunker")
        for m in msgs
    )
    assert any(m.startswith("sites.csv line 3, column power_zone: power_zone 'SE9'") for m in msgs)


def test_unknown_criticality_and_class(data_copy: Path) -> None:
    set_cell(data_copy / "demand.csv", 0, "criticality", "vital")
    set_cell(data_copy / "demand.csv", 1, "latency_class", "warp")
    msgs = problems(data_copy)
    assert any("demand.csv line 2, column criticality: criticality 'vital'" in m for m in msgs)
    assert any("demand.csv line 3, column latency_class: latency_class 'warp'" in m for m in msgs)


def test_dataset_toml_unknown_key_and_bad_crs(data_copy: Path) -> None:
    p = data_copy / "dataset.toml"
    text = p.read_text(encoding="utf-8").replace('crs = "EPSG:3006"', 'crs = "EPSG:4326"')
    p.write_text(text.replace("[network]", "[network]\nroute_factr = 1.2"), encoding="utf-8")
    msgs = problems(data_copy)
    assert "dataset.toml, column network.route_factr: unknown key 'network.route_factr'" in msgs
    assert any("EPSG:4326 is not a projected (metric) CRS" in m for m in msgs)


def test_dataset_toml_syntax_error(data_copy: Path) -> None:
    (data_copy / "dataset.toml").write_text("name = \n", encoding="utf-8")
    assert one(data_copy, "not valid TOML").startswith("dataset.toml: is not valid TOML")


def test_every_problem_reported_at_once(data_copy: Path) -> None:
    set_cell(data_copy / "sites.csv", 0, "lat", "x")
    set_cell(data_copy / "demand.csv", 0, "load", "-1")
    set_cell(data_copy / "links.csv", 0, "a", "nowhere")
    msgs = problems(data_copy)
    files = {m.split(" ")[0] for m in msgs}
    assert {"sites.csv", "demand.csv", "links.csv"} <= files


def test_cli_bad_data_exit_code_and_no_traceback(data_copy: Path) -> None:
    set_cell(data_copy / "sites.csv", 0, "lat", "north")
    res = CliRunner().invoke(cli, ["validate", str(data_copy)])
    assert res.exit_code == 3
    assert "error: sites.csv line 2, column lat: not a number: 'north'" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert res.stdout == ""


def test_cli_missing_directory() -> None:
    res = CliRunner().invoke(cli, ["validate", "/nonexistent/nisd"])
    assert res.exit_code == 3
    assert "error: /nonexistent/nisd: is not a directory" in res.stderr


def test_id_with_surrounding_spaces(data_copy: Path) -> None:
    first = read_rows(data_copy / "sites.csv")[0]["site_id"]
    set_cell(data_copy / "sites.csv", 1, "site_id", f" {first} ")
    msg = one(data_copy, "spaces at its start or end")
    assert msg.startswith("sites.csv line 3, column site_id:")


@pytest.mark.parametrize(
    ("file", "column", "value", "message"),
    [
        ("demand.csv", "load", "1e308", "1e+308 racks is implausibly large"),
        ("site_types.csv", "cost_msek", "1e12", "1e+12 MSEK/year is implausibly large"),
        ("sites.csv", "capacity", "5e9", "5e+09 racks is implausibly large"),
    ],
)
def test_absurd_magnitudes(
    data_copy: Path, file: str, column: str, value: str, message: str
) -> None:
    set_cell(data_copy / file, 0, column, value)
    msg = one(data_copy, "implausibly large")
    assert message in msg and msg.startswith(f"{file} line 2, column {column}:")
    res = CliRunner().invoke(cli, ["validate", str(data_copy)])
    assert res.exit_code == 3 and "Traceback" not in res.output
