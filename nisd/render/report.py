"""The steering-group report and the comparison of plans, as self-contained HTML.

All text from data goes through :func:`html.escape`; charts are inline SVG
drawn here (no plotting library, nothing fetched).
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from nisd.render.html import map_body, page

KPI_ROWS = [
    ("status", "status", ""),
    ("objective", "objective", ""),
    ("cost_msek", "cost", " MSEK/year"),
    ("sites", "sites", ""),
    ("mean_latency_ms", "mean latency", " ms"),
    ("max_latency_ms", "max latency", " ms"),
    ("min_separation_km", "smallest separation", " km"),
    ("worst_case_share_served", "worst-case share served", ""),
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


def bar_chart(items: Sequence[tuple[str, float]], width: int = 760, bar: int = 16) -> str:
    """Horizontal bars of shares (0..1) as inline SVG; labels are escaped text."""
    left, right = 300, 60
    h = bar * len(items) + 30
    inner = width - left - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
        'role="img" aria-label="share of load served per scenario" '
        'font-family="system-ui, sans-serif" font-size="11">'
    ]
    for x in (0.0, 0.5, 1.0):
        px = left + inner * x
        parts.append(
            f'<line x1="{px:.1f}" y1="0" x2="{px:.1f}" y2="{h - 20}" stroke="#ccc"/>'
            f'<text x="{px:.1f}" y="{h - 6}" text-anchor="middle">{x:.0%}</text>'
        )
    for i, (label, share) in enumerate(items):
        y = i * bar + 2
        colour = "#2a9d8f" if share >= 0.999 else ("#f4a261" if share >= 0.9 else "#e63946")
        short = label if len(label) <= 48 else label[:47] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end">'
            f"{html.escape(short)}</text>"
            f'<rect x="{left}" y="{y}" width="{inner * max(0.0, min(1.0, share)):.1f}" '
            f'height="{bar - 3}" fill="{colour}"/>'
            f'<text x="{left + inner * share + 4:.1f}" y="{y + bar * 0.7:.1f}">{share:.1%}</text>'
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


def report_page(
    payload: Mapping[str, Any], plan: Mapping[str, Any], *, banner: str | None = None
) -> str:
    """The steering group's report for one plan."""
    k = dict(payload.get("kpis", {}))
    sites = [s for s in payload["sites"] if s["type"]]
    scen = sorted(payload.get("scenarios", []), key=lambda r: (r["share"], r["name"]))
    status = plan.get("status", "unknown")
    gap = plan.get("gap")
    proof = (
        "proved optimal by the solver"
        if status == "optimal"
        else f"feasible, not proved optimal (gap {_fmt(gap)})"
        if status == "feasible"
        else status
    )
    worst = scen[0] if scen else None
    names = ", ".join(f"{s['name']} ({s['type']})" for s in sites)
    words = (
        f"The plan opens {len(sites)} sites: {names}. It costs {_fmt(k.get('cost_msek'))} MSEK "
        f"a year and serves every demand point from a primary site and its backups within their "
        f"latency bounds (mean {_fmt(k.get('mean_latency_ms'), ' ms')}, worst "
        f"{_fmt(k.get('max_latency_ms'), ' ms')}). The plan is {proof}."
    )
    if worst:
        words += (
            f" Of the {len(scen)} crisis scenarios evaluated, the worst is "
            f"“{worst['name']}” ({worst['meaning']}), after which "
            f"{worst['share']:.1%} of the load is still served in time."
        )
    kpi_rows = [
        (label, _fmt(k.get(key), unit, pct="share" in key)) for key, label, unit in KPI_ROWS
    ]
    site_rows = [
        (
            s["name"],
            s["id"],
            s["county"],
            s["zone"],
            s["type"],
            f"{s['used']:g} / {_fmt(s['capacity'])}",
            len(s["primary_for"]),
            len(s["backup_for"]),
            _fmt(s["hazard_km"], " km"),
            "not computed (nisd explain)" if s["regret"] is None else _fmt(s["regret"]),
        )
        for s in sites
    ]
    scen_rows = [(r["name"], r["meaning"], f"{r['share']:.1%}", len(r["unserved"])) for r in scen]
    params = (plan.get("run") or {}).get("parameters") or {}
    assumptions = [
        (key, json.dumps(v, ensure_ascii=False, sort_keys=True))
        for key, v in sorted(params.items())
    ]
    run = plan.get("run") or {}
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
    run_rows += [(f"file {n}", h) for n, h in sorted((run.get("input_files") or {}).items())]
    title = str(payload.get("title", "nisd report"))
    body = (
        f'<div class="report"><style>{REPORT_CSS}</style><h1>{html.escape(title)}</h1>'
        f"<h2>Summary</h2><p>{html.escape(words)}</p>"
        f"<h2>Key figures</h2>{_table(['figure', 'value'], kpi_rows)}"
        f"<h2>Map</h2>{map_body('Plan map', 'layers on the right; crisis view on the left')}"
        f"<h2>Opened sites</h2>"
        + _table(
            [
                "site",
                "id",
                "county",
                "power zone",
                "type",
                "racks used / capacity",
                "primary for",
                "backup for",
                "nearest hazard",
                "regret",
            ],
            site_rows,
        )
        + "<h2>Crisis scenarios</h2>"
        + (bar_chart([(r["name"], r["share"]) for r in scen]) if scen else "<p>none evaluated</p>")
        + _table(["scenario", "meaning", "load served", "demand points unserved"], scen_rows)
        + "<h2>Assumptions (scenario parameters)</h2>"
        + _table(["parameter", "value"], assumptions)
        + "<h2>Run record</h2>"
        + _table(["item", "value"], run_rows)
        + "</div>"
    )
    return page(title, body, payload=dict(payload), banner=banner)


def compare_rows(plans: Sequence[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One row per KPI: the value in each plan and its difference to the first."""
    rows = []
    for key, label, _unit in KPI_ROWS:
        vals = []
        for _name, doc in plans:
            if key in ("status",):
                vals.append(doc.get("status"))
            elif key == "objective":
                vals.append((doc.get("objective") or {}).get("value"))
            else:
                vals.append((doc.get("kpis") or {}).get(key))
        row: dict[str, Any] = {"kpi": label}
        for (name, _doc), v in zip(plans, vals, strict=True):
            row[name] = v
        base = vals[0]
        for (name, _doc), v in list(zip(plans, vals, strict=True))[1:]:
            diff = None
            if isinstance(v, (int, float)) and isinstance(base, (int, float)):
                diff = v - base
            row[f"{name} − {plans[0][0]}"] = diff
        rows.append(row)
    return rows


def site_changes(plans: Sequence[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Sites kept, added and removed in each plan against the first."""
    first = {s["site_id"]: s["type"] for s in plans[0][1]["sites"]}
    out = []
    for name, doc in plans[1:]:
        other = {s["site_id"]: s["type"] for s in doc["sites"]}
        out.append(
            {
                "plan": name,
                "kept": sorted(set(first) & set(other)),
                "added": sorted(set(other) - set(first)),
                "removed": sorted(set(first) - set(other)),
            }
        )
    return out


def compare_table(rows: Sequence[Mapping[str, Any]]) -> str:
    cols = list(rows[0].keys())
    cells = [
        [_fmt(r.get(c), pct="share" in str(r["kpi"])) if c != "kpi" else str(r[c]) for c in cols]
        for r in rows
    ]
    widths = [max(len(str(c)), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(cols, widths, strict=True))]
    for row in cells:
        lines.append("  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def compare_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0].keys()), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def compare_page(
    payload: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    changes: Sequence[Mapping[str, Any]],
    *,
    banner: str | None = None,
) -> str:
    cols = list(rows[0].keys())
    table = _table(
        cols,
        [
            [_fmt(r.get(c), pct="share" in str(r["kpi"])) if c != "kpi" else r[c] for c in cols]
            for r in rows
        ],
    )
    ch = _table(
        ["plan", "kept", "added", "removed"],
        [
            (c["plan"], ", ".join(c["kept"]), ", ".join(c["added"]), ", ".join(c["removed"]))
            for c in changes
        ],
    )
    body = (
        f'<div class="report"><style>{REPORT_CSS}</style>'
        f"<h1>{html.escape(str(payload.get('title', 'Comparison')))}</h1>"
        f"<h2>Key figures</h2>{table}<h2>Sites</h2>{ch}"
        f"<h2>Overlay</h2>{map_body('Kept, added and removed sites')}</div>"
    )
    return page(str(payload.get("title", "Comparison")), body, payload=dict(payload), banner=banner)
