"""``nisd explain``: each opened site's regret and the cost of forcing in rejected ones."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from nisd.cli.options import data_option, json_option
from nisd.cli.sweep import dask_option, workers_option
from nisd.io.planfile import write_explain
from nisd.optimise.config import config_of_plan, objective_value
from nisd.render import read_plan_doc
from nisd.render.context import load_plan
from nisd.study.explain import explain_plan, nearest_rejected
from nisd.study.runner import run_tasks


@click.command()
@click.argument("plan", type=click.Path(path_type=Path))
@data_option
@click.option(
    "--rejected",
    default="10",
    show_default=True,
    help="How many rejected candidates to price (nearest to the opened sites), or 'all'.",
)
@workers_option
@dask_option
@json_option
def explain(
    plan: Path,
    data_dir: Path | None,
    rejected: str,
    workers: int | None,
    dask: str | None,
    as_json: bool,
) -> None:
    """Re-solve PLAN.json's scenario once per site: forbid each opened site (its regret)
    and require each priced rejected candidate (the cost of forcing it in).

    Writes explain.json beside the plan; map and report show the regrets.
    """
    doc = read_plan_doc(plan)
    config_of_plan(doc, str(plan))
    objective_value(doc, str(plan))
    typed, ds = load_plan(plan, data_dir)
    n: int | None = None
    if rejected != "all":
        try:
            n = int(rejected)
        except ValueError:
            raise click.BadParameter("a number or 'all'", param_hint="--rejected") from None
    others = nearest_rejected(ds, sorted(typed.sites), n)

    def with_progress(tasks: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        with click.progressbar(length=len(tasks), label="re-solving", file=sys.stderr) as bar:
            for item in run_tasks(tasks, workers=workers, dask=dask):
                bar.update(1)
                yield item

    # probes side by side: one solver thread each, so that they do not fight for the cores
    parallel = dask is not None or (workers or os.cpu_count() or 1) > 1
    df = explain_plan(
        typed, str(ds.path.resolve()), others, with_progress, threads=1 if parallel else None
    )
    records = json.loads(df.to_json(orient="records"))
    write_explain(plan, records)
    if as_json:
        click.echo(json.dumps(records, indent=2, sort_keys=True, ensure_ascii=False))
        return
    names = {s.site_id: s.name for s in ds.sites}
    click.echo(f"objective {typed.objective} = {typed.value:g}")
    for r in records:
        change = "n/a" if r["change"] is None else f"{r['change']:+g}"
        verb = "regret if forbidden" if r["role"] == "opened" else "cost of forcing in"
        click.echo(
            f"  {r['role']:<8} {names.get(r['site_id'], r['site_id']):<16} {verb}: "
            f"{change} {r['note']}"
        )
