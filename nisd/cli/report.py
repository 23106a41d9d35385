"""``nisd report``: one self-contained HTML report of a plan or a roll-out for a steering
group."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.map import attack_option, banner_option, lang_option, redact_option, scen_option
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
@lang_option
@click.option(
    "--quick",
    is_flag=True,
    help="A plan: compute nothing the plan's folder does not hold (by default the worst "
    "attacks of one and two targets, each agency's fee by load and the sites' regrets are "
    "computed, about 15 s on the Swedish baseline).",
)
@click.option(
    "--ladder",
    is_flag=True,
    help="A plan: also plan the scenario library's rungs (peace, three copies, heightened "
    "alert, war) and show what each costs and survives (about 20 s on the Swedish data).",
)
def report(
    plan: Path,
    out: Path,
    data_dir: Path | None,
    sets: str | None,
    banner: str | None,
    redact: bool,
    attack_file: Path | None,
    lang: str | None,
    quick: bool,
    ladder: bool,
) -> None:
    """Write the report of PLAN.json for a steering group, in Swedish or English: the
    decision first (what is proposed, what it costs and each agency's fee, the worst case
    over the required scenarios, the dataset's crisis presets and the worst attacks of one
    and two targets), then key figures, map, sites, crisis scenarios grouped, the
    assumptions in words and an appendix; every scenario also in OUT's
    ``.scenarios.csv``. For a rollout.json (or its directory): the map with a year control,
    the timeline, readiness per year, spending against the budget and the fees."""
    result, ds = load_result(plan, data_dir)
    page, csv = api.report_files(
        ds,
        result,
        sets=sets,
        banner=banner,
        redact=redact,
        attacks=api.read_attacks(attack_file) if attack_file else None,
        beside=api.read_beside(plan),
        lang=lang,
        studies=not quick,
        price=api.price_of_resilience(ds)
        if ladder and not isinstance(result, api.Rollout)
        else None,
    )
    write(out, page)
    if csv is not None:
        write(out.with_name(out.stem + ".scenarios.csv"), csv)
