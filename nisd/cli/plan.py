"""``nisd plan``: solve a scenario on a dataset and write a checked plan."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import data_option, progress, solver_options, solver_overrides, write
from nisd.records import Plan


@click.command()
@click.argument("scenario", required=False, type=click.Path(path_type=Path))
@data_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("plan"),
    show_default=True,
    help="Directory for plan.json, sites.csv, assignments.csv.",
)
@solver_options
@click.option("--map", "with_map", is_flag=True, help="Also write OUT/plan.html, the plan's map.")
@click.option("--banner", help="Classification banner for the map.")
@click.option(
    "--sensitivity",
    "with_sensitivity",
    is_flag=True,
    help="Also re-plan with each labelled assumption low and high (as nisd sensitivity): "
    "OUT/sensitivity.json, and the assumptions that move the sites are named.",
)
def plan(
    scenario: Path | None,
    data_dir: Path | None,
    out_dir: Path,
    solver: str | None,
    time_limit: float | None,
    gap: float | None,
    threads: int | None,
    seed: int | None,
    with_map: bool,
    banner: str | None,
    with_sensitivity: bool,
) -> None:
    """Choose sites, types and assignments for SCENARIO (a TOML/YAML scenario file, or a
    name from the scenario library such as baseline or war).

    Without SCENARIO the defaults are used (scenarios/baseline.toml is the
    documented Swedish baseline). The plan is checked constraint by
    constraint before it is written; exit 4 means proved infeasible, 5 no
    plan found within the limits.
    """
    overrides = solver_overrides(solver, time_limit, gap, threads, seed)
    ds = api.load(data_dir)
    result = api.plan(ds, scenario, **overrides)
    names = {s.site_id: s.name for s in ds.sites}
    path = result.save(out_dir, names)
    for line in describe(result, names):
        click.echo(line)
    for line in api.crisis_words(ds, result):
        click.echo(line)
    if result.status.value != "optimal":
        click.echo(
            "note: not proved optimal (time limit or gap); the plan is feasible and checked",
            err=True,
        )
    click.echo(f"wrote {path}")
    if with_sensitivity:
        with progress("re-planning") as bar:
            sens = api.sensitivity(ds, result, workers=None, progress=bar)
        moves = sens.moving()
        click.echo(
            "most sensitive to (the sites change with): "
            + (", ".join(moves) if moves else "no assumption tried")
        )
        click.echo(f"wrote {sens.save_beside(path)}")
    if with_map:
        write(out_dir / "plan.html", api.map_html(ds, result, banner=banner))


def describe(plan: Plan, names: dict[str, str]) -> list[str]:
    """The plan's status, cost, sites and key figures, in lines."""
    k, run = plan.kpis, plan.run
    gap_txt = "" if plan.gap is None else f", gap {plan.gap:.2%}"
    bound_txt = "" if plan.bound is None else f", bound {plan.bound:g}"
    dec = run.decomposition
    how = "" if dec is None else f", sites first: {len(dec.iterations)} step(s)"
    tie = run.ties
    ties = []
    if tie is not None:
        ties = [
            f"ties: {tie.rule} ({tie.status}, {tie.seconds:.1f} s"
            + (
                f"; the solver's first plan of this cost had "
                f"{', '.join(names.get(s, s) for s in tie.sites_before)})"
                if tie.changed
                else ")"
            )
        ]
    return [
        f"status: {plan.status.value} ({run.solver}{how}, "
        f"{run.wall_seconds or 0.0:.1f} s{gap_txt}{bound_txt})",
        f"objective {plan.objective.name}: {plan.value:g}",
        "sites: " + ", ".join(f"{names.get(s, s)} ({t})" for s, t in sorted(plan.sites.items())),
        *ties,
        f"cost {k.cost_msek:g} MSEK/year; latency mean {k.mean_latency_ms or 0.0:.2f} ms, "
        f"max {k.max_latency_ms or 0.0:.2f} ms; smallest separation {k.min_separation_km} km"
        + (
            f" (of a user's primary and backup: {k.min_backup_separation_km} km)"
            if k.min_backup_separation_km is not None
            else ""
        )
        + (
            f"; worst-case share served {k.worst_case_share_served:.1%}"
            if k.worst_case_share_served is not None
            else ""
        ),
    ]
