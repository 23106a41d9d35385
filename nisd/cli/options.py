"""Options shared by several commands, defined once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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


F = TypeVar("F", bound=Callable[..., Any])


def solver_options(f: F) -> F:
    """``--solver``, ``--time-limit``, ``--gap``, ``--threads``, ``--seed`` (see
    :func:`solver_overrides`)."""
    for opt in reversed(
        (
            click.option(
                "--solver", help="auto (default: HiGHS), highs, cbc, or any PuLP solver name."
            ),
            click.option(
                "--time-limit", type=click.FloatRange(min=0, min_open=True), help="Seconds."
            ),
            click.option(
                "--gap", type=click.FloatRange(0, 1, max_open=True), help="Relative gap to stop at."
            ),
            click.option("--threads", type=click.IntRange(min=1)),
            click.option("--seed", type=int),
        )
    ):
        f = opt(f)
    return f


def solver_overrides(
    solver: str | None,
    time_limit: float | None,
    gap: float | None,
    threads: int | None,
    seed: int | None,
) -> dict[str, Any]:
    """The scenario overrides the solver options ask for (``{"solver": {...}}`` or ``{}``)."""
    given = {
        key: val
        for key, val in (
            ("name", solver),
            ("time_limit", time_limit),
            ("gap", gap),
            ("threads", threads),
            ("seed", seed),
        )
        if val is not None
    }
    return {"solver": given} if given else {}
