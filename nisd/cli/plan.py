"""``nisd plan``: solve a scenario on a dataset and write a checked plan."""

from __future__ import annotations

from pathlib import Path

import click

from nisd.cli.options import data_option, resolve_data_dir, solver_options, solver_overrides
from nisd.io import load_dataset
from nisd.optimise import from_dataset, load_plan_config, optimise, write_plan
from nisd.render.words import crisis_summary, plan_rows, war_summary


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
    """Choose sites, types and assignments for SCENARIO (a TOML/YAML scenario file).

    Without SCENARIO the defaults are used (scenarios/baseline.toml is the
    documented Swedish baseline). The plan is checked constraint by
    constraint before it is written; exit 4 means proved infeasible, 5 no
    plan found within the limits.
    """
    cfg = load_plan_config(scenario, solver_overrides(solver, time_limit, gap, threads, seed))
    ds = load_dataset(resolve_data_dir(data_dir))
    pp = from_dataset(ds, cfg)
    inputs = ds.run_inputs(str(scenario) if scenario else None)
    result = optimise(ds, pp, inputs)
    path = write_plan(result, out_dir, pp)
    k = result.kpis
    gap_txt = "" if result.gap is None else f", gap {result.gap:.2%}"
    bound_txt = "" if result.bound is None else f", bound {result.bound:g}"
    dec = result.run.get("decomposition")
    how = "" if not dec else f", sites first: {len(dec['iterations'])} step(s)"
    click.echo(
        f"status: {result.status} ({result.run['solver']}{how}, "
        f"{result.run['wall_seconds']:.1f} s{gap_txt}{bound_txt})"
    )
    click.echo(f"objective {result.objective_name}: {result.objective_value:g}")
    names = dict(zip(pp.site_ids, pp.site_names, strict=True))
    click.echo("sites: " + ", ".join(f"{names[s]} ({t})" for s, t in sorted(result.sites.items())))
    click.echo(
        f"cost {k['cost_msek']:g} MSEK/year; latency mean {k['mean_latency_ms']:.2f} ms, "
        f"max {k['max_latency_ms']:.2f} ms; smallest separation "
        f"{k['min_separation_km']} km"
        + (
            f" (of a user's primary and backup: {k['min_backup_separation_km']} km)"
            if k.get("min_backup_separation_km") is not None
            else ""
        )
        + (
            f"; worst-case share served {k['worst_case_share_served']:.1%}"
            if "worst_case_share_served" in k
            else ""
        )
    )
    for line in crisis_summary(plan_rows(result.scenarios), pp.classes, names):
        click.echo(line)
    for line in war_summary(result.run.get("war"), pp.classes, names):
        click.echo(line)
    if result.status != "optimal":
        click.echo(
            "note: not proved optimal (time limit or gap); the plan is feasible and checked",
            err=True,
        )
    click.echo(f"wrote {path}")
    if with_sensitivity:
        import tempfile

        from nisd.io.planfile import write_sensitivity
        from nisd.result import Plan
        from nisd.study.runner import run_tasks
        from nisd.study.sensitivity import moving, sensitivity_table

        typed = Plan.from_doc(result.to_json(), ds, str(path))
        with tempfile.TemporaryDirectory(prefix="nisd-sensitivity-") as work:
            rows = sensitivity_table(
                typed, ds, str(ds.path.resolve()), run_tasks, Path(work), threads=1
            )
        moves = moving(rows)
        click.echo(
            "most sensitive to (the sites change with): "
            + (", ".join(moves) if moves else "no assumption tried")
        )
        click.echo(f"wrote {write_sensitivity(path, rows)}")
    if with_map:
        from nisd.render import write_atomic
        from nisd.render.context import render_plan_map

        page = render_plan_map(path, ds.path, None, banner, False, None)
        click.echo(f"wrote {write_atomic(out_dir / 'plan.html', page)}")
