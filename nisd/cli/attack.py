"""``nisd attack``: the worst attacks on a plan, and which sites to harden against them."""

from __future__ import annotations

import math
from pathlib import Path

import click

from nisd import api
from nisd.cli.options import (
    as_options,
    data_option,
    echo_json,
    json_option,
    load_plan,
    progress,
)
from nisd.errors import InputError, Problem
from nisd.records import AttackResult

_KIND = {"site": "site", "sites": "site", "node": "node", "nodes": "node"}
_KIND |= {"srlg": "srlg", "srlgs": "srlg"}


def parse_kinds(text: str) -> list[str]:
    """``sites,nodes,srlg`` → target kinds (singular or plural)."""
    out: list[str] = []
    for item in (x.strip() for x in text.split(",") if x.strip()):
        if item not in _KIND:
            raise InputError(
                [Problem("--targets", f"unknown target kind {item!r} (sites, nodes, srlg)")]
            )
        if _KIND[item] not in out:
            out.append(_KIND[item])
    if not out:
        raise InputError([Problem("--targets", "no target kind given")])
    return out


def parse_numbers(text: str | None, option: str) -> dict[str, float]:
    """``a=1,b=2.5`` → {a: 1.0, b: 2.5}; every value a positive number."""
    out: dict[str, float] = {}
    for item in (x.strip() for x in (text or "").split(",") if x.strip()):
        key, sep, val = item.partition("=")
        try:
            num = float(val)
        except ValueError:
            num = float("nan")
        if not sep or not key.strip() or not num >= 0 or not math.isfinite(num):
            raise InputError(
                [Problem(option, f"{item!r} is not NAME=NUMBER (a finite number ≥ 0)")]
            )
        out[key.strip()] = num
    return out


@click.command()
@click.argument("plan", type=click.Path(path_type=Path))
@data_option
@click.option(
    "--r",
    "budget",
    type=click.FloatRange(min=0),
    default=2,
    show_default=True,
    help="The attacker's budget: the number of targets when each costs 1.",
)
@click.option(
    "--targets",
    default="sites",
    show_default=True,
    help="What may be attacked: sites (the plan's opened sites), nodes (backbone nodes), "
    "srlg (shared-risk groups of fibre); comma-separated.",
)
@click.option("--cost", "cost_text", help="Attack cost per kind, e.g. node=2,srlg=1 (default 1).")
@click.option(
    "--objective",
    type=click.Choice(["critical-first", "total"]),
    default="critical-first",
    show_default=True,
    help="Minimise served load class by class, critical first, or in all.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1, max=50),
    default=5,
    show_default=True,
    help="How many of the worst attacks to list.",
)
@click.option(
    "--keep",
    "keep_text",
    help="Service levels to test each attack against, e.g. critical=1,high=0.5 "
    "(default: the plan's [war] levels).",
)
@click.option(
    "--fortify",
    "do_fortify",
    is_flag=True,
    help="Also choose the cheapest opened sites to harden so that no attack breaks --keep.",
)
@click.option(
    "--harden-cost",
    "harden_text",
    help="Hardening cost per site type in MSEK, e.g. regional=40,core=60 "
    "(default: the plan's war.harden_cost_msek).",
)
@click.option("--solver", help="auto (default: HiGHS), highs, cbc.")
@click.option(
    "--method",
    type=click.Choice(["auto", "milp", "enumerate"]),
    default="auto",
    show_default=True,
    help="enumerate: list every attack within the budget (scored in batches, those near "
    "the top evaluated again); milp: the interdiction programme (its time does not grow "
    "with the number of attacks; it does not model islands); auto: list them when that "
    "is estimated to take at most 5 minutes or the plan skips islanded users, else milp. "
    "Exact, same order.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="Also write the result as JSON to this file (atomically).",
)
@json_option
def attack(
    plan: Path,
    data_dir: Path | None,
    budget: float,
    targets: str,
    cost_text: str | None,
    objective: str,
    top: int,
    keep_text: str | None,
    do_fortify: bool,
    harden_text: str | None,
    solver: str | None,
    method: str,
    out: Path | None,
    as_json: bool,
) -> None:
    """The worst attacks of budget --r on PLAN.json, exact: every attack listed when that
    takes at most a few minutes (or when the plan leaves islanded users unserved), else
    the interdiction programme (--method). Progress shows on stderr (-q hides it)."""
    if not math.isfinite(budget):
        raise click.BadParameter("must be a finite number", param_hint="--r")
    kinds = parse_kinds(targets)
    costs = parse_numbers(cost_text, "--cost")
    typed, ds = load_plan(plan, data_dir)
    with (
        as_options(keep="--keep", cost="--cost", harden_cost="--harden-cost", targets="--targets"),
        progress("attacks") as bar,
    ):
        result = api.attack(
            ds,
            typed,
            budget,
            targets=kinds,
            cost=costs,
            top=top,
            objective=objective,
            keep=parse_numbers(keep_text, "--keep") if keep_text else None,
            fortify=do_fortify,
            harden_cost=parse_numbers(harden_text, "--harden-cost") if harden_text else None,
            solver=solver or "auto",
            method=method,
            progress=bar,
        ).model_copy(update={"plan": str(plan)})
    if out is not None:
        result.save(out)
    if as_json:
        echo_json(result)
        return
    for line in describe(result, list(ds.config.criticality.levels)):
        click.echo(line)


def describe(result: AttackResult, classes: list[str]) -> list[str]:
    """The attacks found, worst first, and the sites to harden, in lines."""
    lines = [
        f"attacks of budget {result.budget:g} on {', '.join(result.target_kinds)} "
        f"({result.targets_considered} targets; exact, "
        + (
            f"{result.solves} solves, "
            if result.found_by == "milp"
            else f"all {result.attacks_evaluated:,} attacks listed, "
        )
        + f"{result.seconds:.1f} s)"
    ]
    if result.found_by == "milp" and "a worse attack may exist" in result.method:
        lines.append("note: " + result.method.split("; ", 1)[1])
    for n, a in enumerate(result.attacks, 1):
        by = ", ".join(f"{c} {v:.1%}" for c in classes if (v := a.served(c)) is not None)
        met = {True: "; levels met", False: "; LEVELS NOT MET", None: ""}[a.levels_met]
        lines.append(
            f"{n:2d}. {' + '.join(a.targets) or '(no target hurts the plan)'}: "
            f"{a.demand_served_share:.1%} served ({by}){met}; "
            f"full: {', '.join(a.full_sites) or 'none'}; "
            f"cut off: {len(a.cut_off)}; unserved: {len(a.unserved)}"
        )
    f = result.fortify
    if f is not None:
        lines.append(
            f"harden: {', '.join(f.hardened) or 'nothing'} ({f.cost_msek:g} MSEK) — "
            f"{f.certificate.statement} ({len(f.iterations)} iteration(s))"
        )
    return lines
