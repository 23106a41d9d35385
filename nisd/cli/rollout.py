"""``nisd rollout``: plan Program 2032 year by year and write a checked roll-out."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import data_option, solver_options, solver_overrides


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@data_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("rollout"),
    show_default=True,
    help="Directory for rollout.json, years.csv, schedule.csv, assignments.csv.",
)
@solver_options
def rollout(
    scenario: Path,
    data_dir: Path | None,
    out_dir: Path,
    solver: str | None,
    time_limit: float | None,
    gap: float | None,
    threads: int | None,
    seed: int | None,
) -> None:
    """Plan the roll-out of SCENARIO (a scenario file with a [rollout] table, e.g.
    rollout-2032): per year the sites in construction and in service, each user's
    sites, migrations, spending against the budget and the crisis sets that hold.

    Every year is checked constraint by constraint, and the links between years
    (lead times, budgets, sites staying open) by a separate checker, before
    anything is written; exit 4 means proved infeasible (with the year and the
    requirement that must give), 5 no roll-out found within the limits.
    """
    ds = api.load(data_dir)
    ro = api.rollout(ds, scenario, **solver_overrides(solver, time_limit, gap, threads, seed))
    path = ro.save(out_dir)
    gap_txt = "" if ro.gap is None else f", gap {ro.gap:.2%}"
    click.echo(
        f"status: {ro.status.value} ({ro.run.solver}, {ro.run.wall_seconds or 0.0:.1f} s{gap_txt})"
    )
    t = ro.totals
    if t is not None:
        click.echo(
            f"discounted cost {t.discounted_cost_msek:.1f} MSEK "
            f"(undiscounted {t.cost_msek:.1f}: capital {t.capital_msek:.1f}, running "
            f"{t.running_msek:.1f}); {t.migrations} migration(s)"
        )
    for s in ro.sites:
        click.echo(f"  {s.name or s.site_id} ({s.type}): {s.phrase()}")
    for y in ro.years:
        holds = [s for s, ok in y.readiness.holds.items() if ok]
        budget = y.budget_msek.capital
        click.echo(
            f"{y.year}: {len(y.sites)} site(s), {len(y.assignments)} user(s) "
            f"(+{len(y.onboarded)}), {len(y.migrations)} move(s); capital "
            f"{y.cost_msek.capital:.1f}"
            + ("" if budget is None else f" of {budget:g}")
            + f" MSEK, running {y.cost_msek.running:.1f}; holds: "
            + (", ".join(holds) if holds else "none")
        )
    for g in ro.goals:
        if g.goal != "cost" or g.status.value != "optimal":
            g_gap = "" if g.gap is None else f", gap {g.gap:.2%}"
            click.echo(f"goal {g.goal}: {g.status.value} (value {g.value:g}{g_gap})")
    for r in ro.readiness_advanced:
        click.echo(
            f"readiness: {r.set} holds from {r.holds_from} (asked from {r.asked_from})"
            + ("" if r.proved else "; not proved the earliest (time limit)")
        )
    if ro.status.value != "optimal":
        click.echo(
            "note: not proved optimal (time limit or gap); the roll-out is feasible and checked",
            err=True,
        )
    click.echo(f"wrote {path}")
