"""``nisd resilience``: how a placement fares under failure scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import click

from nisd.cli.options import data_option, echo_json, json_option, resolve_data_dir
from nisd.errors import InputError, Problem
from nisd.io import load_dataset
from nisd.render import check_plan_dataset, read_plan_doc
from nisd.render.context import plan_data_dir
from nisd.result import Plan
from nisd.topology import build_graph
from nisd.topology.resilience import Bound, check_opened, evaluate
from nisd.topology.scenarios import count_scenarios, parse_sets, scenario_sets, sets_help

DEFAULT_SETS = "single-site,single-link,srlg,county,power-zone,presets"


def parse_sites(text: str) -> dict[str, str]:
    """``ID[:TYPE],ID[:TYPE],...`` (a site without a type gets its largest allowed type)."""
    out: dict[str, str] = {}
    for item in text.split(","):
        if item.strip():
            sid, _, typ = item.strip().partition(":")
            out[sid.strip()] = typ.strip()
    return out


@click.command()
@click.argument("plan", required=False, type=click.Path(path_type=Path))
@click.option(
    "--sites",
    "sites_opt",
    help="Opened sites, comma-separated ID[:TYPE] (instead of PLAN); a site without a "
    "type is taken as its largest allowed type.",
)
@data_option
@click.option(
    "--scenarios",
    "sets",
    default=DEFAULT_SETS,
    show_default=True,
    help=f"Scenario sets: {sets_help()} (R in km, e.g. region:100km).",
)
@click.option(
    "--bound",
    type=click.Choice(["crisis", "primary", "backup"]),
    default="crisis",
    show_default=True,
    help="Which latency bound of each demand point counts.",
)
@click.option(
    "--max-scenarios",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Refuse to run more scenarios than this.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Rows of the text table.",
)
@json_option
def resilience(
    plan: Path | None,
    sites_opt: str | None,
    data_dir: Path | None,
    sets: str,
    bound: str,
    max_scenarios: int,
    top: int,
    as_json: bool,
) -> None:
    """Evaluate a placement (PLAN.json or --sites) under failure scenarios."""
    if (plan is None) == (sites_opt is None):
        raise click.UsageError("give either PLAN.json or --sites ID,ID,... (one of them)")
    doc: dict[str, Any] = {}
    if plan is not None:
        doc = read_plan_doc(plan)
        opened: dict[str, str] = {s["site_id"]: s["type"] for s in doc["sites"]}
    else:
        opened = parse_sites(sites_opt or "")
    set_list = parse_sets(sets)
    where = plan_data_dir(doc, data_dir) if plan is not None else resolve_data_dir(data_dir)
    ds = load_dataset(where)
    if plan is not None:
        check_plan_dataset(doc, ds, plan)
    opened = check_opened(ds, opened)
    typed = Plan.from_doc(doc, ds, str(plan)) if plan is not None else None
    assignments = (
        {d: list(v) for d, v in typed.assignments.items()} or None if typed is not None else None
    )
    levels = typed.levels(list(ds.config.criticality.levels)) or None if typed else None
    g = build_graph(ds)
    n = count_scenarios(ds, g, set_list, opened)
    click.echo(f"{n} scenarios from {', '.join(set_list)}", err=True)
    if n > max_scenarios:
        raise InputError(
            [
                Problem(
                    "--scenarios",
                    f"{n} scenarios exceed --max-scenarios {max_scenarios}; raise it to run them",
                )
            ]
        )
    scenarios = scenario_sets(ds, g, set_list, opened)
    res = evaluate(
        ds,
        g,
        opened,
        scenarios,
        assignments=assignments,
        levels=levels,
        bound=cast(Bound, bound),
        split=typed.split if typed is not None else True,
        islands=typed.islands if typed is not None else False,
    )
    if as_json:
        echo_json(res.to_json())
        return
    click.echo(
        "opened: "
        + ", ".join(f"{s} ({opened[s]})" for s in res.opened)
        + f"; served without failures: {res.baseline_share:.1%}"
    )
    click.echo(f"worst {top} of {len(res.table)} scenarios:")
    for r in res.worst(top).to_dict("records"):
        two = (
            ""
            if r["sites_two_routes"] is None
            else (", sites 2-route" if r["sites_two_routes"] else ", sites NOT 2-route")
        )
        conn = "connected" if r["sites_connected"] else "NOT connected"
        lost: list[str] = list(r["unserved"])
        more = " ..." if len(lost) > 6 else ""
        by = ", ".join(f"{c} {v:.0%}" for c, v in r["served_by_class"].items() if v is not None)
        met = {True: "; levels met", False: "; LEVELS NOT MET", None: ""}[r["levels_met"]]
        click.echo(
            f"  {r['demand_served_share']:6.1%}  {r['scenario']}  ({by}{met}; sites {conn}{two}; "
            f"full: {', '.join(r['full_sites']) or 'none'}; "
            f"unserved: {', '.join(lost[:6]) or 'none'}{more}; "
            f"partly: {len(r['partly_served'])})"
        )
    for kind in ("single-site", "single-link", "srlg"):
        rk = res.ranking(kind)
        if len(rk):
            worst = rk.head(3)
            click.echo(
                f"most damaging {kind}: "
                + "; ".join(
                    f"{r.scenario} ({r.load_lost:g} racks lost)" for r in worst.itertuples()
                )
            )
