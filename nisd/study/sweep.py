"""Parameter sweeps: the full grid of values, resumable, with a table and a Pareto front.

Each point is a scenario configuration with some keys replaced. A point's
directory name comes from a hash of its parameters, so a rerun finds what is
done and skips it; a failed point is recorded with its parameters and the
sweep goes on.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from nisd.errors import ConfigError, InputError, NisdError, Problem
from nisd.files import write_atomic
from nisd.io import load_dataset
from nisd.io.scenario import load_plan_config
from nisd.limits import GRID_POINTS, grid_size, key_problem
from nisd.records.base import dumps
from nisd.records.plan import Plan
from nisd.study.runner import Draw, PointResult, Task, solve_point

_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")


def parse_value(text: str) -> Any:
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null", "off"):
        return None
    for cast in (int, float):
        try:
            return cast(t)
        except ValueError:
            pass
    return t


def parse_vary(items: tuple[str, ...] | list[str]) -> dict[str, list[Any]]:
    """``KEY=VALUES`` options: ``a,b,c`` lists or ``3..8`` integer ranges."""
    out: dict[str, list[Any]] = {}
    problems = []
    for item in items:
        if "=" not in item:
            problems.append(Problem("vary", f"{item!r}: expected KEY=VALUES"))
            continue
        key, vals = item.split("=", 1)
        key = key.strip()
        bad = key_problem(key)
        if bad:
            problems.append(Problem("vary", f"{item[:60]!r}: {bad}"))
            continue
        m = _RANGE.match(vals.strip())
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if b < a:
                problems.append(Problem("vary", f"{item!r}: empty range"))
                continue
            if b - a + 1 > GRID_POINTS:
                problems.append(
                    Problem(
                        "vary",
                        f"{item!r}: {b - a + 1:,} values (a sweep has at most "
                        f"{GRID_POINTS:,} points)",
                    )
                )
                continue
            out[key] = list(range(a, b + 1))
        else:
            values = [parse_value(v) for v in vals.split(",") if v.strip()]
            if not values:
                problems.append(Problem("vary", f"{item!r}: no values"))
                continue
            out[key] = values
    if not problems:
        problems = grid_problems(out)
    if problems:
        raise InputError(problems)
    return out


def grid_problems(vary: Mapping[str, Sequence[Any]]) -> list[Problem]:
    """Why a grid of these values is refused: a bad key, or more points than a sweep may
    have (each is a MILP solve)."""
    problems = [
        Problem("vary", f"{k[:60]!r}: {bad}") for k in vary if (bad := key_problem(k)) is not None
    ]
    n = grid_size([len(v) for v in vary.values()])
    if n > GRID_POINTS:
        sizes = " × ".join(f"{len(v):,}" for v in vary.values())
        problems.append(
            Problem("vary", f"{sizes} = {n:,} points: a sweep has at most {GRID_POINTS:,}")
        )
    return problems


def set_key(cfg: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy of ``cfg`` with ``a.b.c`` set; ``p`` replaces ``p_min``/``p_max``."""
    out = json.loads(json.dumps(cfg))
    if dotted == "p":
        out.pop("p_min", None)
        out.pop("p_max", None)
    parts = dotted.split(".")
    node = out
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


@dataclass(frozen=True)
class Point:
    key: str
    params: dict[str, Any]
    config: dict[str, Any]


def grid(base: dict[str, Any], vary: dict[str, list[Any]]) -> list[Point]:
    """Every combination of the values, each a configuration (refused past the limits)."""
    problems = grid_problems(vary)
    if problems:
        raise InputError(problems)
    keys = list(vary)
    points = []
    for combo in itertools.product(*(vary[k] for k in keys)):
        params = dict(zip(keys, combo, strict=True))
        cfg = base
        for k, v in params.items():
            cfg = set_key(cfg, k, v)
        slug = "_".join(f"{k}={v}" for k, v in params.items())
        slug = re.sub(r"[^A-Za-z0-9_.=-]+", "-", slug)[:80]
        digest = hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:10]
        points.append(Point(f"{slug}_{digest}", params, cfg))
    return points


def check_points(points: list[Point]) -> None:
    """Validate every point's configuration before any is solved.

    Raises
    ------
    ConfigError
        Every invalid point, named by its parameters, with what is wrong.
    """
    problems: list[Problem] = []
    for p in points:
        try:
            load_plan_config(None, p.config)
        except ConfigError as exc:
            problems += [Problem(f"point {p.params}", str(q)) for q in exc.problems]
    if problems:
        raise ConfigError(problems)


def row_of(point: Point, result: PointResult) -> dict[str, Any]:
    row: dict[str, Any] = {"point": point.key, **{f"param.{k}": v for k, v in point.params.items()}}
    plan = result.plan
    if plan is None:
        row.update({"status": "error", "error": result.error})
        return row
    k = plan.kpis
    row.update(
        {
            "status": plan.status.value,
            "objective": plan.value,
            "gap": plan.gap,
            "cost_msek": k.cost_msek,
            "sites": k.sites,
            "mean_latency_ms": k.mean_latency_ms,
            "max_latency_ms": k.max_latency_ms,
            # a point without crisis scenarios loses nothing to a failure it was not asked about
            "worst_case_share_served": 1.0
            if k.worst_case_share_served is None
            else k.worst_case_share_served,
            "opened": " ".join(sorted(plan.sites)),
            "error": "",
        }
    )
    return row


def pareto(df: pd.DataFrame) -> pd.Series:
    """Non-dominated points: lower cost, higher worst-case share, lower mean latency."""
    ok = df[df.status.isin(["optimal", "feasible"])]
    keep = {i: False for i in df.index}
    for i, a in ok.iterrows():
        dominated = False
        for j, b in ok.iterrows():
            if i == j:
                continue
            no_worse = (
                b.cost_msek <= a.cost_msek
                and b.worst_case_share_served >= a.worst_case_share_served
                and b.mean_latency_ms <= a.mean_latency_ms
            )
            better = (
                b.cost_msek < a.cost_msek
                or b.worst_case_share_served > a.worst_case_share_served
                or b.mean_latency_ms < a.mean_latency_ms
            )
            if no_worse and better:
                dominated = True
                break
        keep[i] = not dominated
    return pd.Series(keep, index=df.index, dtype=bool)


def _missing_maps(
    points: list[Point], results: dict[str, PointResult], pdir: Path, data_dir: Path, draw: Draw
) -> dict[str, str]:
    """Draw the map of every solved point without one (solved before, without maps)."""
    errors = {}
    ds = load_dataset(data_dir)
    for p in points:
        html = pdir / p.key / "plan.html"
        plan = results[p.key].plan
        if plan is None or plan.status.value not in ("optimal", "feasible") or html.exists():
            continue
        try:
            write_atomic(html, draw(plan, ds))
        except NisdError as exc:
            errors[p.key] = str(exc)
    return errors


def run_sweep(
    points: list[Point],
    out: Path,
    data_dir: Path,
    runner: Callable[[list[Task]], Iterator[tuple[str, Any]]],
    on_done: Callable[[Point, PointResult, bool], None] | None = None,
    draw: Draw | None = None,
) -> pd.DataFrame:
    """Solve the points not done yet; write each plan as it finishes; return the table.

    ``draw``: each plan's map page, ``plan.html`` beside it, drawn by the worker that
    solved it (and here for plans done before without one). A map that cannot be
    drawn is a row's ``map_error``; its plan stands.
    """
    pdir = out / "points"
    pdir.mkdir(parents=True, exist_ok=True)
    names = {s.site_id: s.name for s in load_dataset(data_dir).sites}
    by_key = {p.key: p for p in points}
    results: dict[str, PointResult] = {}
    todo: list[Task] = []
    for p in points:
        done = pdir / p.key / Plan.FILE
        if done.exists():
            results[p.key] = PointResult(plan=Plan.read(done))
            if on_done:
                on_done(p, results[p.key], True)
        else:
            args = (str(data_dir.resolve()), p.config, None, True, draw)
            todo.append((p.key, solve_point, args))
    map_errors: dict[str, str] = {}
    for key, res in runner(todo):
        assert isinstance(res, PointResult)
        p = by_key[key]
        if res.page_error is not None:
            map_errors[key] = res.page_error
        results[key] = res
        d = pdir / key
        d.mkdir(exist_ok=True)
        write_atomic(d / "params.json", json.dumps(p.params, sort_keys=True, indent=2) + "\n")
        if res.plan is not None:
            res.plan.save(d, names)
            (d / "error.json").unlink(missing_ok=True)
            if res.page is not None:
                write_atomic(d / "plan.html", res.page)
        else:
            error = {
                "ok": False,
                "error": res.error,
                "error_type": res.error_type,
                "exit_code": res.exit_code,
            }
            write_atomic(d / "error.json", dumps(error))
        if on_done:
            on_done(p, res, False)
    if draw is not None:
        drawn = [p for p in points if p.key not in map_errors]  # not tried twice
        map_errors.update(_missing_maps(drawn, results, pdir, data_dir, draw))
    df = pd.DataFrame([row_of(p, results[p.key]) for p in points])
    if map_errors:
        df["map_error"] = [map_errors.get(p.key) for p in points]
    if len(df) and "cost_msek" in df:
        df["pareto"] = pareto(df)
    return df
