"""``nisd validate``: check a data directory and summarise it."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import data_dir_argument, echo_json, json_option


@click.command()
@data_dir_argument
@json_option
def validate(data_dir: Path | None, as_json: bool) -> None:
    """Validate the data directory DIR and print a summary.

    Every problem is reported at once (file, line or feature, column,
    reason); bad data exits with code 3 and writes nothing.
    """
    s = api.summary(api.load(data_dir))
    if as_json:
        echo_json(s)
        return
    for w in s.warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(s.text(warnings=False))
