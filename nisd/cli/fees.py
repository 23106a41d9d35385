"""``nisd fees``: what each agency pays for a plan or a roll-out, year by year, and what one
agency's choice costs the others."""

from __future__ import annotations

from pathlib import Path

import click

from nisd import api
from nisd.cli.options import (
    as_options,
    data_option,
    echo_json,
    json_option,
    load_result,
    progress,
)
from nisd.records import Fees
from nisd.records.fees import Change, FeeRow

METHODS = ("load", "reserved", "shapley")


def _joins(items: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        name, sep, year = item.rpartition("=")
        if not sep or not name.strip() or not year.strip().isdigit():
            raise click.BadParameter(f"{item!r} is not AGENCY=YEAR", param_hint="--join")
        out[name.strip()] = int(year)
    return out


@click.command()
@click.argument("source", metavar="PLAN_OR_ROLLOUT", type=click.Path(path_type=Path))
@data_option
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="load",
    show_default=True,
    help="load share, reserved capacity (primary plus backup spare), or shapley (cost "
    "causation: each agency's average marginal cost over orders of joining).",
)
@click.option(
    "--financing",
    type=click.Choice(["loan", "recover"]),
    default=None,
    help="A roll-out's financing: loan (capital borrowed, repaid through depreciation "
    "over the asset life, with interest) or recover (capital recovered over "
    "recover_years). Default: the scenario's [fees] financing (loan).",
)
@click.option(
    "--interest-rate", type=float, default=None, help="Interest on the loan and deficits."
)
@click.option(
    "--precision",
    type=float,
    default=None,
    help="Shapley, sampled: stop when every agency's fee is known within this share of "
    "the cost (default 0.01) at 95 %.",
)
@click.option(
    "--time-budget",
    type=float,
    default=None,
    help="Shapley, sampled: stop after this many seconds (default 60), saying the "
    "precision reached.",
)
@click.option(
    "--decline",
    "declines",
    multiple=True,
    metavar="AGENCY",
    help="Plan again without this agency's users and show every other agency's fee "
    "before and after (repeatable: all of them decline together).",
)
@click.option(
    "--join",
    "joins",
    multiple=True,
    metavar="AGENCY=YEAR",
    help="A roll-out: plan again with the agency joining in YEAR; every agency's fees "
    "before and after.",
)
@click.option(
    "--no-premium", is_flag=True, help="A plan: do not show the protection premium apart."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampled orders.")
@json_option
def fees(
    source: Path,
    data_dir: Path | None,
    method: str,
    financing: str | None,
    interest_rate: float | None,
    precision: float | None,
    time_budget: float | None,
    declines: tuple[str, ...],
    joins: tuple[str, ...],
    no_premium: bool,
    seed: int,
    as_json: bool,
) -> None:
    """Annual fees per paying agency for PLAN_OR_ROLLOUT (a plan.json, a rollout.json or
    its directory), with full cost recovery; writes fees.json and fees.csv (one row per
    agency and year) beside it.

    Fees always sum to the cost. A roll-out is financed by a loan repaid through
    depreciation (or recovered over recover_years); an agency pays only in years it is on
    board. Progress shows on stderr (-q hides it).
    """
    result, ds = load_result(source, data_dir)
    settings = {
        k: v
        for k, v in (
            ("financing", financing),
            ("interest_rate", interest_rate),
            ("precision", precision),
            ("time_budget_s", time_budget),
        )
        if v is not None
    }
    with (
        as_options(
            decline="--decline",
            join="--join",
            method="--method",
            financing="--financing",
            interest_rate="--interest-rate",
            precision="--precision",
            time_budget_s="--time-budget",
        ),
        progress("shapley" if method == "shapley" else "fees") as bar,
    ):
        out = api.fees(
            ds,
            result,
            method,
            seed=seed,
            progress=bar,
            decline=list(declines),
            join=_joins(joins),
            premium=not no_premium,
            **settings,
        )
    written = out.save_beside(api.result_path(source))
    if as_json:
        echo_json(out)
        return
    for line in describe(out):
        click.echo(line)
    click.echo(f"wrote {written} and {written.with_name(Fees.CSV)}")


def describe(out: Fees) -> list[str]:
    """The fees in lines: how Shapley values were found, the table, the financing."""
    lines: list[str] = []
    how = out.how
    if how.shapley == "sampled":
        lines.append(
            f"Shapley values sampled: {how.samples} orders (seed {how.seed}), "
            f"{how.solved} coalition plans solved, {how.inferred} inferred; stopped by "
            f"{how.stopped_by}: every fee within ±{how.precision_msek or 0.0:.2f} MSEK "
            f"at {100 * (how.confidence or 0.95):.0f} % "
            f"(goal ±{how.precision_goal_msek or 0.0:.2f})"
        )
    elif how.shapley == "exact":
        lines.append(
            f"Shapley values exact ({how.coalitions} coalitions: {how.solved} solved, "
            f"{how.inferred} inferred)"
        )
    for f in how.fallback:
        lines.append(f"  coalition valued by the fallback rule: {f}")
    if out.source == "plan":
        lines.append(f"cost {out.cost_msek or 0.0:.2f} MSEK/year, by {out.method}:")
        lines += _table(out.rows)
        if out.premium is not None:
            p = out.premium
            lines.append(
                f"protection premium {p.premium_msek:.2f} MSEK/year (without protection "
                f"{p.without_protection_msek:.2f}), charged to {', '.join(p.payers)}"
            )
        elif out.premium_note:
            lines.append(f"protection premium not shown: {out.premium_note}")
    else:
        lines.append(
            f"financing: {out.financing}, interest {100 * (out.interest_rate or 0.0):.2f} %; "
            f"opening balance {out.opening_balance_msek or 0.0:g} MSEK"
        )
        for y in out.years:
            lines.append(
                f"{y.year}: {y.payers} payer(s); capital {y.capital_msek:.1f}, loan "
                f"{y.loan_balance_msek:.1f}, depreciation {y.depreciation_msek:.1f}, interest "
                f"{y.interest_msek:.1f}, running {y.running_msek:.1f}; fees "
                f"{y.fee_income_msek:.1f}, balance {y.balance_msek:+.1f} MSEK"
            )
        last = next((y for y in reversed(out.years) if y.rows), None)
        if last is not None:
            lines.append(f"fees in {last.year} by {out.method}:")
            lines += _table(last.rows)
        if (out.left_to_recover_msek or 0.0) > 0:
            lines.append(
                f"left to recover after the last year: {out.left_to_recover_msek:.1f} MSEK"
            )
    lines += _beyond(out)
    for c in out.changes:
        lines += _change(c, out.source)
    return lines


def _beyond(out: Fees) -> list[str]:
    """The cost beyond the buildings and today's cost, where the data and scenario give
    them."""
    lines = []
    if out.tco:
        parts = ", ".join(f"{t.name} {t.msek_per_year:.1f}" for t in out.tco)
        extra = sum(t.msek_per_year for t in out.tco)
        if out.source == "plan":
            total = (out.cost_msek or 0.0) + extra
            lines.append(
                f"beyond the buildings: {parts} MSEK/year; total cost of ownership "
                f"{total:.1f} MSEK/year"
            )
        else:
            lines.append(f"beyond the buildings, in the last year: {parts} MSEK/year")
        lines.append(f"  ({out.tco[0].source})")
    if out.today_msek_per_year is not None:
        lines.append(
            f"the agencies' own IT operations today: {out.today_msek_per_year:,.0f} MSEK/year"
        )
        if out.today_source:
            lines.append(f"  ({out.today_source})")
    return lines


def _table(rows: tuple[FeeRow, ...]) -> list[str]:
    out = []
    for r in rows:
        err = "" if r.fee_halfwidth_msek is None else f" ± {r.fee_halfwidth_msek:.2f}"
        change = "" if r.change_msek is None else f" ({r.change_msek:+.2f} on the year before)"
        prem = f" incl. premium {r.premium_msek:.2f}" if r.premium_msek else ""
        out.append(f"  {r.payer:<48} {r.fee_msek:8.2f}{err} MSEK ({r.share:.1%}){prem}{change}")
    return out


def _change(c: Change, source: str) -> list[str]:
    who = ", ".join(c.agencies)
    head = f"if {who} declined" if c.what == "decline" else f"if {who} joined in {c.year}"
    unit = "MSEK/year" if source == "plan" else "MSEK over the roll-out"
    added, dropped = ", ".join(c.sites_added) or "none", ", ".join(c.sites_removed) or "none"
    lines = [
        f"{head}: cost {c.cost_before_msek:.2f} → {c.cost_after_msek:.2f} {unit}; sites "
        f"added {added}, dropped {dropped}"
    ]
    for r in c.rows:
        lines.append(
            f"  {r.payer:<48} {r.before_msek:8.2f} → {r.after_msek:8.2f} ({r.change_msek:+.2f})"
        )
    return lines
