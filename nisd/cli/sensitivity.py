"""``nisd sensitivity``: re-plan a plan's scenario with each labelled assumption low and high."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from nisd.cli.options import data_option, json_option
from nisd.cli.sweep import dask_option, progress_runner, workers_option
from nisd.io.planfile import write_sensitivity
from nisd.optimise.config import config_of_plan, objective_value
from nisd.render import read_plan_doc
from nisd.render.context import load_plan
from nisd.study.runner import side_by_side
from nisd.study.sensitivity import sensitivity_table


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
    doc = read_plan_doc(plan)
    config_of_plan(doc, str(plan))
    objective_value(doc, str(plan))
    typed, ds = load_plan(plan, data_dir)

    with tempfile.TemporaryDirectory(prefix="nisd-sensitivity-") as work:
        records = sensitivity_table(
            typed,
            ds,
            str(ds.path.resolve()),
            progress_runner("re-planning", workers, dask),
            Path(work),
            threads=1 if side_by_side(workers, dask) else None,
        )
    write_sensitivity(plan, records)
    if as_json:
        click.echo(json.dumps(records, indent=2, sort_keys=True, ensure_ascii=False))
        return
    click.echo(
        f"plan cost {typed.kpis.cost_msek:g} MSEK/yr; sites {', '.join(sorted(typed.sites))}"
    )
    moving = list(dict.fromkeys(r["assumption"] for r in records if r["changes_sites"]))
    click.echo("the sites change with: " + (", ".join(moving) if moving else "no assumption tried"))
    for r in records:
        cost = "no plan" if r["cost"] is None else f"{r['cost']:g} ({r['change']:+g})"
        moved = " ".join([*(f"+{s}" for s in r["added"]), *(f"-{s}" for s in r["removed"])])
        line = f"  {r['assumption']:<32} {r['side']:<4} {r['value']:<24} {cost:<20} {moved}"
        click.echo(f"{line} {r['note']}".rstrip() if r["cost"] is not None else line.rstrip())
