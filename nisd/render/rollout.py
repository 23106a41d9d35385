"""A roll-out on a page: the map with a year control, the timeline, readiness, spending
against the budget and the fees, every figure read from ``rollout.json`` (and
``fees.json`` when ``nisd fees`` wrote one beside it)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nisd.dataset import Dataset
from nisd.io.planfile import write_atomic
from nisd.io.rolloutfile import in_construction, schedule_phrase
from nisd.render.html import map_body, map_page, page
from nisd.render.payload import build_payload
from nisd.render.report import REPORT_CSS, _fmt, _table
from nisd.result import Plan

FEES_FILE = "fees.json"


def union_plan(ds: Dataset, doc: Mapping[str, Any]) -> Plan:
    """Every site ever in service (its type) with the last year's assignments."""
    last = doc["years"][-1]
    sites = {s["site_id"]: s["type"] for s in doc["sites"]}
    return Plan.from_doc(
        {
            "status": doc.get("status"),
            "objective": doc.get("objective"),
            "sites": [{"site_id": s, "type": t} for s, t in sorted(sites.items())],
            "assignments": last["assignments"],
            "kpis": last.get("kpis") or {},
            "run": {k: v for k, v in (doc.get("run") or {}).items() if k != "parameters"},
        },
        ds,
    )


def rollout_payload(
    ds: Dataset, doc: Mapping[str, Any], *, title: str, redact: bool = False
) -> dict[str, Any]:
    """The map payload of a roll-out: all its sites, and per year what is in service, being
    built and on board, with the year's assignment lines."""
    payload = build_payload(ds, union_plan(ds, doc), (), title=title, redact=redact)
    pos = {s["id"]: (s["lat"], s["lon"]) for s in payload["sites"]}
    pos.update({d["id"]: (d["lat"], d["lon"]) for d in payload["demand"]})
    years = []
    for y in doc["years"]:
        building = in_construction(doc, y["year"])
        lines = [
            {"demand": d, "site": s, "rank": r, "coords": [list(pos[d]), list(pos[s])]}
            for d, seq in sorted(y["assignments"].items())
            for r, s in enumerate(seq)
            if d in pos and s in pos
        ]
        holds = [s for s, ok in (y.get("readiness") or {}).get("holds", {}).items() if ok]
        years.append(
            {
                "year": y["year"],
                "sites": y["sites"],
                "building": sorted(building),
                "assigned": y["assignments"],
                "lines": lines,
                "holds": holds,
            }
        )
    payload["years"] = years
    t = doc.get("totals") or {}
    payload["kpis"] = {
        **payload["kpis"],
        "status": doc.get("status"),
        "gap": doc.get("gap"),
        "objective": f"discounted cost {t.get('discounted_cost_msek')} MSEK",
    }
    return payload


def gantt_svg(schedule: Sequence[Mapping[str, Any]], years: Sequence[int], width: int = 720) -> str:
    """Construction (light, hatched) and service (solid) per site, one row each."""
    if not schedule or not years:
        return "<p>No site is built or in service.</p>"
    left, row, top = 170, 24, 26
    y0, y1 = years[0], years[-1] + 1
    scale = (width - left - 10) / (y1 - y0)
    height = top + row * len(schedule) + 10
    parts = [
        f'<svg class="gantt" role="img" aria-label="timeline of construction and service" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for y in years:
        x = left + (y - y0) * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 6}" stroke="#dee2e6"/>'
            f'<text x="{x + scale / 2:.1f}" y="{top - 10}" text-anchor="middle" '
            f'font-size="11">{y}</text>'
        )
    for n, s in enumerate(schedule):
        yy = top + n * row
        label = f"{s.get('name', s['site_id'])} ({s['type']})"
        parts.append(
            f'<text x="{left - 6}" y="{yy + 15}" text-anchor="end" font-size="12">'
            f"{html.escape(label)}</text>"
        )
        cf = s.get("construction_from")
        if cf is not None and cf < s["in_service_from"]:
            a = left + (max(cf, y0) - y0) * scale
            b = left + (s["in_service_from"] - y0) * scale
            parts.append(
                f'<rect class="building" x="{a:.1f}" y="{yy + 4}" width="{b - a:.1f}" '
                f'height="{row - 8}" fill="#ffe8cc" stroke="#f08c00" stroke-dasharray="3 2">'
                f"<title>{html.escape(label)}: construction {cf}–{s['in_service_from'] - 1}"
                "</title></rect>"
            )
        a = left + (s["in_service_from"] - y0) * scale
        b = left + (s["in_service_to"] + 1 - y0) * scale
        color = "#1f4e9c" if s["type"] == "core" else "#2a9d8f"
        parts.append(
            f'<rect class="service" x="{a:.1f}" y="{yy + 4}" width="{b - a:.1f}" '
            f'height="{row - 8}" fill="{color}"><title>{html.escape(label)}: in service '
            f"{s['in_service_from']}–{s['in_service_to']}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def spending_svg(doc: Mapping[str, Any], width: int = 720) -> str:
    """Capital and running cost per year (stacked bars) against the capital budget (tick)."""
    years = doc["years"]
    top = max(
        [y["cost_msek"]["total"] for y in years]
        + [y["budget_msek"]["capital"] or 0.0 for y in years]
        + [1.0]
    )
    height, left, bottom = 220, 50, 24
    bw = (width - left - 10) / len(years)
    scale = (height - bottom - 10) / top
    parts = [
        f'<svg class="spending" role="img" aria-label="spending per year against the budget" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for n, y in enumerate(years):
        x = left + n * bw
        cap, run = y["cost_msek"]["capital"], y["cost_msek"]["running"]
        base = height - bottom
        hc, hr = cap * scale, run * scale
        parts.append(
            f'<rect x="{x + 4:.1f}" y="{base - hc:.1f}" width="{bw - 8:.1f}" height="{hc:.1f}" '
            f'fill="#f08c00"><title>{y["year"]}: capital {cap:.1f} MSEK</title></rect>'
            f'<rect x="{x + 4:.1f}" y="{base - hc - hr:.1f}" width="{bw - 8:.1f}" '
            f'height="{hr:.1f}" fill="#1f4e9c"><title>{y["year"]}: running {run:.1f} MSEK'
            "</title></rect>"
            f'<text x="{x + bw / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="11">'
            f"{y['year']}</text>"
        )
        budget = y["budget_msek"]["capital"]
        if budget is not None:
            by = base - budget * scale
            parts.append(
                f'<line class="budget" x1="{x + 2:.1f}" y1="{by:.1f}" x2="{x + bw - 2:.1f}" '
                f'y2="{by:.1f}" stroke="#d00000" stroke-width="2"><title>{y["year"]}: capital '
                f"budget {budget:g} MSEK</title></line>"
            )
    parts.append(
        '<text x="4" y="14" font-size="11">MSEK (orange: capital, blue: running, red: capital '
        "budget)</text></svg>"
    )
    return "".join(parts)


def read_fees(path: Path) -> dict[str, Any] | None:
    """``fees.json`` beside a roll-out or plan, when ``nisd fees`` wrote one."""
    f = Path(path).parent / FEES_FILE
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _fees_section(fees: Mapping[str, Any] | None) -> str:
    if not fees or fees.get("kind") != "rollout":
        return (
            "<h2>Fees</h2><p>Not computed: run <code>nisd fees ROLLOUT --method "
            "load|reserved|shapley</code> and write the report again.</p>"
        )
    rows = [
        (
            y["year"],
            _fmt(y["cost_msek"]),
            _fmt(y["fee_income_msek"]),
            _fmt(y["balance_msek"]),
        )
        for y in fees["years"]
    ]
    last = next((y for y in reversed(fees["years"]) if y["rows"]), None)
    how = fees.get("how") or {}
    note = (
        f" Shapley values estimated from {how['samples']} random orders (seed {how['seed']})."
        if how.get("shapley") == "sampled"
        else " Shapley values exact."
        if how.get("shapley") == "exact"
        else ""
    )
    out = (
        f"<h2>Fees (by {html.escape(str(fees['method']))})</h2><p>Full cost recovery: running "
        f"cost in its year, capital in equal parts over {fees['recover_years']} year(s); the "
        f"balance opens at {fees['opening_balance_msek']:g} MSEK and is carried year to year."
        + html.escape(note)
        + "</p>"
        + _table(["year", "cost (MSEK)", "fee income (MSEK)", "balance (MSEK)"], rows)
    )
    if last is not None:
        out += f"<h3>Fees in {last['year']}</h3>" + _table(
            ["payer", "fee (MSEK)", "share"],
            [(r["payer"], _fmt(r["fee_msek"]), f"{r['share']:.1%}") for r in last["rows"]],
        )
    return out


def rollout_page(
    ds: Dataset,
    doc: Mapping[str, Any],
    fees: Mapping[str, Any] | None = None,
    *,
    banner: str | None = None,
    redact: bool = False,
) -> str:
    """The steering group's report of a roll-out."""
    title = f"NISD roll-out report: {ds.config.name}"
    payload = rollout_payload(ds, doc, title=title, redact=redact)
    names = {s.site_id: s.name for s in ds.sites}
    years = [int(y["year"]) for y in doc["years"]]
    schedule = [{**s, "name": names.get(s["site_id"], s["site_id"])} for s in doc["sites"]]
    t = doc.get("totals") or {}
    proof = (
        "proved optimal by the solver"
        if doc.get("status") == "optimal"
        else f"feasible, not proved optimal (gap {_fmt(doc.get('gap'))})"
    )
    built = "; ".join(f"{s['name']} ({s['type']}): {schedule_phrase(s)}" for s in schedule)
    words = (
        f"From {years[0]} to {years[-1]} the roll-out builds {len(schedule)} site(s): {built}. "
        f"It costs {_fmt(t.get('discounted_cost_msek'))} MSEK discounted to {years[0]} "
        f"({_fmt(t.get('cost_msek'))} MSEK undiscounted: capital {_fmt(t.get('capital_msek'))}, "
        f"running {_fmt(t.get('running_msek'))}), with {t.get('migrations', 0)} migration(s) "
        f"of users between sites. It is {proof}."
    )
    classes = list(ds.config.criticality.levels)
    ready_rows = []
    for y in doc["years"]:
        r = y.get("readiness") or {}
        holds = r.get("holds") or {}
        worst = r.get("worst_by_class") or {}
        ready_rows.append(
            (
                y["year"],
                len(y["sites"]),
                len(y["assignments"]),
                len(y.get("onboarded", [])),
                len(y.get("migrations", [])),
                ", ".join(r.get("required") or []) or "-",
                ", ".join(s for s, ok in holds.items() if ok) or "-",
                *["n/a" if c not in worst else f"{worst[c]['share']:.1%}" for c in classes],
            )
        )
    spend_rows = [
        (
            y["year"],
            _fmt(y["cost_msek"]["capital"]),
            _fmt(y["budget_msek"]["capital"]),
            _fmt(y["cost_msek"]["running"]),
            _fmt(y["budget_msek"]["operating"]),
            _fmt(y["cost_msek"]["total"]),
            _fmt(y["cost_msek"]["discounted"]),
        )
        for y in doc["years"]
    ]
    params = (doc.get("run") or {}).get("parameters") or {}
    body = (
        f'<div class="report"><style>{REPORT_CSS}</style><h1>{html.escape(title)}</h1>'
        f"<h2>Summary</h2><p>{html.escape(words)}</p>"
        f"<h2>Map</h2>{map_body('Roll-out map', 'move the year control to follow the roll-out')}"
        "<h2>Timeline</h2>" + gantt_svg(schedule, years) + "<h2>Readiness per year</h2>"
        "<p>Every crisis set of the scenario evaluated each year by the served-load evaluator "
        "(required: what the readiness ramp asks that year; holding: what the year's plan "
        "keeps, capacity-true).</p>"
        + _table(
            [
                "year",
                "sites",
                "users",
                "joined",
                "moved",
                "sets required",
                "sets holding",
                *[f"worst {c} served" for c in classes],
            ],
            ready_rows,
        )
        + "<h2>Spending against the budget</h2>"
        + spending_svg(doc)
        + _table(
            [
                "year",
                "capital (MSEK)",
                "capital budget",
                "running (MSEK)",
                "operating budget",
                "total",
                "discounted",
            ],
            spend_rows,
        )
        + _fees_section(fees)
        + "<h2>Assumptions (scenario parameters)</h2>"
        + _table(
            ["parameter", "value"],
            [
                ("rollout", json.dumps(params.get("rollout"), ensure_ascii=False, sort_keys=True)),
                ("crisis", json.dumps(params.get("crisis"), ensure_ascii=False, sort_keys=True)),
            ],
        )
        + "</div>"
    )
    return page(title, body, payload=payload, banner=banner)


def rollout_map(
    ds: Dataset, doc: Mapping[str, Any], *, banner: str | None = None, redact: bool = False
) -> str:
    """The roll-out's map page alone, with its year control."""
    payload = rollout_payload(ds, doc, title=f"NISD roll-out: {ds.config.name}", redact=redact)
    years = [int(y["year"]) for y in doc["years"]]
    return map_page(payload, banner=banner, subtitle=f"{years[0]}–{years[-1]}")


__all__ = ["gantt_svg", "rollout_map", "rollout_page", "rollout_payload", "write_atomic"]


def compare_rollout_rows(named: Sequence[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One row per roll-out and year: sites, users, moves, spending, the crisis sets that
    hold, and the sites that differ from the first roll-out's that year."""
    first = {int(y["year"]): y for y in named[0][1]["years"]}
    out = []
    for name, doc in named:
        for y in doc["years"]:
            base = first.get(int(y["year"]))
            mine, theirs = set(y["sites"]), set(base["sites"]) if base else set()
            holds = [s for s, ok in (y.get("readiness") or {}).get("holds", {}).items() if ok]
            c = y["cost_msek"]
            out.append(
                {
                    "rollout": name,
                    "year": int(y["year"]),
                    "sites": len(y["sites"]),
                    "users": len(y["assignments"]),
                    "migrations": len(y.get("migrations", [])),
                    "capital_msek": c["capital"],
                    "running_msek": c["running"],
                    "total_msek": c["total"],
                    "discounted_msek": c["discounted"],
                    "sets_holding": ";".join(sorted(holds)),
                    "added": ";".join(sorted(mine - theirs)),
                    "removed": ";".join(sorted(theirs - mine)),
                }
            )
    return out


COMPARE_COLUMNS = (
    "rollout",
    "year",
    "sites",
    "users",
    "migrations",
    "capital_msek",
    "running_msek",
    "total_msek",
    "discounted_msek",
    "sets_holding",
    "added",
    "removed",
)


def compare_rollout_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Plain text, one line per roll-out and year."""
    head = " ".join(f"{c:>14}" if c != "rollout" else f"{c:<16}" for c in COMPARE_COLUMNS[:9])
    lines = [head + "  sets holding; sites added / removed vs the first"]
    for r in rows:
        vals = [f"{r['rollout']:<16}"] + [
            f"{r[c]:>14.1f}" if isinstance(r[c], float) else f"{r[c]:>14}"
            for c in COMPARE_COLUMNS[1:9]
        ]
        lines.append(
            " ".join(vals)
            + f"  {r['sets_holding'] or '-'}; +{r['added'] or '-'} / -{r['removed'] or '-'}"
        )
    return "\n".join(lines)


def compare_rollout_page(
    rows: Sequence[Mapping[str, Any]],
    totals: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    banner: str | None = None,
) -> str:
    """Roll-outs year by year side by side (no map: the sites differ by year)."""
    body = (
        f'<div class="report"><style>{REPORT_CSS}</style><h1>Comparison of roll-outs</h1>'
        + _table(
            ["roll-out", "discounted (MSEK)", "undiscounted", "capital", "running", "moves"],
            [
                (
                    n,
                    _fmt(t.get("discounted_cost_msek")),
                    _fmt(t.get("cost_msek")),
                    _fmt(t.get("capital_msek")),
                    _fmt(t.get("running_msek")),
                    t.get("migrations"),
                )
                for n, t in totals
            ],
        )
        + "<h2>Year by year</h2>"
        + _table(
            list(COMPARE_COLUMNS),
            [
                [_fmt(r[c]) if isinstance(r[c], float) else r[c] for c in COMPARE_COLUMNS]
                for r in rows
            ],
        )
        + "</div>"
    )
    return page("Comparison of roll-outs", body, banner=banner, with_map=False)
