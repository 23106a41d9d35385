"""``nisd fees``: what each agency pays for a plan or a roll-out."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import data_option, echo_json, json_option, load_result, progress
from nisd.records import FeeRow, Fees

METHODS = ("load", "reserved", "shapley")


@click.command()
@click.argument("source", metavar="PLAN_OR_ROLLOUT", type=click.Path(path_type=Path))
@data_option
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="load",
    show_default=True,
    help="load share, reserved capacity (primary plus backup spare), or shapley (cost "
    "causation: each payer's average marginal cost over orders of joining).",
)
@click.option(
    "--samples",
    type=click.IntRange(min=2),
    default=10,
    show_default=True,
    help="Shapley with more payers than --exact-limit: random orders sampled.",
)
@click.option(
    "--exact-limit",
    type=click.IntRange(1, 12),
    default=8,
    show_default=True,
    help="Shapley is exact (every coalition) up to this many payers.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampled orders.")
@json_option
def fees(
    source: Path,
    data_dir: Path | None,
    method: str,
    samples: int,
    exact_limit: int,
    seed: int,
    as_json: bool,
) -> None:
    """Annual fees per paying agency for PLAN_OR_ROLLOUT (a plan.json, a rollout.json or
    its directory), with full cost recovery; writes fees.json beside it.

    Fees always sum to the cost. A roll-out's capital is recovered over its
    recover_years, and the balance carried from year to year is shown.
    """
    result, ds = load_result(source, data_dir)
    with progress("shapley: coalitions" if method == "shapley" else "fees") as bar:
        out = api.fees(
            ds, result, method, samples=samples, seed=seed, exact_limit=exact_limit, progress=bar
        )
    written = out.save(api.result_path(source).parent / Fees.FILE)
    if as_json:
        echo_json(out)
        return
    how = out.how
    if how.shapley == "sampled":
        click.echo(
            f"Shapley values estimated from {how.samples} random orders (seed {how.seed}); "
            "± is one standard error"
        )
    elif how.shapley == "exact":
        click.echo(f"Shapley values exact ({how.coalitions} coalitions)")
    if out.source == "plan":
        click.echo(f"cost {out.cost_msek or 0.0:.2f} MSEK/year, by {method}:")
        _table(out.rows)
    else:
        click.echo(
            f"capital recovered over {out.recover_years} year(s); opening balance "
            f"{out.opening_balance_msek or 0.0:g} MSEK"
        )
        for y in out.years:
            click.echo(
                f"{y.year}: cost {y.cost_msek:.1f}, fees {y.fee_income_msek:.1f}, "
                f"balance {y.balance_msek:+.1f} MSEK"
            )
        last = next((y for y in reversed(out.years) if y.rows), None)
        if last is not None:
            click.echo(f"fees in {last.year} by {method}:")
            _table(last.rows)
        if (out.left_to_recover_msek or 0.0) > 0:
            click.echo(f"left to recover after the last year: {out.left_to_recover_msek:.1f} MSEK")
    click.echo(f"wrote {written}")


def _table(rows: tuple[FeeRow, ...]) -> None:
    for r in rows:
        err = "" if r.fee_stderr_msek is None else f" ± {r.fee_stderr_msek:.2f}"
        drivers = ""
        if r.load_racks is not None:
            drivers = (
                f"  load {r.load_racks:g}, reserved {r.reserved_racks:g} racks; "
                f"{'/'.join(r.criticality)}, {'/'.join(r.latency_classes)}"
            )
        click.echo(f"  {r.payer:<48} {r.fee_msek:8.2f}{err} MSEK ({r.share:.1%}){drivers}")
