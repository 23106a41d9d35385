"""``nisd report``: one self-contained HTML report of a plan or a roll-out for a steering
group."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.map import attack_option, banner_option, redact_option, scen_option
from nisd.cli.options import data_option, load_result, write


@click.command()
@click.argument("plan", type=click.Path(path_type=Path))
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("maps/report.html"), show_default=True
)
@data_option
@scen_option
@banner_option
@redact_option
@attack_option
def report(
    plan: Path,
    out: Path,
    data_dir: Path | None,
    sets: str | None,
    banner: str | None,
    redact: bool,
    attack_file: Path | None,
) -> None:
    """Write the report of PLAN.json: summary, key figures, map, sites, crisis table, attacks,
    run record. For a rollout.json (or its directory): the map with a year control, the
    timeline, readiness per year, spending against the budget and the fees."""
    result, ds = load_result(plan, data_dir)
    page = api.report_html(
        ds,
        result,
        sets=sets,
        banner=banner,
        redact=redact,
        attacks=api.read_attacks(attack_file) if attack_file else None,
        beside=api.read_beside(plan),
    )
    write(out, page)
