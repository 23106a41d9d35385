"""``nisd map``: the plan as an offline, interactive HTML map."""

from __future__ import annotations

from pathlib import Path

import click

from nisd.cli.options import data_option
from nisd.errors import InputError, Problem
from nisd.io import default_data_dir, load_dataset
from nisd.render import plan_sets, read_plan_doc, read_regrets, write_atomic
from nisd.render.html import map_page
from nisd.render.payload import build_payload
from nisd.topology import build_graph
from nisd.topology.scenarios import parse_sets, scenario_sets

banner_option = click.option(
    "--banner", help="Classification banner shown on top, e.g. 'BEGRÄNSAT'."
)
redact_option = click.option(
    "--redact", is_flag=True, help="Show sites and users at their county, not their coordinates."
)
tiles_option = click.option(
    "--tiles", metavar="URL", help="Opt into a tile server (unclassified use only); default: none."
)
scen_option = click.option(
    "--scenarios",
    "sets",
    default=None,
    help="Crisis view scenario sets (default: the plan's own, else "
    "single-site,county,power-zone,presets).",
)


def render_plan_map(
    plan_path: Path,
    data_dir: Path | None,
    sets: str | None,
    banner: str | None,
    redact: bool,
    tiles: str | None,
) -> str:
    doc = read_plan_doc(plan_path)
    if tiles is not None and not tiles.startswith("https://"):
        raise InputError([Problem("--tiles", "must be an https:// URL template")])
    data = data_dir or Path((doc.get("run") or {}).get("data_dir") or default_data_dir())
    ds = load_dataset(data)
    chosen = parse_sets(sets) if sets else plan_sets(doc)
    opened = [s["site_id"] for s in doc["sites"]]
    unknown = sorted(set(opened) - set(ds.site_ids))
    if unknown:
        raise InputError([Problem(str(plan_path), f"sites not in {data}: {', '.join(unknown)}")])
    scen = scenario_sets(ds, build_graph(ds), chosen, opened)
    payload = build_payload(
        ds,
        doc,
        scen,
        title=f"NISD plan: {ds.config.name}",
        redact=redact,
        regrets=read_regrets(plan_path),
    )
    sub = f"{len(opened)} sites; scenarios: {', '.join(chosen)}" + (
        "; positions redacted to county" if redact else ""
    )
    return map_page(payload, banner=banner, tiles=tiles, subtitle=sub)


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
def map_(
    plan: Path,
    out: Path,
    data_dir: Path | None,
    sets: str | None,
    banner: str | None,
    redact: bool,
    tiles: str | None,
) -> None:
    """Write PLAN.json as a self-contained HTML map (no internet needed to open it)."""
    html = render_plan_map(plan, data_dir, sets, banner, redact, tiles)
    click.echo(f"wrote {write_atomic(out, html)} ({len(html.encode()) / 1e6:.2f} MB)")


map = map_  # the name the CLI registry looks up
