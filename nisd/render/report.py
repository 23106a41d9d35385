"""The steering-group report and the comparison of plans, as self-contained HTML.

All text from data goes through :func:`html.escape`; charts are inline SVG
drawn here (no plotting library, nothing fetched).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from nisd.records.plan import ScenarioRow
from nisd.render.context import PlanView
from nisd.render.html import map_body, page
from nisd.render.parts import REPORT_CSS, class_chart, fmt, table, tornado_svg
from nisd.render.payload import MapData, SiteMark
from nisd.render.words import CLASS_RULE, crisis_summary

KPI_ROWS = [
    ("status", "status", ""),
    ("objective", "objective", ""),
    ("cost_msek", "cost", " MSEK/year"),
    ("sites", "sites", ""),
    ("mean_latency_ms", "mean latency", " ms"),
    ("max_latency_ms", "max latency", " ms"),
    ("min_separation_km", "smallest separation of any two opened sites", " km"),
    ("min_backup_separation_km", "smallest separation of a user's primary and backup", " km"),
    ("worst_case_share_served", "worst-case share served, required scenarios", ""),
    ("worst_all_share", "worst-case share served, every scenario shown", ""),
    ("service_levels_met", "crisis service levels met", ""),
    ("capacity_racks", "racks built", ""),
    ("primary_load_racks", "primary load", " racks"),
    ("dedicated_backup_racks", "spare that dedicated (1+1) backup would reserve", " racks"),
]


def _shares(r: ScenarioRow, classes: Sequence[str]) -> list[str]:
    return ["n/a" if (v := r.served(c)) is None else f"{v:.1%}" for c in classes]


LEVELS = {True: "met", False: "NOT met", None: "-"}


def report_page(view: PlanView, *, banner: str | None = None) -> str:
    """The steering group's report for one plan."""
    plan, data = view.plan, view.data
    k = data.kpis
    sites = data.opened
    scen = sorted(view.rows, key=lambda r: (r.demand_served_share, r.scenario))
    status = plan.status.value
    proof = (
        "proved optimal by the solver"
        if status == "optimal"
        else f"feasible, not proved optimal (gap {fmt(plan.gap)})"
        if status == "feasible"
        else status
    )
    worst = scen[0] if scen else None
    names = ", ".join(f"{s.name} ({s.type})" for s in sites)
    words = (
        f"The plan opens {len(sites)} sites: {names}. It costs {fmt(k.cost_msek)} MSEK "
        f"a year and serves every demand point from a primary site and its backups within their "
        f"latency bounds (mean {fmt(k.mean_latency_ms, ' ms')}, worst "
        f"{fmt(k.max_latency_ms, ' ms')}). The plan is {proof}."
    )
    classes = list(data.classes)
    site_names = data.site_names()
    if worst:
        words += (
            " "
            + scenario_count(view)
            + (
                " (served load counts only what the surviving sites can hold, within each user's "
                f"crisis latency bound). The worst of them all for all load is “{worst.scenario}”, "
                f"after which {worst.demand_served_share:.1%} of the load is still served"
                + ("" if worst in view.rows[: view.required] else ", outside the requirements")
                + "."
            )
        )
        met = [r for r in view.rows[: view.required] if r.levels_met is not None]
        if met:
            missed = [r.scenario for r in met if r.levels_met is False]
            words += (
                f" The plan's service levels hold in all {len(met)} scenarios that set them."
                if not missed
                else f" The service levels are NOT met in {len(missed)} scenario(s): "
                + ", ".join(missed[:5])
                + "."
            )
    crisis_words = crisis_summary(view.rows[: view.required] or scen, classes, site_names)
    if view.required and view.outside:
        crisis_words += [
            "Outside the requirements, w" + w[1:]
            for w in crisis_summary(view.outside, classes, site_names)
            if w.startswith("Worst for ")
        ]
    figures = k.to_json()
    kpi_rows = [
        (label, fmt(figures.get(key), unit, pct="share" in key)) for key, label, unit in KPI_ROWS
    ]
    site_rows = [
        (
            s.name,
            s.id,
            s.county,
            s.zone,
            s.type,
            f"{s.used:g} / {fmt(s.capacity)}",
            fmt(s.backup_load),
            "n/a"
            if s.peak_load is None
            else f"{s.peak_load:g} ({s.peak_scenario or 'no crisis needs more'})",
            len(s.primary_for),
            len(s.backup_for),
            fmt(s.hazard_km, " km"),
            "not computed (nisd explain)" if s.regret is None else fmt(s.regret),
        )
        for s in sites
    ]
    scen_rows = [
        (
            r.scenario,
            r.meaning,
            f"{r.demand_served_share:.1%}",
            *_shares(r, classes),
            LEVELS[r.levels_met],
            len(r.unserved),
            len(r.partly_served),
            len(r.cut_off),
            ", ".join(site_names.get(x, x) for x in r.full_sites) or "-",
        )
        for r in scen
    ]
    params = plan.run.parameters or {}
    assumptions = [
        (key, json.dumps(v, ensure_ascii=False, sort_keys=True))
        for key, v in sorted(params.items())
    ]
    run = plan.run.to_json()
    run_rows = [
        (key, json.dumps(run.get(key), ensure_ascii=False))
        for key in (
            "solver",
            "solver_version",
            "threads",
            "seed",
            "time_limit",
            "gap_limit",
            "hit_limit",
            "build_seconds",
            "solve_seconds",
            "wall_seconds",
            "nisd_version",
            "input_hash",
            "data_dir",
            "scenario_file",
        )
    ]
    run_rows += [(f"file {n}", h) for n, h in sorted(plan.run.input_files.items())]
    title = data.title
    body = (
        f'<div class="report"><style>{REPORT_CSS}</style><h1>{html.escape(title)}</h1>'
        f"<h2>Summary</h2><p>{html.escape(words)}</p>"
        + "".join(f"<p>{html.escape(w)}</p>" for w in crisis_words)
        + f"<h2>Key figures</h2>{table(['figure', 'value'], kpi_rows)}"
        f"<h2>Map</h2>{map_body('Plan map', 'layers on the right; crisis view on the left')}"
        f"<h2>Opened sites</h2>"
        + table(
            [
                "site",
                "id",
                "county",
                "power zone",
                "type",
                "primary load / capacity",
                "backed-up load",
                "busiest crisis (racks, scenario)",
                "primary for",
                "backup for",
                "nearest hazard",
                "regret",
            ],
            site_rows,
        )
        + "".join(f"<p>{html.escape(w)}</p>" for w in why_sites(view.data))
        + _protection_section(view)
        + _sensitivity_section(view)
        + "<h2>Crisis scenarios</h2>"
        + f"<p>{html.escape(CLASS_RULE)}</p>"
        + (
            class_chart(
                [(r.scenario, r.demand_served_share, r.served_by_class) for r in scen[:40]],
                classes,
            )
            + (f"<p>The {min(40, len(scen))} worst of {len(scen)} scenarios.</p>")
            if scen
            else "<p>none evaluated</p>"
        )
        + table(
            [
                "scenario",
                "meaning",
                "all load served",
                *[f"{c} served" for c in classes],
                "service levels",
                "points losing all service",
                "points partly served",
                "points cut off",
                "sites running full",
            ],
            scen_rows,
        )
        + _war_section(view)
        + "<h2>Assumptions (scenario parameters)</h2>"
        + table(["parameter", "value"], assumptions)
        + "<h2>Run record</h2>"
        + table(["item", "value"], run_rows)
        + "</div>"
    )
    return page(title, body, payload=data, banner=banner)


def scenario_count(view: PlanView) -> str:
    """How many scenarios the plan was checked against and how many more a page shows (one
    count for plan.json, the map and the report)."""
    outside = view.outside
    presets = sum(1 for r in outside if r.kind == "preset")
    attacks = sum(1 for r in outside if r.kind == "attack")
    other = len(outside) - presets - attacks
    parts = [f"{presets} crisis preset(s)"] if presets else []
    parts += [f"{attacks} attack(s)"] if attacks else []
    parts += [f"{other} scenario(s) of the sets asked for"] if other else []
    text = f"The plan was checked against its {view.required} required crisis scenarios"
    if parts:
        text += "; also evaluated, outside its requirements: " + ", ".join(parts)
    return text


def _regret(s: SiteMark) -> float | None:
    return float(s.regret) if isinstance(s.regret, int | float) else None


def why_sites(data: MapData) -> list[str]:
    """One sentence per opened site: what it costs and why, whom it serves, what protection
    it gives, the nearest hazard and its regret (all from the page's own data)."""
    need: dict[str, int] = {}
    for d in data.demand:
        for sid in d.assigned:
            need[sid] = max(need.get(sid, 0), d.protection)
    types = data.protection
    out = []
    for s in data.opened:
        parts = [
            f"{s.name}: {s.type} site in {s.zone or 'no zone'} at "
            f"{fmt(s.cost_msek)} MSEK/yr (cost factor {s.cost_factor:g})",
            f"primary for {len(s.primary_for)} user(s), backup for {len(s.backup_for)}",
        ]
        if need.get(s.id, 0) > 0 and types:
            parts.append(
                f"holds load needing protection level {need[s.id]} "
                f"(its type gives {types.get(s.type or '', 0)})"
            )
        if s.hazard_km is not None:
            parts.append(f"nearest hazard {s.hazard} at {s.hazard_km:g} km")
        regret = _regret(s)
        if regret is not None and regret <= 1e-6:
            parts.append(
                "a plan of the same cost exists without it: cost alone does not pick this "
                "town (a tie; the solver's choice among equally cheap plans)"
            )
        elif regret is not None:
            parts.append(f"forbidding it costs {fmt(regret)} MSEK/yr more")
        elif s.regret is not None:
            parts.append(f"without it: {s.regret}")
        out.append("; ".join(parts) + ".")
    return out


def protection_rows(data: MapData) -> list[list[Any]]:
    """Per protection level a user needs: users, racks, the site types protected enough, and
    the opened sites that hold such load (all from the page's own data)."""
    by_level: dict[int, list[Any]] = {}
    for d in data.demand:
        by_level.setdefault(d.protection, []).append(d)
    opened = {s.id: s for s in data.opened}
    rows = []
    for level in sorted(by_level, reverse=True):
        users = by_level[level]
        ok = sorted(t for t, p in data.protection.items() if p >= level)
        held = sorted({sid for d in users for sid in d.assigned})
        rows.append(
            [
                level,
                len(users),
                fmt(sum(d.load for d in users)),
                ", ".join(ok) or "none",
                ", ".join(
                    f"{opened[sid].name} ({opened[sid].type})" for sid in held if sid in opened
                )
                or "-",
            ]
        )
    return rows


def _protection_section(view: PlanView) -> str:
    if not any(view.data.protection.values()):
        return ""
    return (
        "<h2>Protection: which load needs which site</h2>"
        + table(
            ["level needed", "users", "racks", "site types allowed", "opened sites holding it"],
            protection_rows(view.data),
        )
        + (
            "<p>A user's primary and backup sites must be built as a type of at least the level "
            "its load needs (site_types.csv protection; demand.csv protection).</p>"
        )
    )


def _sensitivity_section(view: PlanView) -> str:
    if view.sensitivity is None or not view.sensitivity.variants:
        return ""
    rows = view.sensitivity.variants
    base = rows[0].base_cost
    moves = view.sensitivity.moving()
    words = (
        "The chosen sites change when these assumptions change: " + ", ".join(moves) + "."
        if moves
        else "No assumption tried changes the chosen sites."
    )
    listing = table(
        ["assumption", "side", "value", "cost", "change", "sites added", "sites removed"],
        [
            [
                r.assumption,
                r.side,
                r.value,
                "no plan" if r.cost is None else fmt(r.cost) + (f" ({r.note})" if r.note else ""),
                "" if r.change is None else f"{r.change:+g}",
                ", ".join(r.added) or "-",
                ", ".join(r.removed) or "-",
            ]
            for r in rows
        ],
    )
    return (
        "<h2>What the answer is most sensitive to</h2>"
        f"<p>{html.escape(words)} Each bar re-plans the scenario with one labelled assumption "
        "low (blue) or high (orange); ● marks assumptions that move the sites.</p>"
        + tornado_svg(rows, base)
        + listing
    )


def _war_section(view: PlanView) -> str:
    """The worst attacks: what a robust plan was proved to survive, and each attack's toll."""
    if not view.attacks and not view.war_words:
        return ""
    classes = view.classes
    site_names = view.data.site_names()
    by_name = {r.scenario: r for r in view.rows}
    rows = [
        (
            r.scenario.removeprefix("attack "),
            f"{r.demand_served_share:.1%}",
            *_shares(r, classes),
            LEVELS[r.levels_met],
            len(r.unserved),
            len(r.cut_off),
            ", ".join(site_names.get(x, x) for x in r.full_sites) or "-",
        )
        for r in (by_name[n] for n in view.attacks if n in by_name)
    ]
    return (
        "<h2>War: the worst attacks</h2>"
        + "".join(f"<p>{html.escape(w)}</p>" for w in view.war_words)
        + "<p>Attacks are found by an exact interdiction programme (nisd attack), not by "
        "listing them; each row is the served-load evaluator's figure after the attack.</p>"
        + table(
            [
                "attack (targets taken out)",
                "all load served",
                *[f"{c} served" for c in classes],
                "service levels",
                "points losing all service",
                "points cut off",
                "sites running full",
            ],
            rows,
        )
    )
