"""``nisd compare``: key figures and site changes of several plans, side by side."""

from __future__ import annotations

import json
from pathlib import Path

import click

from nisd.cli.map import banner_option
from nisd.cli.options import data_option
from nisd.errors import InputError, Problem
from nisd.io import load_dataset
from nisd.render import check_plan_dataset, read_plan_doc, write_atomic
from nisd.render.context import comparison_page, plan_data_dir
from nisd.render.report import (
    compare_csv,
    compare_rows,
    compare_table,
    site_changes,
)
from nisd.result import Plan


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
def compare(
    plans: tuple[Path, ...], fmt: str, out: Path | None, data_dir: Path | None, banner: str | None
) -> None:
    """Compare PLAN_A PLAN_B [...]: differences are against the first plan."""
    if len(plans) < 2:
        raise click.UsageError("give at least two plans to compare")
    from nisd.io.rolloutfile import ROLLOUT_FILE, is_rollout

    paths = [p / ROLLOUT_FILE if p.is_dir() else p for p in plans]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InputError([Problem(m, "not found") for m in missing])
    kinds = [is_rollout(p) for p in paths]
    if any(kinds):
        if not all(kinds):
            odd = [str(p) for p, k in zip(plans, kinds, strict=True) if not k]
            raise InputError(
                [Problem(odd[0], "is a plan: compare roll-outs with roll-outs, plans with plans")]
            )
        _compare_rollouts(paths, fmt, out, banner)
        return
    docs = [
        (p.parent.name or p.stem if p.name == "plan.json" else p.stem, read_plan_doc(p))
        for p in plans
    ]
    seen: dict[str, int] = {}
    named: list[tuple[str, Plan]] = []
    for path, (name, doc) in zip(plans, docs, strict=True):  # unique names: plan, plan-2, ...
        seen[name] = seen.get(name, 0) + 1
        unique = name if seen[name] == 1 else f"{name}-{seen[name]}"
        named.append((unique, Plan.from_doc(doc, None, str(path))))
    rows = compare_rows(named)
    changes = site_changes(named)
    if fmt == "table":
        text = (
            compare_table(rows)
            + "\n\n"
            + "\n".join(
                f"{c['plan']}: kept {', '.join(c['kept']) or '-'}; added "
                f"{', '.join(c['added']) or '-'}; removed {', '.join(c['removed']) or '-'}"
                for c in changes
            )
        )
    elif fmt == "json":
        text = json.dumps(
            {"kpis": rows, "sites": changes}, sort_keys=True, indent=2, ensure_ascii=False
        )
    elif fmt == "csv":
        text = compare_csv(rows)
    else:
        ds = load_dataset(plan_data_dir(docs[0][1], data_dir))
        for p, (_n, doc) in zip(plans, docs, strict=True):
            check_plan_dataset(doc, ds, p)
        page = comparison_page(ds, named, rows, changes, banner=banner)
        path = write_atomic(out or Path("maps/compare.html"), page)
        click.echo(f"wrote {path}")
        return
    if out is not None:
        click.echo(f"wrote {write_atomic(out, text + chr(10))}")
    else:
        click.echo(text)


def _compare_rollouts(paths: list[Path], fmt: str, out: Path | None, banner: str | None) -> None:
    """Roll-outs year by year: spending, sites, users, moves, readiness, site changes."""
    import csv
    import io

    from nisd.io.rolloutfile import read_rollout_doc
    from nisd.render.rollout import (
        COMPARE_COLUMNS,
        compare_rollout_page,
        compare_rollout_rows,
        compare_rollout_table,
    )

    named = []
    seen: dict[str, int] = {}
    for p in paths:
        name = p.parent.name or p.stem
        seen[name] = seen.get(name, 0) + 1
        named.append((name if seen[name] == 1 else f"{name}-{seen[name]}", read_rollout_doc(p)))
    rows = compare_rollout_rows(named)
    if fmt == "html":
        totals = [(n, d.get("totals") or {}) for n, d in named]
        path = write_atomic(
            out or Path("maps/compare.html"), compare_rollout_page(rows, totals, banner=banner)
        )
        click.echo(f"wrote {path}")
        return
    if fmt == "json":
        text = json.dumps(
            {"years": rows, "totals": {n: d.get("totals") for n, d in named}},
            sort_keys=True,
            indent=2,
            ensure_ascii=False,
        )
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(COMPARE_COLUMNS), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        text = buf.getvalue().rstrip("\n")
    else:
        text = compare_rollout_table(rows)
    if out is not None:
        click.echo(f"wrote {write_atomic(out, text + chr(10))}")
    else:
        click.echo(text)
