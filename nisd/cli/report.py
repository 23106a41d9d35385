"""``nisd report``: one self-contained HTML report of a plan for a steering group."""

from __future__ import annotations

from pathlib import Path

import click

from nisd.cli.map import banner_option, redact_option, scen_option
from nisd.cli.options import data_option
from nisd.errors import InputError, Problem
from nisd.io import default_data_dir, load_dataset
from nisd.render import plan_sets, read_plan_doc, write_atomic
from nisd.render.payload import build_payload
from nisd.render.report import report_page
from nisd.topology import build_graph
from nisd.topology.scenarios import parse_sets, scenario_sets


@click.command()
@click.argument("plan", type=click.Path(path_type=Path))
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("maps/report.html"), show_default=True
)
@data_option
@scen_option
@banner_option
@redact_option
def report(
    plan: Path, out: Path, data_dir: Path | None, sets: str | None, banner: str | None, redact: bool
) -> None:
    """Write the report of PLAN.json: summary, key figures, map, sites, crisis table, run record."""
    doc = read_plan_doc(plan)
    data = data_dir or Path((doc.get("run") or {}).get("data_dir") or default_data_dir())
    ds = load_dataset(data)
    opened = [s["site_id"] for s in doc["sites"]]
    unknown = sorted(set(opened) - set(ds.site_ids))
    if unknown:
        raise InputError([Problem(str(plan), f"sites not in {data}: {', '.join(unknown)}")])
    chosen = parse_sets(sets) if sets else plan_sets(doc)
    scen = scenario_sets(ds, build_graph(ds), chosen, opened)
    payload = build_payload(
        ds, doc, scen, title=f"NISD plan report: {ds.config.name}", redact=redact
    )
    page = report_page(payload, doc, banner=banner)
    click.echo(f"wrote {write_atomic(out, page)} ({len(page.encode()) / 1e6:.2f} MB)")
