"""The steering-group report and the comparison of plans, as self-contained HTML.

All text from data goes through :func:`html.escape`; charts are inline SVG
drawn here (no plotting library, nothing fetched).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from nisd.files import csv_text
from nisd.records.fees import Fees
from nisd.records.plan import ScenarioRow
from nisd.render.context import PlanView
from nisd.render.decision import (
    assumptions,
    class_shares,
    decision,
    indicators,
    levels_text,
    price_section,
    regret_of,
    scenario_groups,
)
from nisd.render.html import map_body, map_words, page
from nisd.render.i18n import EN, N_, Tr
from nisd.render.parts import REPORT_CSS, class_chart, table, tornado_svg
from nisd.render.payload import MapData, SiteMark
from nisd.render.words import class_rule, crisis_summary, meaning, war_summary

KPI_ROWS = [
    ("status", N_("status"), ""),
    ("objective", N_("objective"), ""),
    ("cost_msek", N_("cost"), "MSEK/year"),
    ("sites", N_("sites"), ""),
    ("mean_latency_ms", N_("mean latency"), "ms"),
    ("max_latency_ms", N_("max latency"), "ms"),
    ("min_separation_km", N_("smallest separation of any two opened sites"), "km"),
    ("min_backup_separation_km", N_("smallest separation of a user's primary and backup"), "km"),
    ("worst_case_share_served", N_("worst-case share served, required scenarios"), "share"),
    ("worst_all_share", N_("worst-case share served, every scenario shown"), "share"),
    ("service_levels_met", N_("crisis service levels met"), ""),
    ("capacity_racks", N_("racks built"), "racks"),
    ("primary_load_racks", N_("primary load"), "racks"),
    ("dedicated_backup_racks", N_("spare that dedicated (1+1) backup would reserve"), "racks"),
]

SIDES = {"low": N_("low value"), "high": N_("high value")}


def _figure(v: Any, unit: str, tr: Tr) -> str:
    if v is None:
        return tr("n/a")
    if isinstance(v, bool):
        return tr("yes") if v else tr("no")
    if unit == "share":
        return tr.pct(float(v))
    if isinstance(v, int | float):
        text = tr.num(v) if isinstance(v, float) else tr.g(v)
        return f"{text} {tr(unit)}" if unit else text
    return tr.lookup(str(v)) or str(v)


def report_page(
    view: PlanView,
    *,
    banner: str | None = None,
    tr: Tr = EN,
    fees: Fees | None = None,
    price: Sequence[Any] | None = None,
) -> str:
    """The steering group's report for one plan, in ``tr``'s language: the decision first,
    then the figures, the map, the sites, the crisis scenarios grouped, the assumptions in
    words, and an appendix with every scenario, the raw parameters and the run record."""
    plan, data = view.plan, view.data
    k = data.kpis
    sites = data.opened
    scen = sorted(view.rows, key=lambda r: (r.demand_served_share, r.scenario))
    classes = list(data.classes)
    site_names = view.site_names
    crisis_words = crisis_summary(view.rows[: view.required] or scen, classes, site_names, tr)
    if view.required and view.outside:
        crisis_words += [
            tr("Outside the requirements: ") + w
            for w in crisis_summary(view.outside, classes, site_names, tr)
            if not w.startswith(tr("All {what}", what="").strip())
        ]
    figures = k.to_json()
    if plan.objective is not None and plan.objective.value is not None:
        name = tr.lookup(plan.objective.name) or plan.objective.name
        figures["objective"] = f"{name}: {tr.num(plan.objective.value)}"
    kpi_rows = [(tr(label), _figure(figures.get(key), unit, tr)) for key, label, unit in KPI_ROWS]
    site_rows = [
        (
            s.name,
            s.id,
            s.county,
            s.zone,
            tr(s.type or ""),
            f"{tr.g(s.used)} / {tr.g(s.capacity)}",
            tr.g(s.backup_load),
            tr("n/a")
            if s.peak_load is None
            else f"{tr.g(s.peak_load)} ({s.peak_scenario or tr('no crisis needs more')})",
            tr.g(len(s.primary_for)),
            tr.g(len(s.backup_for)),
            tr("n/a") if s.hazard_km is None else f"{tr.g(s.hazard_km)} km",
            _regret_text(s, tr),
        )
        for s in sites
    ]
    scen_rows = [
        (
            r.scenario,
            meaning(r, site_names, tr),
            tr.pct(r.demand_served_share),
            *class_shares(r, classes, tr),
            levels_text(r.levels_met, tr),
            tr.g(len(r.unserved)),
            tr.g(len(r.partly_served)),
            tr.g(len(r.cut_off)),
            ", ".join(site_names.get(x, x) for x in r.full_sites) or "-",
        )
        for r in scen
    ]
    params = plan.run.parameters or {}
    raw = [
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
    title = tr("NISD plan report") + ": " + view.ds.config.name
    esc = html.escape
    body = (
        f'<div class="report"><style>{REPORT_CSS}</style><h1>{esc(title)}</h1>'
        + decision(view, tr, fees)
        + f"<h2>{esc(tr('Crisis results in words'))}</h2>"
        + "".join(f"<p>{esc(w)}</p>" for w in crisis_words)
        + f"<p>{esc(scenario_count(view, tr))}</p>"
        + f"<h2>{esc(tr('Key figures'))}</h2>{table([tr('figure'), tr('value')], kpi_rows)}"
        f"<h2>{esc(tr('Map'))}</h2>"
        + map_body(tr("Plan map"), tr("layers on the right; crisis view on the left"), tr)
        + f"<h2>{esc(tr('Opened sites'))}</h2>"
        + table(
            [
                tr("site"),
                tr("id"),
                tr("county"),
                tr("power zone"),
                tr("type"),
                tr("primary load / capacity"),
                tr("backed-up load"),
                tr("busiest crisis (racks, scenario)"),
                tr("primary for"),
                tr("backup for"),
                tr("nearest hazard"),
                tr("regret"),
            ],
            site_rows,
        )
        + "".join(f"<p>{esc(w)}</p>" for w in why_sites(view.data, tr))
        + _protection_section(view, tr)
        + _sensitivity_section(view, tr)
        + f"<h2>{esc(tr('Crisis scenarios'))}</h2>"
        + f"<p>{esc(class_rule(tr))}</p>"
        + scenario_groups(view, tr)
        + _chart(scen, classes, site_names, tr)
        + _war_section(view, tr)
        + price_section(price, view.classes, view.site_names, tr)
        + indicators(view, tr, fees)
        + f"<h2>{esc(tr('Assumptions'))}</h2><ul>"
        + "".join(f"<li>{esc(a)}</li>" for a in assumptions(view, tr))
        + "</ul>"
        + f"<h2>{esc(tr('Appendix'))}</h2>"
        + f"<details><summary>{esc(tr('Every scenario ({n})', n=len(scen)))}</summary>"
        + table(
            [
                tr("scenario"),
                tr("meaning"),
                tr("all load served"),
                *[tr("{cls} served", cls=tr(c)) for c in classes],
                tr("service levels"),
                tr("points losing all service"),
                tr("points partly served"),
                tr("points cut off"),
                tr("sites running full"),
            ],
            scen_rows,
        )
        + "</details>"
        + f"<details><summary>{esc(tr('Scenario parameters'))}</summary>"
        + table([tr("parameter"), tr("value")], raw)
        + "</details>"
        + f"<details><summary>{esc(tr('Run record'))}</summary>"
        + table([tr("item"), tr("value")], run_rows)
        + "</details></div>"
    )
    meanings = {r.meaning: meaning(r, site_names, tr) for r in view.rows if r.meaning}
    return page(
        title, body, payload=data, banner=banner, lang=tr.lang, words=map_words(tr, data, meanings)
    )


def _chart(
    scen: Sequence[ScenarioRow], classes: Sequence[str], names: Mapping[str, str], tr: Tr
) -> str:
    if not scen:
        return f"<p>{html.escape(tr('none evaluated'))}</p>"
    items = [(meaning(r, names, tr), r.demand_served_share, r.served_by_class) for r in scen[:40]]
    chart = class_chart(
        items, classes, labels=[tr("all load"), *[tr(c) for c in classes]], fmt_share=tr.pct
    )
    shown = tr("The {n} worst of {m} scenarios.", n=min(40, len(scen)), m=len(scen))
    return chart + f"<p>{html.escape(shown)}</p>"


def scenarios_csv(view: PlanView, tr: Tr = EN) -> str:
    """Every scenario a report shows, as CSV: required or not, its kind and meaning (in the
    page's language), the share of all load and of each class served, the levels."""
    classes = view.classes
    head = ["scenario", "required", "kind", "meaning", "served_share",
            *[f"served_{c}" for c in classes], "levels_met", "cut_off", "full_sites"]  # fmt: skip
    rows = [
        [
            r.scenario,
            n < view.required,
            r.kind,
            meaning(r, view.site_names, tr),
            round(r.demand_served_share, 9),
            *[None if (v := r.served(c)) is None else round(v, 9) for c in classes],
            r.levels_met,
            len(r.cut_off),
            " ".join(r.full_sites),
        ]
        for n, r in enumerate(view.rows)
    ]
    return csv_text(head, rows)


def scenario_count(view: PlanView, tr: Tr = EN) -> str:
    """How many scenarios the plan was checked against and how many more a page shows (one
    count for plan.json, the map and the report)."""
    outside = view.outside
    presets = sum(1 for r in outside if r.kind == "preset")
    attacks = sum(1 for r in outside if r.kind == "attack")
    other = len(outside) - presets - attacks
    parts = [tr.n("{n} crisis preset", "{n} crisis presets", presets)] if presets else []
    parts += [tr.n("{n} attack", "{n} attacks", attacks)] if attacks else []
    parts += (
        [tr.n("{n} scenario of the sets asked for", "{n} scenarios of the sets asked for", other)]
        if other
        else []
    )
    text = tr("The plan was checked against its {n} required crisis scenarios", n=view.required)
    if parts:
        text += tr("; also evaluated, outside its requirements: ") + ", ".join(parts)
    return text + "."


def _regret_text(s: SiteMark, tr: Tr) -> str:
    if s.regret is None:
        return tr("not computed (nisd explain)")
    if isinstance(s.regret, str):
        return tr(s.regret)
    return tr.num(float(s.regret))


def why_sites(data: MapData, tr: Tr = EN) -> list[str]:
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
            tr(
                "{name}: {type} site in {zone} at {cost} (cost factor {factor})",
                name=s.name,
                type=tr(s.type or ""),
                zone=s.zone or tr("no zone"),
                cost=tr.msek(s.cost_msek),
                factor=tr.g(s.cost_factor),
            ),
            tr(
                "primary for {p} user(s), backup for {b}",
                p=tr.g(len(s.primary_for)),
                b=tr.g(len(s.backup_for)),
            ),
        ]
        if need.get(s.id, 0) > 0 and types:
            parts.append(
                tr(
                    "holds load needing protection level {need} (its type gives {has})",
                    need=need[s.id],
                    has=types.get(s.type or "", 0),
                )
            )
        if s.hazard_km is not None:
            parts.append(
                tr("nearest hazard {name} at {km} km", name=s.hazard, km=tr.g(s.hazard_km))
            )
        regret = regret_of(s)
        if regret is not None and regret <= 1e-6:
            parts.append(
                tr(
                    "a plan of the same cost exists without it: cost alone does not pick this "
                    "town (a tie; the solver's choice among equally cheap plans)"
                )
            )
        elif regret is not None:
            parts.append(tr("forbidding it costs {cost} more", cost=tr.msek(regret)))
        elif s.regret is not None:
            parts.append(tr("without it: {why}", why=tr(str(s.regret))))
        out.append("; ".join(parts) + ".")
    return out


def protection_rows(data: MapData, tr: Tr = EN) -> list[list[Any]]:
    """Per protection level a user needs: users, racks, the site types protected enough, and
    the opened sites that hold such load (all from the page's own data)."""
    by_level: dict[int, list[Any]] = {}
    for d in data.demand:
        by_level.setdefault(d.protection, []).append(d)
    opened = {s.id: s for s in data.opened}
    rows = []
    for level in sorted(by_level, reverse=True):
        users = by_level[level]
        ok = sorted(tr(t) for t, p in data.protection.items() if p >= level)
        held = sorted({sid for d in users for sid in d.assigned})
        rows.append(
            [
                level,
                len(users),
                tr.g(sum(d.load for d in users)),
                ", ".join(ok) or tr("none"),
                ", ".join(
                    f"{opened[sid].name} ({tr(opened[sid].type or '')})"
                    for sid in held
                    if sid in opened
                )
                or "-",
            ]
        )
    return rows


def _protection_section(view: PlanView, tr: Tr) -> str:
    if not any(view.data.protection.values()):
        return ""
    return (
        f"<h2>{html.escape(tr('Protection: which load needs which site'))}</h2>"
        + table(
            [
                tr("level needed"),
                tr("users"),
                tr("racks"),
                tr("site types allowed"),
                tr("opened sites holding it"),
            ],
            protection_rows(view.data, tr),
        )
        + "<p>"
        + html.escape(
            tr(
                "A user's primary and backup sites must be built as a type of at least the "
                "level its load needs (site_types.csv protection; demand.csv protection)."
            )
        )
        + "</p>"
    )


def _sensitivity_section(view: PlanView, tr: Tr) -> str:
    if view.sensitivity is None or not view.sensitivity.variants:
        return ""
    rows = view.sensitivity.variants
    base = rows[0].base_cost
    moves = view.sensitivity.moving()
    words = (
        tr(
            "The chosen sites change when these assumptions change: {names}.",
            names=", ".join(moves),
        )
        if moves
        else tr("No assumption tried changes the chosen sites.")
    )
    listing = table(
        [
            tr("assumption"),
            tr("side"),
            tr("value"),
            tr("cost"),
            tr("change"),
            tr("sites added"),
            tr("sites removed"),
        ],
        [
            [
                r.assumption,
                tr(SIDES.get(r.side, r.side)),
                r.value,
                tr("no plan")
                if r.cost is None
                else tr.num(r.cost) + (f" ({r.note})" if r.note else ""),
                "" if r.change is None else ("+" if r.change > 0 else "") + tr.g(r.change),
                ", ".join(r.added) or "-",
                ", ".join(r.removed) or "-",
            ]
            for r in rows
        ],
    )
    return (
        f"<h2>{html.escape(tr('What the answer is most sensitive to'))}</h2>"
        + "<p>"
        + html.escape(
            words
            + " "
            + tr(
                "Each bar re-plans the scenario with one labelled assumption low (blue) or "
                "high (orange); ● marks assumptions that move the sites."
            )
        )
        + "</p>"
        + tornado_svg(rows, base)
        + listing
    )


def _war_section(view: PlanView, tr: Tr) -> str:
    """The worst attacks: what a robust plan was proved to survive, and each attack's toll."""
    if not view.attacks and not view.war_words:
        return ""
    classes = view.classes
    site_names = view.site_names
    by_name = {r.scenario: r for r in view.rows}
    rows = [
        (
            meaning(r, site_names, tr),
            tr.pct(r.demand_served_share),
            *class_shares(r, classes, tr),
            levels_text(r.levels_met, tr),
            tr.g(len(r.unserved)),
            tr.g(len(r.cut_off)),
            ", ".join(site_names.get(x, x) for x in r.full_sites) or "-",
        )
        for r in (by_name[n] for n in view.attacks if n in by_name)
    ]
    war = view.plan.run.war
    words = war_summary(war, classes, site_names, tr) if war is not None else []
    return (
        f"<h2>{html.escape(tr('War: the worst attacks'))}</h2>"
        + "".join(f"<p>{html.escape(w)}</p>" for w in words)
        + "<p>"
        + html.escape(
            tr(
                "The worst attacks on one and two targets (opened sites, backbone nodes, "
                "fibre trenches) are found exactly by nisd attack; each row is the "
                "served-load evaluator's figure after the attack."
            )
        )
        + "</p>"
        + table(
            [
                tr("attack (targets taken out)"),
                tr("all load served"),
                *[tr("{cls} served", cls=tr(c)) for c in classes],
                tr("service levels"),
                tr("points losing all service"),
                tr("points cut off"),
                tr("sites running full"),
            ],
            rows,
        )
    )
