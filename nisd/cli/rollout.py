"""``nisd rollout``: plan Program 2032 year by year and write a checked roll-out."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import data_option, solver_options, solver_overrides
from nisd.cli.sweep import dask_option
from nisd.records import Rollout


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
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Under uncertainty: plan each future alone on N processes side by side "
    "(default: one after another).",
)
@dask_option
def rollout(
    scenario: Path,
    data_dir: Path | None,
    out_dir: Path,
    solver: str | None,
    time_limit: float | None,
    gap: float | None,
    threads: int | None,
    seed: int | None,
    workers: int | None,
    dask: str | None,
) -> None:
    """Plan the roll-out of SCENARIO (a scenario file with a [rollout] table, e.g.
    rollout-2032): per year the sites in construction and in service, each user's
    sites, migrations, spending against the budget and the crisis sets that hold.

    Every year is checked constraint by constraint, and the links between years
    (lead times, budgets, sites staying open) by a separate checker, before
    anything is written; exit 4 means proved infeasible (with the year and the
    requirement that must give), 5 no roll-out found within the limits.

    With a [rollout.uncertainty] table (e.g. rollout-uncertain) the roll-out is planned
    over several futures: --workers / --dask plan each future alone side by side (for the
    value of perfect information).
    """
    ds = api.load(data_dir)
    ro = api.rollout(
        ds,
        scenario,
        workers=workers,
        dask=dask,
        **solver_overrides(solver, time_limit, gap, threads, seed),
    )
    path = ro.save(out_dir)
    gap_txt = "" if ro.gap is None else f", gap {ro.gap:.2%}"
    click.echo(
        f"status: {ro.status.value} ({ro.run.solver}, {ro.run.wall_seconds or 0.0:.1f} s{gap_txt})"
    )
    if ro.branches:
        tree_lines(ro)
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


def tree_lines(ro: Rollout) -> None:
    """A roll-out under uncertainty: the shared first stage, each branch, what hedging is
    worth (the years that follow are the most probable branch's)."""
    h, fs = ro.hedge, ro.first_stage
    if h is None or fs is None:
        return
    started = ", ".join(f"{s} ({t})" for s, t in fs.started.items()) or "none"
    last = fs.in_service
    click.echo(
        f"first stage (shared by every branch, decided before {fs.decision_year}): in service "
        f"{', '.join(sorted(last)) or 'none'}; construction started: {started}"
    )
    for b in ro.branches:
        later = fs.later(b.sites)
        click.echo(
            f"  branch {b.name!r} (p = {b.probability:g}): {b.totals.discounted_cost_msek:.1f} "
            f"MSEK discounted; alone {b.own_best_msek or 0.0:.1f} (regret "
            f"{b.regret_msek or 0.0:.1f}); later sites: {', '.join(later) or 'none'}"
        )
    click.echo(
        f"expected cost {h.expected_cost_msek:.1f} MSEK, worst branch {h.worst_cost_msek:.1f}; "
        f"EVPI {h.evpi_msek if h.evpi_msek is not None else float('nan'):.1f} MSEK (perfect "
        "information), VSS "
        + (f"{h.vss_msek:.1f} MSEK" if h.vss_msek is not None else "n/a")
        + " (against planning for the average future)"
    )
    if h.method == "decomposition":
        bound = "n/a" if h.lower_bound_msek is None else f"{h.lower_bound_msek:.1f}"
        click.echo(
            f"solved by scenario decomposition: {h.branch_solves} branch solve(s), "
            f"{h.candidates} first stage(s) evaluated, {h.rounds} round(s) of no-good rows; "
            f"lower bound {bound}"
        )
    else:
        click.echo("solved as one model of every branch (the extensive form)")
    for note in h.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"the years below are branch {ro.shown_branch!r} (the most probable)")
