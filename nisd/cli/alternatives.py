"""``nisd alternatives``: plans almost as good as the optimum that differ most from it."""

from __future__ import annotations

from pathlib import Path

import click

from nisd.cli.options import data_option
from nisd.errors import InputError, Problem
from nisd.optimise import from_dataset
from nisd.optimise.alternatives import alternatives as make_alternatives
from nisd.optimise.config import config_of_plan, objective_value
from nisd.optimise.plan import write_plan
from nisd.optimise.solve import Status
from nisd.render import read_plan_doc
from nisd.render.context import load_plan


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
    doc = read_plan_doc(plan)
    cfg = config_of_plan(doc, str(plan))
    value = objective_value(doc, str(plan))
    typed, ds = load_plan(plan, data_dir)
    if typed.status is not Status.OPTIMAL:
        click.echo(
            "note: the plan is not proved optimal; the slack is taken from its value", err=True
        )
    params = cfg.model_dump(mode="json")
    pp = from_dataset(ds, cfg)
    opened = sorted(typed.sites)
    alts = make_alternatives(
        ds,
        pp,
        value,
        opened,
        slack=s,
        count=count,
        start=(dict(typed.sites), {d: list(v) for d, v in typed.assignments.items()}),
    )
    base = out or plan.parent
    names = dict(zip(pp.site_ids, pp.site_names, strict=True))
    click.echo(
        f"optimum {typed.objective} = {value:g}: " + ", ".join(names[x] for x in sorted(opened))
    )
    for i, a in enumerate(alts, start=1):
        a.run.update({"parameters": params, "data_dir": str(ds.path.resolve())})
        path = write_plan(a, base / f"alt-{i}", pp)
        new = sorted(set(a.sites) - set(opened))
        click.echo(
            f"alternative {i}: {a.objective_name} = {a.objective_value:g} "
            f"({(a.objective_value or 0) / value - 1:+.1%}); "
            f"sites: {', '.join(names[x] for x in sorted(a.sites))}; new: "
            f"{', '.join(names[x] for x in new) or 'none'} -> {path}"
        )
