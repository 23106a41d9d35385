"""``nisd map``: the plan as an offline, interactive HTML map."""

from __future__ import annotations

from pathlib import Path

import click

from nisd.cli.options import data_option
from nisd.render import write_atomic
from nisd.render.context import render_plan_map

banner_option = click.option(
    "--banner", help="Classification banner shown on top, e.g. 'BEGRÄNSAT'."
)
redact_option = click.option(
    "--redact", is_flag=True, help="Show sites and users at their county, not their coordinates."
)
tiles_option = click.option(
    "--tiles", metavar="URL", help="Opt into a tile server (unclassified use only); default: none."
)
attack_option = click.option(
    "--attack",
    "attack_file",
    type=click.Path(path_type=Path),
    help="Also show the attacks of an `nisd attack --out` file in the crisis view.",
)
scen_option = click.option(
    "--scenarios",
    "sets",
    default=None,
    help="Crisis view scenario sets (default: the plan's own, else "
    "single-site,county,power-zone,presets).",
)


@click.command("map")
@click.argument("plan", type=click.Path(path_type=Path))
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("maps/plan.html"), show_default=True
)
@data_option
@scen_option
@banner_option
@redact_option
@tiles_option
@attack_option
def map_(
    plan: Path,
    out: Path,
    data_dir: Path | None,
    sets: str | None,
    banner: str | None,
    redact: bool,
    tiles: str | None,
    attack_file: Path | None,
) -> None:
    """Write PLAN.json as a self-contained HTML map (no internet needed to open it).

    A rollout.json (or its directory) gives a map with a year control."""
    from nisd.io.rolloutfile import ROLLOUT_FILE, is_rollout

    path = plan / ROLLOUT_FILE if plan.is_dir() else plan
    if is_rollout(path):
        from nisd.io import load_dataset
        from nisd.io.rolloutfile import read_rollout_doc
        from nisd.render.context import plan_data_dir
        from nisd.render.rollout import rollout_map

        doc = read_rollout_doc(path)
        html = rollout_map(
            load_dataset(plan_data_dir(doc, data_dir)), doc, banner=banner, redact=redact
        )
    else:
        html = render_plan_map(plan, data_dir, sets, banner, redact, tiles, attack_file)
    click.echo(f"wrote {write_atomic(out, html)} ({len(html.encode()) / 1e6:.2f} MB)")


map = map_  # the name the CLI registry looks up
