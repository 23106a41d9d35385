"""The Python door: load a dataset, derive variants, plan, read a plan, evaluate and show it.

>>> import nisd
>>> ds = nisd.load()                       # the embedded Swedish dataset
>>> len(ds.sites)
70
>>> bigger = nisd.scale_demand(ds, 1.1)   # a variant in memory, with its own input hash
>>> bigger.input_hash != ds.input_hash
True

``nisd.plan(ds, "baseline", p=6)`` solves a scenario of the library (or a file, or
a :class:`~nisd.optimise.config.PlanConfig`) with overrides validated exactly like
the file; it returns a typed, immutable :class:`Plan`. ``nisd.read_plan(path)``
reads a ``plan.json``; ``nisd.resilience(ds, plan, sets=[...])`` returns the
capacity-true table; ``nisd.attack(ds, plan, r=2)`` finds the worst attacks on a
plan exactly (and ``fortify=True`` the cheapest sites to harden against them);
``nisd.sensitivity(ds, plan)`` re-plans with each labelled assumption low and high;
``nisd.sweep(ds, "baseline", {"p": [3, 4, 5]}, "out")`` solves a grid of variants and
``nisd.explain(ds, plan)`` prices each opened and rejected site, on worker
processes; a :class:`Workers` (``with nisd.Workers(2) as w: ...``, or
``nisd.Workers(dask="local")``) keeps them, warm, from one study to the next.
``plan.explore()`` returns a folium map for notebooks. ``nisd.rollout(ds,
"rollout-2032")`` plans Program 2032 year by year (a typed :class:`Rollout`;
``nisd.read_rollout(path)`` reads a ``rollout.json``), and ``nisd.fees(plan)``
says what each agency pays.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from nisd.dataset import Dataset, Site
from nisd.errors import ConfigError, InputError, Problem
from nisd.io import default_data_dir, load_dataset
from nisd.io.planfile import check_plan_dataset, read_plan_doc
from nisd.optimise.config import PlanConfig, load_plan_config
from nisd.optimise.solve import Status
from nisd.result import Kpis, Plan, Rollout
from nisd.study.runner import Workers

if TYPE_CHECKING:  # pragma: no cover
    from nisd.optimise.war import Method

__all__ = [
    "Kpis",
    "Plan",
    "Rollout",
    "Status",
    "Workers",
    "add_site",
    "attack",
    "drop_link",
    "explain",
    "fees",
    "load",
    "plan",
    "read_plan",
    "read_rollout",
    "resilience",
    "rollout",
    "scale_demand",
    "sensitivity",
    "sweep",
]


# ---- datasets ---------------------------------------------------------------------------


def load(path: str | Path | None = None) -> Dataset:
    """A validated dataset: the embedded Swedish default, or the data directory ``path``."""
    return load_dataset(Path(path) if path is not None else default_data_dir())


def _variant(ds: Dataset, change: dict[str, Any], **records: Any) -> Dataset:
    """``ds`` with ``records`` replaced; the input hash covers the change."""
    text = json.dumps(change, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(f"{ds.input_hash}\n{text}".encode()).hexdigest()
    files = {**ds.files, f"variant {len(ds.files)}: {text}": digest}
    return replace(ds, input_hash=digest, files=files, **records)


def scale_demand(ds: Dataset, factor: float, kinds: Sequence[str] | None = None) -> Dataset:
    """Every demand point's load (or only those of ``kinds``) times ``factor``."""
    if not 0 <= factor <= 1e3:
        raise InputError([Problem("scale_demand", f"factor {factor:g} is not between 0 and 1000")])
    demand = tuple(
        replace(d, load=d.load * factor) if kinds is None or d.kind in kinds else d
        for d in ds.demand
    )
    return _variant(
        ds,
        {"scale_demand": factor, "kinds": sorted(kinds) if kinds else None},
        demand=demand,
    )


def drop_link(ds: Dataset, link_id: str) -> Dataset:
    """``ds`` without the fibre link ``link_id``."""
    if link_id not in {lk.link_id for lk in ds.links}:
        raise InputError([Problem("drop_link", f"unknown link {link_id!r}")])
    links = tuple(lk for lk in ds.links if lk.link_id != link_id)
    return _variant(ds, {"drop_link": link_id}, links=links)


def add_site(
    ds: Dataset,
    site_id: str,
    name: str,
    lat: float,
    lon: float,
    **columns: Any,
) -> Dataset:
    """``ds`` with one more candidate site (columns as in ``sites.csv``, validated)."""
    problems: list[Problem] = []
    known = set(ds.site_ids) | set(ds.demand_ids) | set(ds.node_by_id)
    if not site_id or site_id != site_id.strip():
        problems.append(Problem("add_site", f"site id {site_id!r} is empty or padded"))
    elif site_id in known:
        problems.append(Problem("add_site", f"id {site_id!r} is already used"))
    lon0, lat0, lon1, lat1 = ds.config.bbox
    if not (lat0 <= lat <= lat1 and lon0 <= lon <= lon1):
        problems.append(
            Problem("add_site", f"({lat:g}, {lon:g}) is outside the dataset's bounding box")
        )
    allowed = {f.name for f in fields(Site)} - {"site_id", "name", "lat", "lon"}
    for key in sorted(set(columns) - allowed):
        problems.append(Problem("add_site", f"unknown column {key!r}"))
    types = tuple(columns.get("allowed_types", ("*",)))
    for t in types:
        if t != "*" and t not in ds.type_by_id:
            problems.append(Problem("add_site", f"unknown site type {t!r}"))
    if problems:
        raise InputError(problems)
    site = Site(site_id, name, float(lat), float(lon), **{**columns, "allowed_types": types})
    change = {"add_site": {"site_id": site_id, "name": name, "lat": lat, "lon": lon, **columns}}
    return _variant(ds, json.loads(json.dumps(change, default=str)), sites=(*ds.sites, site))


def read_plan(path: str | Path, dataset: Dataset | None = None) -> Plan:
    """Read and check a ``plan.json`` (against ``dataset`` when given)."""
    doc = read_plan_doc(Path(path))
    if dataset is not None:
        check_plan_dataset(doc, dataset, path)
    return Plan.from_doc(doc, dataset)


def _config(scenario: str | Path | PlanConfig, overrides: Mapping[str, Any]) -> PlanConfig:
    if isinstance(scenario, PlanConfig):
        data = {**scenario.model_dump(), **overrides}
        problems: list[Problem] = []
        from nisd.io.config import parse_model

        cfg = parse_model(PlanConfig, data, "config", problems)
        if cfg is None:
            raise ConfigError(problems)
        return cfg
    return load_plan_config(Path(scenario), dict(overrides))


def plan(ds: Dataset, scenario: str | Path | PlanConfig = "baseline", **overrides: Any) -> Plan:
    """Solve a scenario on ``ds``: a library name, a file or a PlanConfig, with overrides.

    Overrides are validated exactly like the scenario file (``separation_km=50`` is
    refused as it is in a file); nested tables are dicts
    (``crisis={"serve": {"critical": 1.0}}``).

    Raises
    ------
    ConfigError, InfeasibleError, NoSolutionError, SolverError, PlanCheckError
    """
    from nisd.optimise import from_dataset, optimise

    cfg = _config(scenario, overrides)
    inputs = ds.run_inputs(None if isinstance(scenario, PlanConfig) else str(scenario))
    result = optimise(ds, from_dataset(ds, cfg), inputs)
    return Plan.from_doc(result.to_json(), ds)


def rollout(
    ds: Dataset, scenario: str | Path | PlanConfig = "rollout-2032", **overrides: Any
) -> Rollout:
    """Plan a roll-out year by year: a scenario with a ``[rollout]`` table (a library name,
    a file or a PlanConfig), with overrides validated like the file
    (``rollout={"capital_budget_msek": 800}``).

    Raises
    ------
    ConfigError, InfeasibleError, NoSolutionError, SolverError, PlanCheckError
    """
    from nisd.optimise.rollout import rollout as solve_rollout

    cfg = _config(scenario, overrides)
    inputs = ds.run_inputs(None if isinstance(scenario, PlanConfig) else str(scenario))
    return Rollout.from_doc(solve_rollout(ds, cfg, inputs), ds)


def read_rollout(path: str | Path, dataset: Dataset | None = None) -> Rollout:
    """Read a ``rollout.json`` (or the directory holding one), checked like the commands do."""
    from nisd.io.rolloutfile import read_rollout_doc

    return Rollout.from_doc(read_rollout_doc(Path(path)), dataset, str(path))


def fees(
    source: Plan | Rollout,
    method: str = "load",
    *,
    dataset: Dataset | None = None,
    samples: int = 10,
    seed: int = 0,
    exact_limit: int = 8,
) -> dict[str, Any]:
    """What each paying agency pays for a plan or a roll-out (see :mod:`nisd.study.fees`):
    ``method`` is ``load``, ``reserved`` or ``shapley``; fees sum to the cost.

    Raises
    ------
    ConfigError
        An unknown method, or a plan or roll-out without the parameters it was made with.
    """
    from nisd.study.fees import METHODS, plan_fees, rollout_fees

    if method not in METHODS:
        raise ConfigError([Problem("method", f"{method!r} is not one of {', '.join(METHODS)}")])
    if source.config is None:
        raise ConfigError([Problem("plan", "has no run.parameters: its rules are unknown")])
    ds = dataset or source.dataset or load()
    kw: dict[str, Any] = {"samples": samples, "seed": seed, "exact_limit": exact_limit}
    if isinstance(source, Rollout):
        return rollout_fees(ds, source.config, source.to_json(), method, **kw)
    cost = float(source.kpis.cost_msek or 0.0)
    return plan_fees(
        ds,
        source.config,
        source.sites,
        source.assignments,
        cost,
        method,
        **kw,
    )


def resilience(
    ds: Dataset,
    plan: Plan,
    sets: Sequence[str] = ("single-site", "srlg", "county", "power-zone"),
) -> pd.DataFrame:
    """The capacity-true table of ``plan`` under the scenario sets (one row per scenario)."""
    from nisd.topology import build_graph
    from nisd.topology.resilience import evaluate
    from nisd.topology.scenarios import scenario_sets

    check_plan_dataset(plan.to_json(), ds, "plan")
    g = build_graph(ds)
    scen = scenario_sets(ds, g, list(sets), sorted(plan.sites))
    res = evaluate(
        ds,
        g,
        dict(plan.sites),
        scen,
        assignments={d: list(v) for d, v in plan.assignments.items()} or None,
        levels=plan.levels(list(ds.config.criticality.levels)) or None,
        check_two_routes=False,
        split=plan.split,
        islands=plan.islands,
    )
    return res.table


def attack(
    ds: Dataset,
    plan: Plan,
    r: float = 2,
    *,
    targets: Sequence[str] = ("site",),
    cost: Mapping[str, float] | None = None,
    top: int = 5,
    objective: str = "critical-first",
    keep: Mapping[str, float] | None = None,
    fortify: bool = False,
    harden_cost: Mapping[str, float] | None = None,
    solver: str = "auto",
    method: str = "auto",
) -> dict[str, Any]:
    """The ``top`` worst attacks of budget ``r`` on ``plan``, worst first (exact).

    ``targets``: "site" (the plan's opened sites), "node" (backbone nodes), "srlg"
    (shared-risk groups of fibre); each costs 1 unless ``cost`` says otherwise.
    ``objective``: "critical-first" (class by class) or "total" (all load alike).
    ``keep`` (class → share) marks each attack's row with whether those levels
    still hold (default: the plan's ``[war]`` levels when it has them). With
    ``fortify=True`` the result also holds the cheapest opened sites to harden
    (``harden_cost``: MSEK per site type; default the plan's ``war.harden_cost_msek``)
    so that no attack breaks ``keep``. The same JSON as ``nisd attack --json``.
    ``method``: "enumerate" evaluates every attack within the budget, "milp" searches
    with the interdiction programme, "auto" (default) enumerates when there are at most
    ``nisd.optimise.war.ENUMERATE_UP_TO`` attacks (both exact, same order).
    Every input is checked before any search runs.

    Raises
    ------
    InputError, ConfigError, InfeasibleError, SolverError
    """
    from nisd.optimise.config import SolverOptions
    from nisd.optimise.war import attack as find
    from nisd.optimise.war import check_harden, check_keep
    from nisd.optimise.war import fortify as harden
    from nisd.topology import build_graph

    check_plan_dataset(plan.to_json(), ds, "plan")
    if not plan.split:
        raise InputError(
            [
                Problem(
                    "plan",
                    "the plan serves each user whole (crisis.split = false): "
                    "the worst attack is exact for split load only",
                )
            ]
        )
    if objective not in ("critical-first", "total"):
        raise InputError([Problem("objective", f"{objective!r}: critical-first or total")])
    if method not in ("auto", "milp", "enumerate"):
        raise InputError([Problem("method", f"{method!r}: auto, milp or enumerate")])
    war = plan.config.war if plan.config is not None and plan.config.war.on else None
    keep = dict(keep) if keep is not None else dict(war.serve if war else {})
    check_keep(ds, keep, "keep")
    costs_h: dict[str, float] = {}
    if fortify:
        if not keep:
            raise InputError([Problem("keep", "fortify needs service levels to keep")])
        costs_h = dict(harden_cost or (war.harden_cost_msek if war else {}))
        check_harden(plan.sites.values(), costs_h, "harden_cost")
    classes = list(ds.config.criticality.levels)
    opts = SolverOptions(name=solver)
    g = build_graph(ds)
    sites = dict(plan.sites)
    assign = {d: list(v) for d, v in plan.assignments.items()} or None
    res = find(
        ds,
        g,
        sites,
        assign,
        budget=r,
        kinds=targets,
        costs=cost,
        top=top,
        objective="total" if objective == "total" else "critical-first",
        levels=[float(keep.get(c, 0.0)) for c in classes] if keep else None,
        opts=opts,
        method=cast("Method", method),
    )
    out = res.to_json()
    if fortify:
        out["fortify"] = harden(
            ds,
            g,
            sites,
            assign,
            budget=r,
            levels=keep,
            harden_cost=costs_h,
            kinds=targets,
            costs=cost,
            opts=opts,
        ).to_json()
    return out


def _on_disk(ds: Dataset, what: str) -> None:
    """Studies run their solves in worker processes, which read the data directory."""
    if load_dataset(ds.path).input_hash != ds.input_hash:
        raise InputError(
            [
                Problem(
                    "dataset",
                    f"{what} from the data directory on disk; this dataset is a variant "
                    "made in memory: write it to a directory first",
                )
            ]
        )


def sweep(
    ds: Dataset,
    scenario: str | Path | PlanConfig,
    vary: Mapping[str, Sequence[Any]],
    out: str | Path,
    *,
    workers: int | Workers | None = 1,
    maps: bool = False,
) -> pd.DataFrame:
    """Solve ``scenario`` for every combination of the ``vary`` values, as ``nisd sweep``.

    ``vary`` maps a key (``"p"``, ``"separation_km"``, a dotted key such as
    ``"crisis.capacity"``) to its values. Every point is validated before any is
    solved; each finished plan is written at once under ``out/points/``, and a second
    call with the same ``out`` solves only what is missing. Solves run on ``workers``
    processes, or on the kept processes of a :class:`~nisd.study.runner.Workers`;
    ``maps=True`` has each worker draw its plan's map page (``plan.html``) too.
    Returns the table (one row per point: parameters, status, cost, key figures,
    ``pareto``); a failing point is a row with ``status = "error"``.

    Raises
    ------
    ConfigError
        A point's configuration is invalid (every point is named).
    InputError
        ``ds`` is a variant made in memory.
    """
    from nisd.study.runner import run_tasks
    from nisd.study.sweep import check_points, grid, run_sweep

    _on_disk(ds, "a sweep solves")
    base = _config(scenario, {}).model_dump(mode="json")
    points = grid(base, {k: list(v) for k, v in vary.items()})
    check_points(points)
    return run_sweep(
        points,
        Path(out),
        Path(ds.path),
        lambda tasks: run_tasks(tasks, workers=workers),
        maps=maps,
    )


def explain(
    ds: Dataset,
    plan: Plan,
    *,
    rejected: int | None = 10,
    workers: int | Workers | None = 1,
) -> list[dict[str, Any]]:
    """Each opened site's regret and the cost of forcing in rejected candidates.

    Re-solves ``plan``'s scenario once per opened site (forbidden) and once per
    rejected candidate (required), the ``rejected`` nearest to the opened sites
    (``None``: every one), on ``workers`` processes or a
    :class:`~nisd.study.runner.Workers`. Records as ``nisd explain --json``: site,
    role, value, change against the plan, status, note ("essential" when no plan exists
    without the site; "not proved optimal" when a re-solve hit its time limit).

    Raises
    ------
    ConfigError
        The plan has no scenario parameters or no cost.
    InputError
        ``ds`` is a variant made in memory, or the plan does not match it.
    """
    from nisd.study.explain import explain_plan, nearest_rejected
    from nisd.study.runner import run_tasks, side_by_side

    check_plan_dataset(plan.to_json(), ds, "plan")
    _on_disk(ds, "explain re-solves")
    typed = plan if plan.dataset is not None else Plan.from_doc(plan.to_json(), ds)
    df = explain_plan(
        typed,
        str(Path(ds.path).resolve()),
        nearest_rejected(ds, sorted(plan.sites), rejected),
        lambda tasks: run_tasks(tasks, workers=workers),
        threads=1 if side_by_side(workers or 1) else None,
    )
    return cast(list[dict[str, Any]], json.loads(df.to_json(orient="records")))


def sensitivity(
    ds: Dataset, plan: Plan, *, workers: int | Workers | None = 1
) -> list[dict[str, Any]]:
    """Re-plan ``plan``'s scenario with each labelled assumption low and high.

    The variants (site type costs and capacities ± 20 %, every load ± 20 %, the cost
    factors' spread, judged hazard buffers, separation, protection levels) are written as
    copies of the data directory ``ds.path`` and planned on ``workers`` processes (or on
    the kept processes of a :class:`~nisd.study.runner.Workers`), each
    with the plan as a start (so a change of sites is a real change, not a tie broken
    anew). Records as ``nisd sensitivity --json``: assumption, side, value, cost,
    change, sites added / removed / retyped, most site-moving and largest swing first.

    Raises
    ------
    InputError
        ``ds`` is a variant made in memory (it cannot be copied from disk).
    ConfigError
        The plan has no scenario parameters or no cost.
    """
    import tempfile

    from nisd.study.runner import run_tasks, side_by_side
    from nisd.study.sensitivity import sensitivity_table

    check_plan_dataset(plan.to_json(), ds, "plan")
    _on_disk(ds, "sensitivity re-plans")
    with tempfile.TemporaryDirectory(prefix="nisd-sensitivity-") as work:
        return sensitivity_table(
            plan,
            ds,
            str(Path(ds.path).resolve()),
            lambda tasks: run_tasks(tasks, workers=workers),
            Path(work),
            threads=1 if side_by_side(workers or 1) else None,
        )
