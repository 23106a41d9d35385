"""``data/rail``: the default with the schematic railway fibre layer beside Sunet."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from nisd.cli import cli
from nisd.io import load_dataset

DATA = Path(__file__).resolve().parent.parent / "data"
RAIL, SITES = DATA / "rail", DATA / "sites"

pytestmark = pytest.mark.skipif(
    not RAIL.exists(), reason="data/rail is not beside the default data (an installed wheel)"
)


def test_only_the_fibre_differs_from_the_default() -> None:
    for f in sorted(SITES.iterdir()):
        if f.name in ("nodes.csv", "links.csv", "dataset.toml"):
            continue
        assert (RAIL / f.name).read_bytes() == f.read_bytes(), f.name
    rail, sites = load_dataset(RAIL), load_dataset(SITES)
    assert {n.node_id for n in sites.nodes} < {n.node_id for n in rail.nodes}
    assert {lk.link_id for lk in sites.links} < {lk.link_id for lk in rail.links}


def test_the_layer_runs_beside_sunet_with_its_corridors() -> None:
    ds = load_dataset(RAIL)
    sunet = {frozenset((lk.a, lk.b)) for lk in ds.links if lk.path != "rail"}
    rail = [lk for lk in ds.links if lk.path == "rail"]
    assert len(rail) == 85
    for lk in rail:
        a, b = sorted((lk.a, lk.b))
        assert f"rail-{a[2:]}-{b[2:]}" in lk.srlg
        # where Sunet runs between the same two towns the corridor is shared
        assert (f"sunet-corridor-{a[2:]}-{b[2:]}" in lk.srlg) == (frozenset((a, b)) in sunet)
        assert lk.length_km is not None and lk.length_km > 0
    g = nx.Graph((lk.a, lk.b) for lk in ds.links)
    assert nx.is_connected(g)
    # the railway alone joins the south to Luleå and Kiruna (a route beside Sunet's)
    g_rail = nx.Graph((lk.a, lk.b) for lk in rail)
    assert nx.has_path(g_rail, "n-malmo", "n-kiruna")


def test_validate_accepts_it() -> None:
    res = CliRunner().invoke(cli, ["validate", str(RAIL)])
    assert res.exit_code == 0, res.output
    assert "nodes 76, links 133" in res.output and "backbone: connected" in res.output
