"""``nisd alternatives``: plans almost as good as the optimum that differ most from it."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import data_option, load_plan
from nisd.errors import InputError, Problem


def parse_slack(text: str) -> float:
    t = text.strip()
    try:
        v = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise InputError([Problem("--slack", f"{text!r} is not a number or percentage")]) from None
    if not 0 < v < 1:
        raise InputError([Problem("--slack", "must be between 0 and 100 %")])
    return v


@click.command()
@click.argument("plan", type=click.Path(path_type=Path))
@click.option("--slack", default="5%", show_default=True, help="e.g. 5% or 0.05.")
@click.option("--count", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory for alt-N/plan.json (default: beside PLAN).",
)
@data_option
def alternatives(
    plan: Path, slack: str, count: int, out: Path | None, data_dir: Path | None
) -> None:
    """Plans within SLACK of PLAN.json's optimum, each as different as possible."""
    s = parse_slack(slack)
    typed, ds = load_plan(plan, data_dir)
    typed.run.config(str(plan))
    if typed.value is None:
        raise InputError([Problem(str(plan), "objective.value is missing: the plan has no value")])
    if typed.status.value != "optimal":
        click.echo(
            "note: the plan is not proved optimal; the slack is taken from its value", err=True
        )
    alts = api.alternatives(ds, typed, slack=s, count=count)
    base = out or api.result_path(plan).parent
    names = {x.site_id: x.name for x in ds.sites}
    opened = sorted(typed.sites)
    value = typed.value
    click.echo(
        f"optimum {typed.objective.name} = {value:g}: " + ", ".join(names[x] for x in opened)
    )
    for i, a in enumerate(alts, start=1):
        path = a.save(base / f"alt-{i}", names)
        new = sorted(set(a.sites) - set(opened))
        click.echo(
            f"alternative {i}: {a.objective.name} = {a.value:g} "
            f"({(a.value or 0) / value - 1:+.1%}); "
            f"sites: {', '.join(names[x] for x in sorted(a.sites))}; new: "
            f"{', '.join(names[x] for x in new) or 'none'} -> {path}"
        )
