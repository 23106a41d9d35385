"""``nisd explain``: each opened site's regret and the cost of forcing in rejected ones."""

from __future__ import annotations

import json
from pathlib import Path

import click

from nisd.cli.options import data_option, json_option
from nisd.cli.sweep import dask_option, progress_runner, workers_option
from nisd.io.planfile import write_explain
from nisd.optimise.config import config_of_plan, objective_value
from nisd.render import read_plan_doc
from nisd.render.context import load_plan
from nisd.study.explain import explain_plan, nearest_rejected
from nisd.study.runner import side_by_side


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

    # probes side by side: one solver thread each, so that they do not fight for the cores
    df = explain_plan(
        typed,
        str(ds.path.resolve()),
        others,
        progress_runner("re-solving", workers, dask),
        threads=1 if side_by_side(workers, dask) else None,
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
