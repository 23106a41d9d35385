"""``nisd ladder``: plans across peace, heightened alert and war; the min-max-regret choice."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import data_option, echo_json, json_option, load_plan, name_of


@click.command()
@click.argument("plans", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--rungs",
    default=api.DEFAULT_RUNGS,
    show_default=True,
    metavar="NAME=SCENARIO,...",
    help="Rungs of the ladder: scenario files or names from the scenario library. Peace "
    "counts no failures; NAME=attack:R (or attack:R:sites+nodes+srlg) is the worst attack "
    "of R targets on each plan.",
)
@data_option
@json_option
def ladder(plans: tuple[Path, ...], rungs: str, data_dir: Path | None, as_json: bool) -> None:
    """Evaluate PLAN.json files on every rung and recommend the min-max-regret plan."""
    first, ds = load_plan(plans[0], data_dir)
    named = [(name_of(api.result_path(plans[0])), first)]
    named += [(name_of(api.result_path(p)), api.read_plan(p)) for p in plans[1:]]
    df, choice = api.ladder(ds, named, rungs)
    if as_json:
        echo_json({"rows": df.to_dict("records"), "recommended": choice})
        return
    click.echo(df.to_string(index=False))
    click.echo(f"recommended (smallest largest regret): {choice}")
