"""``nisd explain``: each opened site's regret and the cost of forcing in rejected ones."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import data_option, echo_json, json_option, load_plan, progress
from nisd.cli.sweep import dask_option, workers_option


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
    n: int | None = None
    if rejected != "all":
        try:
            n = int(rejected)
        except ValueError:
            raise click.BadParameter("a number or 'all'", param_hint="--rejected") from None
        if n < 0:
            raise click.BadParameter("a number ≥ 0 or 'all'", param_hint="--rejected")
    typed, ds = load_plan(plan, data_dir)
    typed.run.config(str(plan))
    with progress("re-solving") as bar:
        # probes side by side: one solver thread each, so that they do not fight for the cores
        result = api.explain(ds, typed, rejected=n, workers=workers, dask=dask, progress=bar)
    result.save_beside(api.result_path(plan))
    if as_json:
        echo_json([p.to_json() for p in result.probes])
        return
    names = {s.site_id: s.name for s in ds.sites}
    click.echo(f"objective {typed.objective.name} = {typed.value:g}")
    for p in result.probes:
        change = "n/a" if p.change is None else f"{p.change:+g}"
        verb = "regret if forbidden" if p.role == "opened" else "cost of forcing in"
        click.echo(
            f"  {p.role:<8} {names.get(p.site_id, p.site_id):<16} {verb}: {change} {p.note or ''}"
        )
