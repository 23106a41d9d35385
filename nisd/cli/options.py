"""Options shared by several commands, defined once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from nisd.io import default_data_dir

data_dir_argument = click.argument(
    "data_dir", required=False, type=click.Path(path_type=Path), metavar="[DIR]"
)
data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Data directory (default: the embedded Swedish dataset).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def resolve_data_dir(path: Path | None) -> Path:
    return path if path is not None else default_data_dir()


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False))
