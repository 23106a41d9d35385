"""``nisd topology``: the fibre graph's structure and latency extremes."""

from __future__ import annotations

from pathlib import Path

import click

from nisd.cli.options import data_dir_argument, echo_json, json_option, resolve_data_dir
from nisd.io import load_dataset
from nisd.topology import build_graph
from nisd.topology.summary import format_topology, topology_summary


@click.command()
@data_dir_argument
@json_option
def topology(data_dir: Path | None, as_json: bool) -> None:
    """Nodes, links, bridges, cut vertices and latency extremes of DIR's backbone."""
    ds = load_dataset(resolve_data_dir(data_dir))
    s = topology_summary(ds, build_graph(ds))
    if as_json:
        echo_json(s)
    else:
        click.echo(format_topology(s))
