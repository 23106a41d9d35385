"""``nisd report``: one self-contained HTML report of a plan for a steering group."""

from __future__ import annotations

from pathlib import Path

import click

from nisd.cli.map import attack_option, banner_option, redact_option, scen_option
from nisd.cli.options import data_option
from nisd.render import write_atomic
from nisd.render.context import plan_payload
from nisd.render.report import report_page


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
    from nisd.io.rolloutfile import ROLLOUT_FILE, is_rollout

    path = plan / ROLLOUT_FILE if plan.is_dir() else plan
    if is_rollout(path):
        from nisd.io import load_dataset
        from nisd.io.rolloutfile import read_rollout_doc
        from nisd.render.context import plan_data_dir
        from nisd.render.rollout import read_fees, rollout_page

        doc = read_rollout_doc(path)
        ds = load_dataset(plan_data_dir(doc, data_dir))
        page = rollout_page(ds, doc, read_fees(path), banner=banner, redact=redact)
        click.echo(f"wrote {write_atomic(out, page)} ({len(page.encode()) / 1e6:.2f} MB)")
        return
    typed, payload, _sets = plan_payload(
        plan, data_dir, sets, "NISD plan report", redact, attack_file
    )
    page = report_page(payload, typed, banner=banner)
    click.echo(f"wrote {write_atomic(out, page)} ({len(page.encode()) / 1e6:.2f} MB)")
