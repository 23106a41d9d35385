"""``nisd validate``: check a data directory and summarise it."""

from __future__ import annotations

from pathlib import Path

import click

from nisd.cli.options import data_dir_argument, echo_json, json_option, resolve_data_dir
from nisd.io import load_dataset
from nisd.validate import format_summary, summary


@click.command()
@data_dir_argument
@json_option
def validate(data_dir: Path | None, as_json: bool) -> None:
    """Validate the data directory DIR and print a summary.

    Every problem is reported at once (file, line or feature, column,
    reason); bad data exits with code 3 and writes nothing.
    """
    ds = load_dataset(resolve_data_dir(data_dir))
    s = summary(ds)
    if as_json:
        echo_json(s)
    else:
        for w in ds.warnings:
            click.echo(f"warning: {w}", err=True)
        click.echo(format_summary({**s, "warnings": []}))
