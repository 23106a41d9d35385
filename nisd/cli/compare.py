"""``nisd compare``: key figures and site changes of several plans, side by side."""

from __future__ import annotations

import json
from pathlib import Path

import click

from nisd.cli.map import banner_option
from nisd.cli.options import data_option
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
