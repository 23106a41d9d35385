"""``nisd fees``: what each agency pays for a plan or a roll-out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from nisd.cli.options import data_option, json_option
from nisd.io import load_dataset
from nisd.io.planfile import write_atomic
from nisd.io.rolloutfile import ROLLOUT_FILE, is_rollout, read_rollout_doc
from nisd.optimise.config import config_of_plan
from nisd.render.context import load_plan, plan_data_dir
from nisd.study.fees import EXACT_LIMIT, METHODS, SAMPLES, plan_fees, rollout_fees

FEES_FILE = "fees.json"  # written beside the plan or roll-out it prices


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
    default=SAMPLES,
    show_default=True,
    help="Shapley with more payers than --exact-limit: random orders sampled.",
)
@click.option(
    "--exact-limit",
    type=click.IntRange(1, 12),
    default=EXACT_LIMIT,
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
    kw: dict[str, Any] = {"samples": samples, "seed": seed, "exact_limit": exact_limit}
    path = source / ROLLOUT_FILE if source.is_dir() else source
    if is_rollout(path):
        doc = read_rollout_doc(path)
        cfg = config_of_plan(doc, str(path))
        ds = load_dataset(plan_data_dir(doc, data_dir))
        out = rollout_fees(ds, cfg, doc, method, **kw)  # type: ignore[arg-type]
    else:
        typed, ds = load_plan(path, data_dir)
        cfg = config_of_plan(typed.to_json(), str(path))
        cost = float(typed.kpis.cost_msek or 0.0)
        out = plan_fees(ds, cfg, typed.sites, typed.assignments, cost, method, **kw)  # type: ignore[arg-type]
    written = write_atomic(
        path.parent / FEES_FILE,
        json.dumps(out, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
    )
    if as_json:
        click.echo(json.dumps(out, indent=2, sort_keys=True, ensure_ascii=False))
        return
    how = out.get("how") or {}
    if how.get("shapley") == "sampled":
        click.echo(
            f"Shapley values estimated from {how['samples']} random orders (seed {how['seed']}); "
            "± is one standard error"
        )
    elif how.get("shapley") == "exact":
        click.echo(f"Shapley values exact ({how['coalitions']} coalitions)")
    if out["kind"] == "plan":
        click.echo(f"cost {out['cost_msek']:.2f} MSEK/year, by {method}:")
        _table(out["rows"])
    else:
        click.echo(
            f"capital recovered over {out['recover_years']} year(s); opening balance "
            f"{out['opening_balance_msek']:g} MSEK"
        )
        for y in out["years"]:
            click.echo(
                f"{y['year']}: cost {y['cost_msek']:.1f}, fees {y['fee_income_msek']:.1f}, "
                f"balance {y['balance_msek']:+.1f} MSEK"
            )
        last = next((y for y in reversed(out["years"]) if y["rows"]), None)
        if last is not None:
            click.echo(f"fees in {last['year']} by {method}:")
            _table(last["rows"])
        if out["left_to_recover_msek"] > 0:
            click.echo(
                f"left to recover after the last year: {out['left_to_recover_msek']:.1f} MSEK"
            )
    click.echo(f"wrote {written}")


def _table(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        err = f" ± {r['fee_stderr_msek']:.2f}" if "fee_stderr_msek" in r else ""
        drivers = ""
        if "load_racks" in r:
            drivers = (
                f"  load {r['load_racks']:g}, reserved {r['reserved_racks']:g} racks; "
                f"{'/'.join(r['criticality'])}, {'/'.join(r['latency_classes'])}"
            )
        click.echo(f"  {r['payer']:<48} {r['fee_msek']:8.2f}{err} MSEK ({r['share']:.1%}){drivers}")
