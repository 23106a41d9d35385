"""``nisd ladder``: plans across peace, heightened alert and war; the min-max-regret choice."""

from __future__ import annotations

from pathlib import Path

import click

from nisd.cli.options import data_option, echo_json, json_option
from nisd.io import load_dataset
from nisd.optimise import load_plan_config
from nisd.render import check_plan_dataset, read_plan_doc
from nisd.render.context import plan_data_dir
from nisd.result import Plan
from nisd.study.ladder import attack_rung, rung_of
from nisd.study.ladder import ladder as run_ladder

ROOT = Path(__file__).resolve().parent.parent.parent / "scenarios"
DEFAULT = (
    f"peace={ROOT / 'baseline.toml'},alert={ROOT / 'heightened-alert.toml'},war={ROOT / 'war.toml'}"
)


@click.command()
@click.argument("plans", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--rungs",
    default=None,
    metavar="NAME=SCENARIO.toml,...",
    help="Rungs of the ladder (default: peace=baseline, alert=heightened-alert, "
    "war=war, from scenarios/). Peace counts no failures; NAME=attack:R (or "
    "attack:R:sites+nodes+srlg) is the worst attack of R targets on each plan.",
)
@data_option
@json_option
def ladder(
    plans: tuple[Path, ...], rungs: str | None, data_dir: Path | None, as_json: bool
) -> None:
    """Evaluate PLAN.json files on every rung and recommend the min-max-regret plan."""
    spec = []
    for item in (rungs or DEFAULT).split(","):
        if "=" not in item:
            raise click.BadParameter(f"{item!r}: expected NAME=SCENARIO.toml", param_hint="--rungs")
        name, path = item.split("=", 1)
        if path.startswith("attack:"):
            try:
                spec.append(attack_rung(name, path))
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--rungs") from None
            continue
        spec.append(rung_of(name, load_plan_config(Path(path))))
    docs = [read_plan_doc(p) for p in plans]
    ds = load_dataset(plan_data_dir(docs[0], data_dir))
    named = []
    for p, doc in zip(plans, docs, strict=True):
        check_plan_dataset(doc, ds, p)
        named.append(
            (p.parent.name if p.name == "plan.json" else p.stem, Plan.from_doc(doc, ds, str(p)))
        )
    df, choice = run_ladder(ds, named, spec)
    if as_json:
        echo_json({"rows": df.to_dict("records"), "recommended": choice})
        return
    click.echo(df.to_string(index=False))
    click.echo(f"recommended (smallest largest regret): {choice}")
