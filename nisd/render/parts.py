"""The parts every page is built of: numbers as text, tables, the inline SVG charts and the
report's style. All text from data goes through :func:`html.escape`; charts are drawn
here (no plotting library, nothing fetched)."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nisd.records.study import Variant


def fmt(v: Any, unit: str = "", pct: bool = False) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, (int, float)) and not isinstance(v, bool) and pct:
        return f"{v:.1%}"
    if isinstance(v, float):
        return f"{v:,.2f}{unit}".replace(",", " ")
    return f"{v}{unit}"


def table(head: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "data") -> str:
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
    labels: Sequence[str] | None = None,
    fmt_share: Callable[[float], str] = lambda v: f"{v:.1%}",
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
            f'<text x="{px:.1f}" y="{h - 22}" text-anchor="middle">'
            f"{html.escape(fmt_share(x))}</text>"
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
            f"{html.escape(fmt_share(share))}</text>"
        )
    legend_y = h - 8
    for k, name in enumerate(labels or ["all load", *classes]):
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
.report .headline { font-size: 15px; }
@page { size: A4; margin: 12mm; }
@media print {
  html, body { height: auto; }
  body.mappage { display: block; }
  .report { max-width: none; padding: 0; font-size: 10pt; }
  .report #wrap { height: 120mm; break-inside: avoid; }
  .report #side { display: none; }
  table.data { width: 100%; table-layout: fixed; font-size: 7.5pt; }
  table.data th, table.data td { padding: 1px 4px 1px 0; overflow-wrap: anywhere; }
  table.data tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .report svg { max-width: 100%; height: auto; }
}
"""


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
