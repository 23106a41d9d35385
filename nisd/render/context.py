"""From a ``plan.json`` to what a page shows: its dataset, crisis scenarios and payload."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nisd.dataset import Dataset
from nisd.errors import InputError, Problem
from nisd.io import default_data_dir, load_dataset
from nisd.render import (
    DEFAULT_MAP_SETS,
    check_plan_dataset,
    read_attack_doc,
    read_plan_doc,
    read_regrets,
    read_sensitivity,
)
from nisd.render.html import map_page
from nisd.render.payload import build_payload
from nisd.render.report import compare_page
from nisd.render.words import war_summary
from nisd.result import Plan
from nisd.topology import build_graph
from nisd.topology.scenarios import Scenario, parse_sets, scenario_sets


def plan_data_dir(doc: dict[str, Any], override: Path | None) -> Path:
    """``--data`` when given, else the directory the plan was made from, else the default."""
    return override or Path((doc.get("run") or {}).get("data_dir") or default_data_dir())


def load_plan(plan_path: Path, data_dir: Path | None = None) -> tuple[Plan, Dataset]:
    """A checked plan file as a :class:`Plan`, with the dataset it was made from
    (``data_dir`` overrides), its sites, types and users checked against it."""
    doc = read_plan_doc(plan_path)
    ds = load_dataset(plan_data_dir(doc, data_dir))
    check_plan_dataset(doc, ds, plan_path)
    return Plan.from_doc(doc, ds, str(plan_path)), ds


def _pair(target: str) -> tuple[str, str]:
    kind, _, ident = target.partition(":")
    return kind, ident


def attack_scenarios(ds: Dataset, plan: Plan, attack_file: Path | None = None) -> list[Scenario]:
    """The attacks a page shows: those a robust plan was planned against, its worst attack
    (``run.war``), and the attacks of an ``nisd attack --out`` file, once each, in that order.

    Raises
    ------
    InputError
        The attack file is unreadable or names a site, node or shared-risk group the
        dataset does not have.
    """
    from nisd.optimise.interdict import Target, attack_scenario

    war = plan.run.get("war") or {}
    found = [
        [_pair(str(t)) for t in it["attack"]]
        for it in war.get("iterations") or []
        if it.get("attack")
    ]
    worst = (war.get("worst_attack") or {}).get("targets")
    if worst:
        found.append([_pair(str(t)) for t in worst])
    if attack_file is not None:
        found += read_attack_doc(attack_file)
    known = {
        "site": set(ds.site_ids),
        "node": set(ds.node_by_id),
        "srlg": {grp for lk in ds.links for grp in lk.srlg},
    }
    problems = [
        Problem(str(attack_file or "plan"), f"attack target {k}:{i} is not in the dataset")
        for one in found
        for k, i in one
        if i not in known.get(k, set())
    ]
    if problems:
        raise InputError(problems)
    out: dict[str, Scenario] = {}
    for one in found:
        sc = attack_scenario([Target(k, i) for k, i in one])
        out.setdefault(sc.name, sc)
    return list(out.values())


def plan_payload(
    plan_path: Path,
    data_dir: Path | None,
    sets: str | None,
    title: str,
    redact: bool,
    attack_file: Path | None = None,
) -> tuple[Plan, dict[str, Any], list[str]]:
    """The plan, the page payload (with crisis view, attacks and regrets), and the sets used."""
    plan, ds = load_plan(plan_path, data_dir)
    payload, chosen = _payload(plan, ds, plan_path, sets, title, redact, attack_file)
    return plan, payload, chosen


def _payload(
    plan: Plan,
    ds: Dataset,
    plan_path: Path | None,
    sets: str | None,
    title: str,
    redact: bool,
    attack_file: Path | None,
) -> tuple[dict[str, Any], list[str]]:
    """A checked plan's page payload; the regrets and sensitivity beside ``plan_path``
    (none for a plan not written yet)."""
    chosen = parse_sets(sets) if sets else (plan.crisis_sets or list(DEFAULT_MAP_SETS))
    scen = scenario_sets(ds, build_graph(ds), chosen, sorted(plan.sites))
    attacks = attack_scenarios(ds, plan, attack_file)
    names = {sc.name for sc in scen}
    scen += [sc for sc in attacks if sc.name not in names]
    classes = list(ds.config.criticality.levels)
    war = plan.config.war if plan.config is not None and plan.config.war.on else None
    # a robust plan's attacks are checked against its [war] levels
    war_levels = (
        {sc.name: [float(war.serve.get(c, 0.0)) for c in classes] for sc in attacks}
        if war is not None
        else {}
    )
    payload = build_payload(
        ds,
        plan,
        scen,
        title=f"{title}: {ds.config.name}",
        redact=redact,
        regrets=read_regrets(plan_path) if plan_path is not None else {},
        extra_levels=war_levels,
    )
    payload["sensitivity"] = read_sensitivity(plan_path) if plan_path is not None else []
    payload["war"] = {
        "summary": war_summary(
            plan.run.get("war"),
            list(ds.config.criticality.levels),
            {s.site_id: s.name for s in ds.sites},
        ),
        "attacks": [sc.name for sc in attacks],
    }
    return payload, chosen


def render_plan_map(
    plan_path: Path,
    data_dir: Path | None,
    sets: str | None,
    banner: str | None,
    redact: bool,
    tiles: str | None,
    attack_file: Path | None = None,
) -> str:
    """The self-contained map page of a ``plan.json`` (``nisd map``, ``plan --map``, sweeps)."""
    if tiles is not None and not tiles.startswith("https://"):
        raise InputError([Problem("tiles", "must be an https:// URL template")])
    plan, ds = load_plan(plan_path, data_dir)
    return _map_page(plan, ds, plan_path, sets, banner, redact, tiles, attack_file)


def plan_doc_map(doc: dict[str, Any], ds: Dataset) -> str:
    """The map page of a plan document not written yet, as ``nisd map`` would draw it
    from the file (a sweep's worker draws its plan's map beside the solve)."""
    check_plan_dataset(doc, ds, "plan")
    plan = Plan.from_doc(json.loads(json.dumps(doc)), ds, "plan")
    return _map_page(plan, ds, None, None, None, False, None, None)


def _map_page(
    plan: Plan,
    ds: Dataset,
    plan_path: Path | None,
    sets: str | None,
    banner: str | None,
    redact: bool,
    tiles: str | None,
    attack_file: Path | None,
) -> str:
    payload, chosen = _payload(plan, ds, plan_path, sets, "NISD plan", redact, attack_file)
    sub = f"{len(plan.sites)} sites; scenarios: {', '.join(chosen)}" + (
        "; positions redacted to county" if redact else ""
    )
    return map_page(payload, banner=banner, tiles=tiles, subtitle=sub)


def comparison_page(
    ds: Dataset,
    named: Sequence[tuple[str, Plan]],
    rows: list[dict[str, Any]],
    changes: list[dict[str, Any]],
    *,
    banner: str | None = None,
) -> str:
    """One overlay map of several plans' sites (kept, added, removed against the first),
    with the key figures side by side."""
    union: dict[str, str] = {}
    for c in changes:
        for s in c["kept"]:
            union[s] = "kept"
        for s in c["added"]:
            union.setdefault(s, "added")
        for s in c["removed"]:
            union.setdefault(s, "removed")
    overlay = Plan.from_doc(
        {"sites": [{"site_id": s, "type": t} for s, t in sorted(union.items())]}, ds
    )
    payload = build_payload(
        ds, overlay, (), title="Comparison of plans: " + ", ".join(n for n, _ in named)
    )
    return compare_page(payload, rows, changes, banner=banner)
