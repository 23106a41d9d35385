"""What the answer is most sensitive to: re-plan with each labelled assumption low and high.

Each variant changes one planning assumption of the plan's scenario, either in the
scenario (separation, protection levels) or in a copy of its data directory (site
type costs and capacities, every user's load, the spread of the cost factors, the
buffers of hazard classes set by judgement), and re-plans it from nothing on the
same executors as sweeps. A variant is reported with its cost, its change from the
plan, and whether it opens other sites: the assumptions that move the sites are the
ones a steering group should question first. ``nisd report`` draws them as a
tornado chart. A variant has at most :data:`VARIANT_SECONDS` of solver time and no
explanation of an infeasibility (only that no plan exists).
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import ConfigError, Problem
from nisd.records.plan import Plan
from nisd.records.study import Sensitivity, Variant
from nisd.study.runner import PointResult, Task, replan_config, solve_point, unproved

SPREAD = 0.2  # low and high: ± 20 % of a number that is an assumption
JUDGED_HAZARDS = ("airport", "air_base")  # hazard classes whose buffer is a judgement
# Each variant's solver time limit (s), when the plan's own is longer: a variant that the
# solver cannot settle in this time is reported as not settled (its note says so) rather
# than holding up the whole table for the plan's full limit.
VARIANT_SECONDS = 120.0

Edit = Callable[[Path], None]  # changes a copied data directory in place


@dataclass(frozen=True)
class Change:
    """One assumption at one side: what changes, in the scenario or the data."""

    assumption: str
    side: Literal["low", "high"]
    label: str  # the value used, in words
    config: dict[str, Any] = field(default_factory=dict)
    edit: Edit | None = None


def _rewrite_csv(path: Path, change: Callable[[dict[str, str]], None]) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    for r in rows:
        change(r)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _scale_column(file: str, column: str, factor: float, key: str = "", value: str = "") -> Edit:
    def edit(root: Path) -> None:
        def change(r: dict[str, str]) -> None:
            if (not key or r.get(key) == value) and r.get(column):
                r[column] = f"{float(r[column]) * factor:.6g}"

        _rewrite_csv(root / file, change)

    return edit


def _spread_cost_factor(s: float) -> Edit:
    def edit(root: Path) -> None:
        def change(r: dict[str, str]) -> None:
            if r.get("cost_factor"):
                r["cost_factor"] = f"{1.0 + s * (float(r['cost_factor']) - 1.0):.6g}"

        _rewrite_csv(root / "sites.csv", change)

    return edit


def _scale_hazard_buffer(hazard_class: str, factor: float) -> Edit:
    def edit(root: Path) -> None:
        p = root / "hazards.geojson"
        doc = json.loads(p.read_text(encoding="utf-8"))
        for f in doc.get("features", []):
            props = f.get("properties") or {}
            if props.get("hazard_class") == hazard_class:
                props["buffer_km"] = float(props.get("buffer_km") or 0.0) * factor
        p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")

    return edit


def changes(ds: Dataset, cfg: PlanConfig) -> list[Change]:
    """The labelled assumptions of ``ds`` and the plan's scenario, each low and high."""
    lo, hi = 1.0 - SPREAD, 1.0 + SPREAD
    sides: tuple[tuple[Literal["low", "high"], float], ...] = (("low", lo), ("high", hi))
    out: list[Change] = []
    for t in ds.site_types:
        for what, column, value, unit in (
            ("cost", "cost_msek", t.cost_msek, "MSEK/yr"),
            ("capacity", "capacity", t.capacity, "racks"),
        ):
            for side, f in sides:
                out.append(
                    Change(
                        f"{what} of a {t.type_id} site",
                        side,
                        f"{value * f:g} {unit}",
                        edit=_scale_column("site_types.csv", column, f, "type_id", t.type_id),
                    )
                )
    for side, f in sides:
        out.append(
            Change(
                "every user's load", side, f"× {f:g}", edit=_scale_column("demand.csv", "load", f)
            )
        )
    if any(abs(s.cost_factor - 1.0) > 1e-9 for s in ds.sites):
        out.append(
            Change(
                "spread of the cost factors",
                "low",
                "every factor 1.0",
                edit=_spread_cost_factor(0.0),
            )
        )
        out.append(
            Change(
                "spread of the cost factors",
                "high",
                "twice the spread",
                edit=_spread_cost_factor(2.0),
            )
        )
    classes = sorted({h.hazard_class for h in ds.hazards} & set(JUDGED_HAZARDS))
    for c in classes:
        out.append(Change(f"{c} buffers", "low", "none", edit=_scale_hazard_buffer(c, 0.0)))
        out.append(
            Change(f"{c} buffers", "high", "twice as wide", edit=_scale_hazard_buffer(c, 2.0))
        )
    sep = cfg.separation_km
    if sep:
        out.append(
            Change(
                "geo-redundancy separation",
                "low",
                "100 km (BSI's minimum)",
                {"separation_km": 100.0},
            )
        )
        out.append(
            Change(
                "geo-redundancy separation",
                "high",
                f"{sep * 1.5:g} km",
                {"separation_km": sep * 1.5},
            )
        )
    if cfg.protection and any(d.protection > 0 for d in ds.demand):
        out.append(Change("protection levels", "low", "off", {"protection": False}))
    return out


def _data_copy(src: Path, work: Path, n: int, edit: Edit | None) -> Path:
    if edit is None:
        return src
    dst = work / f"variant-{n}"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    edit(dst)
    return dst


def sensitivity_tasks(
    plan: Plan, ds: Dataset, data_dir: str, work: Path, threads: int | None = None
) -> tuple[list[Task], dict[str, Change]]:
    """One re-plan per change (data copies written under ``work``), keyed by index."""
    base = replan_config(plan, threads)
    limit = base.solver.time_limit
    if limit is None or limit > VARIANT_SECONDS:
        base = base.model_copy(
            update={"solver": base.solver.model_copy(update={"time_limit": VARIANT_SECONDS})}
        )
    params = base.model_dump(mode="json")
    tasks: list[Task] = []
    meaning: dict[str, Change] = {}
    # the plan itself as a start: where it is still optimal in a variant, the solver keeps
    # it, so a change of sites means the plan is no longer the best (not a tie broken anew)
    start = (dict(plan.sites), {d: list(v) for d, v in plan.assignments.items()})
    for n, v in enumerate(changes(ds, base)):
        key = f"variant-{n}"
        meaning[key] = v
        path = _data_copy(Path(data_dir), work, n, v.edit)
        # a variant with no plan is reported as such; what must give is not asked
        tasks.append((key, solve_point, (str(path), {**params, **v.config}, start, False)))
    return tasks, meaning


def sensitivity_table(
    plan: Plan,
    ds: Dataset,
    data_dir: str,
    runner: Callable[[list[Task]], Iterator[tuple[str, Any]]],
    work: Path,
    threads: int | None = None,
) -> Sensitivity:
    """Every variant's cost and sites against the plan's, most sensitive first.

    Raises
    ------
    ConfigError
        The plan has no value or cost, or no parameters to re-solve with.
    """
    if plan.value is None:
        raise ConfigError([Problem("plan", "objective.value is missing: the plan has no value")])
    if plan.kpis.cost_msek is None:
        raise ConfigError([Problem("plan", "kpis.cost_msek is missing: the plan has no cost")])
    base_cost = float(plan.kpis.cost_msek)
    base_sites = dict(plan.sites)
    tasks, meaning = sensitivity_tasks(plan, ds, data_dir, work, threads)
    rows = []
    for key, res in runner(tasks):
        assert isinstance(res, PointResult)
        v = meaning[key]
        head = {"assumption": v.assumption, "side": v.side, "value": v.label}
        if res.plan is not None and res.plan.kpis.cost_msek is not None:
            sites = dict(res.plan.sites)
            cost = float(res.plan.kpis.cost_msek)
            added = tuple(sorted(set(sites) - set(base_sites)))
            removed = tuple(sorted(set(base_sites) - set(sites)))
            retyped = tuple(
                sorted(s for s in set(sites) & set(base_sites) if sites[s] != base_sites[s])
            )
            rows.append(
                Variant(
                    **head,
                    base_cost=base_cost,
                    status=res.plan.status.value,
                    cost=cost,
                    change=round(cost - base_cost, 6) + 0.0,
                    added=added,
                    removed=removed,
                    retyped=retyped,
                    changes_sites=bool(added or removed or retyped),
                    note=unproved(res.plan),
                )
            )
        else:
            rows.append(
                Variant(
                    **head,
                    base_cost=base_cost,
                    status="infeasible" if res.infeasible else "error",
                    changes_sites=True,
                    note="no plan" if res.infeasible else res.error[:160],
                )
            )
    return Sensitivity(variants=tuple(order(rows)))


def swing(rows: Sequence[Variant], assumption: str) -> float:
    """The largest cost change of an assumption's variants (infinite when one has no plan)."""
    mine = [r for r in rows if r.assumption == assumption]
    if any(r.change is None for r in mine):
        return float("inf")
    return max((abs(float(r.change or 0.0)) for r in mine), default=0.0)


def order(rows: Sequence[Variant]) -> list[Variant]:
    """Assumptions that move the sites first, then by swing in cost, then by name."""
    moving = {r.assumption for r in rows if r.changes_sites}

    def key(r: Variant) -> tuple[int, float, str, str]:
        return (
            0 if r.assumption in moving else 1,
            -swing(rows, r.assumption),
            r.assumption,
            r.side,
        )

    return sorted(rows, key=key)
