"""``nisd compare``: key figures and site changes of several plans (or roll-outs), side by
side."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.map import banner_option, lang_option
from nisd.cli.options import data_option, echo_json, name_of, unique, write
from nisd.errors import InputError, Problem
from nisd.records import Plan, Rollout, dumps


@click.command()
@click.argument("plans", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "html"]),
    default="table",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="File to write (html defaults to maps/compare.html; others print).",
)
@data_option
@banner_option
@lang_option
def compare(
    plans: tuple[Path, ...],
    fmt: str,
    out: Path | None,
    data_dir: Path | None,
    banner: str | None,
    lang: str | None,
) -> None:
    """Compare PLAN_A PLAN_B [...]: differences are against the first. One roll-out
    planned under uncertainty alone compares its branches (futures) with each other."""
    results: list[Plan | Rollout] = [api.read_result(p) for p in plans]
    names = unique([name_of(api.result_path(p)) for p in plans])
    datasets = api.datasets_of(results, data_dir, [str(p) for p in plans])
    if len(plans) == 1 and isinstance(results[0], Rollout) and results[0].branches:
        tree = results[0]
        results = [tree.branch(b.name) for b in tree.branches]
        names = unique([b.name for b in tree.branches])
        datasets = datasets * len(results)
    if len(results) < 2:
        raise click.UsageError(
            "give at least two plans to compare (or one roll-out planned over several futures)"
        )
    kinds = {isinstance(r, Rollout) for r in results}
    if len(kinds) > 1:
        odd = [str(p) for p, r in zip(plans, results, strict=True) if isinstance(r, Plan)]
        raise InputError(
            [Problem(odd[0], "is a plan: compare roll-outs with roll-outs, plans with plans")]
        )
    if kinds == {True}:
        rollouts = [(n, r) for n, r in zip(names, results, strict=True) if isinstance(r, Rollout)]
        if fmt == "html":
            page = api.compare_rollouts_html(rollouts, banner=banner, lang=lang, ds=datasets[0])
            write(out or Path("maps/compare.html"), page)
            return
        _rollouts(rollouts, fmt, out)
        return
    named = [(n, r) for n, r in zip(names, results, strict=True) if isinstance(r, Plan)]
    comparison = api.compare_plans(named)
    if fmt == "html":
        write(
            out or Path("maps/compare.html"),
            api.compare_html(datasets[0], comparison, banner=banner, lang=lang),
        )
        return
    text = {
        "table": comparison.table,
        "json": lambda: dumps(comparison.to_json()).rstrip("\n"),
        "csv": lambda: comparison.csv().rstrip("\n"),
    }[fmt]()
    if out is not None:
        write(out, text + "\n")
    else:
        click.echo(text)


def _rollouts(named: list[tuple[str, Rollout]], fmt: str, out: Path | None) -> None:
    """Roll-outs year by year as text: spending, sites, users, moves, readiness, site
    changes."""
    rows = api.compare_rollouts(named)
    if fmt == "json":
        doc = {
            "years": [r.to_json() for r in rows],
            "totals": {n: ro.totals.to_json() if ro.totals else None for n, ro in named},
        }
        if out is None:
            echo_json(doc)
            return
        text = dumps(doc).rstrip("\n")
    elif fmt == "csv":
        text = api.compare_rollouts_csv(rows).rstrip("\n")
    else:
        text = api.compare_rollouts_table(rows)
    if out is not None:
        write(out, text + "\n")
    else:
        click.echo(text)
