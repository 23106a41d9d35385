"""``nisd topology``: the fibre graph's structure and latency extremes."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import data_dir_argument, echo_json, json_option


@click.command()
@data_dir_argument
@json_option
def topology(data_dir: Path | None, as_json: bool) -> None:
    """Nodes, links, bridges, cut vertices and latency extremes of DIR's backbone."""
    s = api.topology(api.load(data_dir))
    if as_json:
        echo_json(s)
    else:
        click.echo(s.text())
