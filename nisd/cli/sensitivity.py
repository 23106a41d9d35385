"""``nisd sensitivity``: re-plan a plan's scenario with each labelled assumption low and high."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import data_option, echo_json, json_option, load_plan, progress
from nisd.cli.sweep import dask_option, workers_option


@click.command()
@click.argument("plan", type=click.Path(path_type=Path))
@data_option
@workers_option
@dask_option
@json_option
def sensitivity(
    plan: Path, data_dir: Path | None, workers: int | None, dask: str | None, as_json: bool
) -> None:
    """Re-plan PLAN.json's scenario with each labelled assumption at its low and its high
    value (site type costs and capacities ±20 %, every load ±20 %, the cost factors' spread,
    judged hazard buffers, separation, protection levels), side by side.

    Writes sensitivity.json beside the plan; the report draws it as a tornado chart.
    """
    typed, ds = load_plan(plan, data_dir)
    typed.run.config(str(plan))
    with progress("re-planning") as bar:
        result = api.sensitivity(ds, typed, workers=workers, dask=dask, progress=bar)
    result.save_beside(api.result_path(plan))
    if as_json:
        echo_json([v.to_json() for v in result.variants])
        return
    click.echo(
        f"plan cost {typed.kpis.cost_msek:g} MSEK/yr; sites {', '.join(sorted(typed.sites))}"
    )
    moving = result.moving()
    click.echo("the sites change with: " + (", ".join(moving) if moving else "no assumption tried"))
    for r in result.variants:
        cost = "no plan" if r.cost is None else f"{r.cost:g} ({r.change or 0.0:+g})"
        moved = " ".join([*(f"+{s}" for s in r.added), *(f"-{s}" for s in r.removed)])
        line = f"  {r.assumption:<32} {r.side:<4} {r.value:<24} {cost:<20} {moved}"
        click.echo(f"{line} {r.note or ''}".rstrip() if r.cost is not None else line.rstrip())
