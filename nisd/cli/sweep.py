"""``nisd sweep``: solve a grid of scenario variants, resumably, in parallel."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from nisd.cli.options import data_option, resolve_data_dir
from nisd.io import load_dataset
from nisd.optimise import load_plan_config
from nisd.study.outputs import index_page, pareto_plot, write_tables
from nisd.study.runner import Task, run_tasks
from nisd.study.sweep import check_points, grid, parse_vary, run_sweep

workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Parallel solves (default: CPUs; 1 = serial).",
)
dask_option = click.option(
    "--dask",
    metavar="local|tcp://HOST:PORT",
    default=None,
    help="Run on a Dask LocalCluster, or on running workers (`nisd workers`).",
)


def progress_runner(
    label: str, workers: int | None, dask: str | None
) -> Callable[[list[Task]], Iterator[tuple[str, dict[str, Any]]]]:
    """Run tasks on the chosen executor with a progress bar on stderr (explain,
    sensitivity)."""

    def run(tasks: list[Task]) -> Iterator[tuple[str, dict[str, Any]]]:
        with click.progressbar(length=len(tasks), label=label, file=sys.stderr) as bar:
            for item in run_tasks(tasks, workers=workers, dask=dask):
                bar.update(1)
                yield item

    return run


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--vary",
    multiple=True,
    required=True,
    metavar="KEY=VALUES",
    help="Values as a list (separation_km=100,200,300) or range (p=3..8); repeat.",
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("sweep"), show_default=True)
@data_option
@workers_option
@dask_option
@click.option(
    "--maps/--no-maps",
    default=True,
    show_default=True,
    help="Write each plan's map and link it from the index.",
)
def sweep(
    scenario: Path,
    vary: tuple[str, ...],
    out: Path,
    data_dir: Path | None,
    workers: int | None,
    dask: str | None,
    maps: bool,
) -> None:
    """Solve SCENARIO for every combination of the --vary values.

    Each finished plan is written at once to OUT/points/; a rerun skips what is
    done; a failing point is reported with its parameters and the sweep goes
    on. Writes OUT/table.csv, OUT/table.parquet, OUT/pareto.png, OUT/pareto.svg
    and OUT/index.html.
    """
    values = parse_vary(vary)
    base = load_plan_config(scenario).model_dump(mode="json")
    points = grid(base, values)
    check_points(points)
    data = resolve_data_dir(data_dir)
    load_dataset(data)  # the data is checked before any solve
    click.echo(f"{len(points)} points", err=True)
    failures: list[str] = []
    with click.progressbar(length=len(points), label="solving", file=sys.stderr) as bar:

        def done(p: Any, res: dict[str, Any], cached: bool) -> None:
            bar.update(1)
            if not res.get("ok"):
                failures.append(f"{p.key} {p.params}: {res.get('error', '').splitlines()[0]}")

        df = run_sweep(
            points, out, data, lambda t: run_tasks(t, workers=workers, dask=dask), done, maps
        )
    for f in failures:
        click.echo(f"failed: {f}", err=True)
    if "map_error" in df:
        for point, why in zip(df.point, df.map_error, strict=True):
            if isinstance(why, str):
                click.echo(f"map not drawn: {point}: {why}", err=True)
    paths = write_tables(df, out)
    paths += pareto_plot(df, out)
    paths.append(index_page(df, out, f"Sweep of {scenario.name}: " + ", ".join(vary)))
    ok = int(df.status.isin(["optimal", "feasible"]).sum())
    click.echo(
        f"{ok} of {len(df)} points solved; Pareto front: "
        f"{int(df['pareto'].sum()) if 'pareto' in df else 0} points"
    )
    for path in paths:
        click.echo(f"wrote {path}")
