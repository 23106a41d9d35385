"""``nisd sweep``: solve a grid of scenario variants, resumably, in parallel."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from nisd import api

workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Parallel solves (default: CPUs; 1 = serial).",
)
dask_option = click.option(
    "--dask",
    metavar="local|tls://HOST:PORT",
    default=None,
    help="Run on a Dask LocalCluster, or on the workers `nisd workers` keeps (the "
    "tls:// address it printed; tcp://HOST:PORT for a cluster started another way).",
)


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
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Data directory (default: the embedded Swedish dataset, or $NISD_DATA).",
)
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
    values = api.parse_vary(vary)
    ds = api.load(data_dir)  # the data is checked before any solve
    n = api.count_points(scenario, values)
    click.echo(f"{n} points", err=True)
    failures: list[str] = []
    quiet = (click.get_current_context().obj or {}).get("verbosity", 0) < 0
    with click.progressbar(length=n, label="solving", file=sys.stderr) as bar:

        def done(p: Any, res: Any, cached: bool) -> None:
            if not quiet:
                bar.update(1)
            if not res.ok:
                failures.append(f"{p.key} {p.params}: {res.error.splitlines()[0]}")

        df = api.sweep(
            ds, scenario, values, out, workers=workers, dask=dask, maps=maps, progress=done
        )
    for f in failures:
        click.echo(f"failed: {f}", err=True)
    if "map_error" in df:
        for point, why in zip(df.point, df.map_error, strict=True):
            if isinstance(why, str):
                click.echo(f"map not drawn: {point}: {why}", err=True)
    paths = api.sweep_outputs(df, out, f"Sweep of {scenario.name}: " + ", ".join(vary))
    ok = int(df.status.isin(["optimal", "feasible"]).sum())
    click.echo(
        f"{ok} of {len(df)} points solved; Pareto front: "
        f"{int(df['pareto'].sum()) if 'pareto' in df else 0} points"
    )
    for path in paths:
        click.echo(f"wrote {path}")
