"""``nisd resilience``: how a placement fares under failure scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

import click

from nisd import api
from nisd.cli.options import data_option, echo_json, json_option, load_plan

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
    help=f"Scenario sets: {api.SETS_HELP} (R in km, e.g. region:100km).",
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
    """Evaluate a placement (PLAN.json or --sites) under failure scenarios.

    Shares per class are of each class's whole load; a user cut off from every site
    (or left on an island apart from the national network, where the plan skips
    islands) counts as lost. Where a scenario's service levels bind, the class
    figures are those of a flow that meets the levels (a more critical class may
    give up load it does not need); elsewhere critical load is served first, then
    high, then normal.
    """
    if (plan is None) == (sites_opt is None):
        raise click.UsageError("give either PLAN.json or --sites ID,ID,... (one of them)")
    if plan is not None:
        what, ds = load_plan(plan, data_dir)
        opened = dict(what.sites)
    else:
        ds = api.load(data_dir)
        opened = parse_sites(sites_opt or "")
    set_list = api.parse_sets(sets)
    click.echo(f"{api.count(ds, opened, set_list)} scenarios from {', '.join(set_list)}", err=True)
    res = api.resilience(
        ds,
        what if plan is not None else opened,
        set_list,
        bound=cast(Literal["crisis", "primary", "backup"], bound),
        max_scenarios=max_scenarios,
        check_two_routes=True,
    )
    if as_json:
        echo_json(res.to_json())
        return
    click.echo(
        "opened: "
        + ", ".join(f"{s} ({t})" for s, t in api.opened_types(ds, opened).items())
        + f"; served without failures: {res.baseline_share:.1%}"
    )
    click.echo(f"worst {top} of {len(res.rows)} scenarios:")
    extra = {r.scenario: x for r, x in zip(res.rows, res.extras(), strict=True)}
    for r in res.worst_rows(top):
        x = extra[r.scenario]
        two = (
            ""
            if x.sites_two_routes is None
            else (", sites 2-route" if x.sites_two_routes else ", sites NOT 2-route")
        )
        conn = "connected" if x.sites_connected else "NOT connected"
        more = " ..." if len(r.unserved) > 6 else ""
        by = ", ".join(f"{c} {v:.0%}" for c, v in r.served_by_class.items() if v is not None)
        met = {True: "; levels met", False: "; LEVELS NOT MET", None: ""}[r.levels_met]
        click.echo(
            f"  {r.demand_served_share:6.1%}  {r.scenario}  ({by}{met}; sites {conn}{two}; "
            f"full: {', '.join(r.full_sites) or 'none'}; "
            f"unserved: {', '.join(r.unserved[:6]) or 'none'}{more}; "
            f"partly: {len(r.partly_served)})"
        )
    for kind in ("single-site", "single-link", "srlg"):
        worst = res.most_damaging(kind, 3)
        if worst:
            click.echo(
                f"most damaging {kind}: "
                + "; ".join(f"{r.scenario} ({r.load_lost:g} racks lost)" for r in worst)
            )
