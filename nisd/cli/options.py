"""Options and helpers shared by several commands, defined once."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from nisd import api
from nisd.api import Dataset
from nisd.errors import InputError
from nisd.records import Plan, Rollout, dumps

data_dir_argument = click.argument(
    "data_dir", required=False, type=click.Path(path_type=Path), metavar="[DIR]"
)
data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Data directory (default: the one the plan or roll-out names; for a new plan the "
    "embedded Swedish dataset, or $NISD_DATA).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def echo_json(obj: Any) -> None:
    """Print a record or plain data as nisd writes JSON."""
    click.echo(dumps(obj.to_json() if hasattr(obj, "to_json") else obj), nl=False)


def load_result(path: Path, data_dir: Path | None) -> tuple[Plan | Rollout, Dataset]:
    """A plan or roll-out file (or its folder) and the dataset it names (``--data``
    overrides), checked against each other."""
    result = api.read_result(path)
    return result, api.dataset_of(result, data_dir, str(path))


def load_plan(path: Path, data_dir: Path | None) -> tuple[Plan, Dataset]:
    """A plan file (or its folder) and its dataset."""
    plan = api.read_plan(path)
    return plan, api.dataset_of(plan, data_dir, str(path))


def name_of(path: Path) -> str:
    """A result's name in a comparison: its folder's for ``plan.json``/``rollout.json``,
    else the file's stem."""
    return path.parent.name or path.stem if path.name in (Plan.FILE, Rollout.FILE) else path.stem


def unique(names: list[str]) -> list[str]:
    """Names made unique: plan, plan-2, ..."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for a long command (hidden by ``-q``), as a callback
    ``(done, of)``."""
    quiet = (click.get_current_context().obj or {}).get("verbosity", 0) < 0
    state: dict[str, Any] = {}

    def update(done: int, of: int) -> None:
        if quiet:
            return
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=of, label=label, file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        bar = state.get("bar")
        if bar is not None:
            bar.__exit__(None, None, None)


@contextmanager
def as_options(**names: str) -> Iterator[None]:
    """Name the library's parameters as this command's options in its error messages
    (``keep`` → ``--keep``)."""
    try:
        yield
    except InputError as exc:
        exc.problems = tuple(replace(p, file=names.get(p.file, p.file)) for p in exc.problems)
        raise type(exc)(exc.problems) from None


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


def write(path: Path, text: str) -> None:
    """Write a result file atomically and say so."""
    click.echo(f"wrote {api.write_text(path, text)}")
