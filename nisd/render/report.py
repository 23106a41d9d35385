"""The steering-group report and the comparison of plans, as self-contained HTML.

All text from data goes through :func:`html.escape`; charts are inline SVG
drawn here (no plotting library, nothing fetched).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from nisd.records.plan import ScenarioRow
from nisd.records.study import Variant
from nisd.render.context import PlanView
from nisd.render.html import map_body, page
from nisd.render.payload import MapData, SiteMark
from nisd.render.words import crisis_summary

KPI_ROWS = [
    ("status", "status", ""),
    ("objective", "objective", ""),
    ("cost_msek", "cost", " MSEK/year"),
    ("sites", "sites", ""),
    ("mean_latency_ms", "mean latency", " ms"),
    ("max_latency_ms", "max latency", " ms"),
    ("min_separation_km", "smallest separation of any two opened sites", " km"),
    ("min_backup_separation_km", "smallest separation of a user's primary and backup", " km"),
    ("worst_case_share_served", "worst-case share served", ""),
    ("service_levels_met", "crisis service levels met", ""),
    ("capacity_racks", "racks built", ""),
    ("primary_load_racks", "primary load", " racks"),
    ("dedicated_backup_racks", "spare that dedicated (1+1) backup would reserve", " racks"),
]


def _fmt(v: Any, unit: str = "", pct: bool = False) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, (int, float)) and not isinstance(v, bool) and pct:
        return f"{v:.1%}"
    if isinstance(v, float):
        return f"{v:,.2f}{unit}".replace(",", " ")
    return f"{v}{unit}"


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "data") -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


CLASS_COLOURS = ("#b5179e", "#f4a261", "#8d99ae", "#6c757d", "#adb5bd")


def class_chart(
    items: Sequence[tuple[str, float, Mapping[str, float | None]]],
    classes: Sequence[str],
    width: int = 760,
) -> str:
    """Per scenario: a bar for all load and one per criticality class, as inline SVG."""
    left, right, bar = 300, 60, 7
    n = 1 + len(classes)
    row = bar * n + 6
    h = row * len(items) + 44
    inner = width - left - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
        'role="img" aria-label="share of load served per scenario and class" '
        'font-family="system-ui, sans-serif" font-size="11">'
    ]
    for x in (0.0, 0.5, 1.0):
        px = left + inner * x
        parts.append(
            f'<line x1="{px:.1f}" y1="0" x2="{px:.1f}" y2="{h - 34}" stroke="#ccc"/>'
            f'<text x="{px:.1f}" y="{h - 22}" text-anchor="middle">{x:.0%}</text>'
        )
    colours = ("#264653", *CLASS_COLOURS)
    for i, (label, share, by) in enumerate(items):
        y0 = i * row + 2
        short = label if len(label) <= 48 else label[:47] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y0 + row * 0.55:.1f}" text-anchor="end">'
            f"{html.escape(short)}</text>"
        )
        values = [share, *[by.get(c) for c in classes]]
        for k, v in enumerate(values):
            if v is None:
                continue
            y = y0 + k * bar
            parts.append(
                f'<rect x="{left}" y="{y}" width="{inner * max(0.0, min(1.0, v)):.1f}" '
                f'height="{bar - 1}" fill="{colours[k % len(colours)]}"/>'
            )
        parts.append(
            f'<text x="{left + inner * min(1.0, share) + 4:.1f}" y="{y0 + bar - 1}">'
            f"{share:.1%}</text>"
        )
    legend_y = h - 8
    for k, name in enumerate(["all load", *classes]):
        x = left + k * 110
        parts.append(
            f'<rect x="{x}" y="{legend_y - 8}" width="10" height="8" '
            f'fill="{colours[k % len(colours)]}"/>'
            f'<text x="{x + 14}" y="{legend_y}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


REPORT_CSS = """
.report { max-width: 1100px; margin: 0 auto; padding: 12px 20px 40px; font-size: 14px; }
.report #wrap { height: 640px; border: 1px solid #ccc; }
table.data { border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; }
table.data th, table.data td { border-bottom: 1px solid #ddd; padding: 3px 10px 3px 0;
  text-align: left; vertical-align: top; }
"""


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
        else f"feasible, not proved optimal (gap {_fmt(plan.gap)})"
        if status == "feasible"
        else status
    )
    worst = scen[0] if scen else None
    names = ", ".join(f"{s.name} ({s.type})" for s in sites)
    words = (
        f"The plan opens {len(sites)} sites: {names}. It costs {_fmt(k.cost_msek)} MSEK "
        f"a year and serves every demand point from a primary site and its backups within their "
        f"latency bounds (mean {_fmt(k.mean_latency_ms, ' ms')}, worst "
        f"{_fmt(k.max_latency_ms, ' ms')}). The plan is {proof}."
    )
    classes = list(data.classes)
    site_names = data.site_names()
    if worst:
        words += (
            f" Of the {len(scen)} crisis scenarios evaluated (served load counts only what the"
            " surviving sites can hold, within each user's crisis latency bound), the worst for"
            f" all load is “{worst.scenario}”, after which {worst.demand_served_share:.1%} of "
            "the load is still served."
        )
        met = [r for r in scen if r.levels_met is not None]
        if met:
            missed = [r.scenario for r in met if r.levels_met is False]
            words += (
                f" The plan's service levels hold in all {len(met)} scenarios that set them."
                if not missed
                else f" The service levels are NOT met in {len(missed)} scenario(s): "
                + ", ".join(missed[:5])
                + "."
            )
    crisis_words = crisis_summary(scen, classes, site_names)
    figures = k.to_json()
    kpi_rows = [
        (label, _fmt(figures.get(key), unit, pct="share" in key)) for key, label, unit in KPI_ROWS
    ]
    site_rows = [
        (
            s.name,
            s.id,
            s.county,
            s.zone,
            s.type,
            f"{s.used:g} / {_fmt(s.capacity)}",
            _fmt(s.backup_load),
            "n/a"
            if s.peak_load is None
            else f"{s.peak_load:g} ({s.peak_scenario or 'no crisis needs more'})",
            len(s.primary_for),
            len(s.backup_for),
            _fmt(s.hazard_km, " km"),
            "not computed (nisd explain)" if s.regret is None else _fmt(s.regret),
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
        + f"<h2>Key figures</h2>{_table(['figure', 'value'], kpi_rows)}"
        f"<h2>Map</h2>{map_body('Plan map', 'layers on the right; crisis view on the left')}"
        f"<h2>Opened sites</h2>"
        + _table(
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
        + (
            class_chart(
                [(r.scenario, r.demand_served_share, r.served_by_class) for r in scen[:40]],
                classes,
            )
            + (f"<p>The {min(40, len(scen))} worst of {len(scen)} scenarios.</p>")
            if scen
            else "<p>none evaluated</p>"
        )
        + _table(
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
        + _table(["parameter", "value"], assumptions)
        + "<h2>Run record</h2>"
        + _table(["item", "value"], run_rows)
        + "</div>"
    )
    return page(title, body, payload=data, banner=banner)


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
            f"{_fmt(s.cost_msek)} MSEK/yr (cost factor {s.cost_factor:g})",
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
            parts.append(f"forbidding it costs {_fmt(regret)} MSEK/yr more")
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
                _fmt(sum(d.load for d in users)),
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
        + _table(
            ["level needed", "users", "racks", "site types allowed", "opened sites holding it"],
            protection_rows(view.data),
        )
        + (
            "<p>A user's primary and backup sites must be built as a type of at least the level "
            "its load needs (site_types.csv protection; demand.csv protection).</p>"
        )
    )


def tornado_svg(rows: Sequence[Variant], base: float, width: int = 640) -> str:
    """A tornado chart: per assumption, a bar from the plan's cost to its low and its high
    variant's cost; a variant without a plan is marked "no plan"; assumptions that move the
    sites are marked with a dot."""
    names = list(dict.fromkeys(r.assumption for r in rows))
    if not names:
        return ""
    costs = [r.cost for r in rows if r.cost is not None] + [base]
    lo, hi = min(costs), max(costs)
    span = max(hi - lo, 1e-9)
    left, right, row_h = 230, width - 70, 22

    def x(v: float) -> float:
        return left + (v - lo) / span * (right - left)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{row_h * len(names) + 40}" role="img" aria-label="tornado chart">'
    ]
    for n, name in enumerate(names):
        y = 10 + n * row_h
        mine = [r for r in rows if r.assumption == name]
        moves = any(r.changes_sites for r in mine)
        label = ("● " if moves else "") + name
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{html.escape(label)}</text>"
        )
        for r in mine:
            colour = "#4c78a8" if r.side == "low" else "#f58518"
            if r.cost is None:
                high = r.side == "high"
                parts.append(
                    f'<text x="{x(base) + (4 if high else -4):.1f}" y="{y + 14}" '
                    f'font-size="11" text-anchor="{"start" if high else "end"}" '
                    f'fill="{colour}">{r.side}: no plan</text>'
                )
                continue
            a, b = sorted((x(base), x(r.cost)))
            tip = html.escape(f"{name}, {r.side}: {r.value}, {r.cost:g} MSEK/yr")
            parts.append(
                f'<rect x="{a:.1f}" y="{y + 2}" width="{max(b - a, 1):.1f}" height="{row_h - 6}" '
                f'fill="{colour}"><title>{tip}</title></rect>'
            )
    y_axis = 10 + len(names) * row_h
    parts.append(
        f'<line x1="{x(base):.1f}" y1="6" x2="{x(base):.1f}" y2="{y_axis}" stroke="#333"/>'
        f'<text x="{x(base):.1f}" y="{y_axis + 14}" font-size="11" text-anchor="middle">'
        f"plan {base:g}</text>"
        f'<text x="{left}" y="{y_axis + 28}" font-size="11">{lo:g}</text>'
        f'<text x="{right}" y="{y_axis + 28}" font-size="11" text-anchor="end">{hi:g} MSEK/yr'
        "</text></svg>"
    )
    return "".join(parts)


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
    table = _table(
        ["assumption", "side", "value", "cost", "change", "sites added", "sites removed"],
        [
            [
                r.assumption,
                r.side,
                r.value,
                "no plan" if r.cost is None else _fmt(r.cost) + (f" ({r.note})" if r.note else ""),
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
        + table
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
        + _table(
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
