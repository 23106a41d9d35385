"""``nisd map``: a plan or a roll-out as an offline, interactive HTML map."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import data_option, load_result, write

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
lang_option = click.option(
    "--lang",
    type=click.Choice(["sv", "en"]),
    default=None,
    help="Language of the page: sv or en (default: the dataset's language; Swedish for the "
    "Swedish default).",
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
@lang_option
def map_(
    plan: Path,
    out: Path,
    data_dir: Path | None,
    sets: str | None,
    banner: str | None,
    redact: bool,
    tiles: str | None,
    attack_file: Path | None,
    lang: str | None,
) -> None:
    """Write PLAN.json as a self-contained HTML map (no internet needed to open it).

    A rollout.json (or its directory) gives a map with a year control."""
    result, ds = load_result(plan, data_dir)
    page = api.map_html(
        ds,
        result,
        sets=sets,
        banner=banner,
        redact=redact,
        tiles=tiles,
        attacks=api.read_attacks(attack_file) if attack_file else None,
        beside=api.read_beside(plan),
        lang=lang,
    )
    write(out, page)


map = map_  # the name the CLI registry looks up
