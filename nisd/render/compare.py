"""Plans side by side: key figures with their differences to the first plan, the sites
kept, added and removed, as a table, CSV, JSON or a self-contained page with an overlay
map."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from nisd.dataset import Dataset
from nisd.files import csv_text
from nisd.records.base import Record
from nisd.records.plan import Plan
from nisd.render.html import map_body, map_words, page
from nisd.render.i18n import EN, Tr
from nisd.render.parts import REPORT_CSS, fmt, table
from nisd.render.payload import build_payload
from nisd.render.report import KPI_ROWS

Value = float | int | str | bool | None


class KpiRow(Record):
    """One key figure in every plan, and each plan's difference to the first."""

    kpi: str
    values: dict[str, Value]
    differences: dict[str, float | None]

    def flat(self, plans: Sequence[str]) -> dict[str, Value]:
        """``{kpi, <plan>: value, ..., "<plan> − <first>": difference, ...}``."""
        out: dict[str, Value] = {"kpi": self.kpi}
        out.update({p: self.values.get(p) for p in plans})
        out.update({f"{p} − {plans[0]}": self.differences.get(p) for p in plans[1:]})
        return out


class SiteChange(Record):
    """The sites of a plan against the first: kept, added, removed."""

    plan: str
    kept: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]


class Comparison(Record):
    """Several plans' key figures and site changes, against the first."""

    plans: tuple[str, ...]
    rows: tuple[KpiRow, ...]
    sites: tuple[SiteChange, ...]

    def flat_rows(self) -> list[dict[str, Value]]:
        return [r.flat(self.plans) for r in self.rows]

    def to_json(self) -> dict[str, Any]:
        return {"kpis": self.flat_rows(), "sites": [s.to_json() for s in self.sites]}

    def table(self) -> str:
        """The figures as aligned text, then each plan's site changes."""
        rows = self.flat_rows()
        cols = list(rows[0])
        cells = [
            [str(r[c]) if c == "kpi" else fmt(r[c], pct="share" in str(r["kpi"])) for c in cols]
            for r in rows
        ]
        widths = [max(len(str(c)), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(cols, widths, strict=True))]
        for row in cells:
            lines.append("  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)))
        changes = [
            f"{c.plan}: kept {', '.join(c.kept) or '-'}; added {', '.join(c.added) or '-'}; "
            f"removed {', '.join(c.removed) or '-'}"
            for c in self.sites
        ]
        return "\n".join(lines) + "\n\n" + "\n".join(changes)

    def csv(self) -> str:
        rows = self.flat_rows()
        cols = list(rows[0])
        return csv_text(cols, [[r[c] for c in cols] for r in rows])


def _number(x: Value) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def compare(plans: Sequence[tuple[str, Plan]]) -> Comparison:
    """Key figures and site changes of ``plans`` (name, plan), against the first."""
    names = [n for n, _p in plans]
    table: list[tuple[str, list[Value]]] = []
    for key, label, _unit in KPI_ROWS:
        if key == "status":
            vals: list[Value] = [p.status.value for _n, p in plans]
        elif key == "objective":
            vals = [p.value for _n, p in plans]
        else:
            vals = [p.kpis.to_json().get(key) for _n, p in plans]
        table.append((label, vals))
    classes: list[str] = []
    for _name, p in plans:
        classes += [c for c in p.kpis.worst_case_by_class if c not in classes]
    for c in classes:  # worst-case share served per criticality class
        vals = [
            w.share if (w := p.kpis.worst_case_by_class.get(c)) is not None else None
            for _n, p in plans
        ]
        table.append((f"worst-case share served, {c}", vals))
    rows = []
    for label, vals in table:
        first = _number(vals[0])
        diffs = {
            n: (v - first if (v := _number(x)) is not None and first is not None else None)
            for n, x in zip(names[1:], vals[1:], strict=True)
        }
        rows.append(
            KpiRow(kpi=label, values=dict(zip(names, vals, strict=True)), differences=diffs)
        )
    first_sites = set(plans[0][1].sites)
    sites = [
        SiteChange(
            plan=name,
            kept=tuple(sorted(first_sites & set(p.sites))),
            added=tuple(sorted(set(p.sites) - first_sites)),
            removed=tuple(sorted(first_sites - set(p.sites))),
        )
        for name, p in plans[1:]
    ]
    return Comparison(plans=tuple(names), rows=tuple(rows), sites=tuple(sites))


def _cell(v: Value, share: bool, tr: Tr) -> str:
    if v is None:
        return tr("n/a")
    if isinstance(v, bool):
        return tr("yes") if v else tr("no")
    if isinstance(v, int | float):
        return tr.pct(float(v)) if share else tr.num(v) if isinstance(v, float) else tr.g(v)
    return tr.lookup(str(v)) or str(v)


def compare_page(
    ds: Dataset, comparison: Comparison, *, banner: str | None = None, tr: Tr = EN
) -> str:
    """One overlay map of the plans' sites (kept, added, removed against the first), with
    the key figures side by side, in ``tr``'s language."""
    union: dict[str, str] = {}
    for c in comparison.sites:
        for s in c.kept:
            union[s] = "kept"
        for s in c.added:
            union.setdefault(s, "added")
        for s in c.removed:
            union.setdefault(s, "removed")
    title = tr("Comparison of plans") + ": " + ", ".join(comparison.plans)
    data = build_payload(ds, Plan.of_sites(union), title=title)
    rows = comparison.flat_rows()
    cols = list(rows[0])
    head = [tr("figure"), *cols[1:]]
    figures = table(
        head,
        [
            [
                _kpi_label(str(r["kpi"]), tr)
                if c == "kpi"
                else _cell(r[c], "share" in str(r["kpi"]), tr)
                for c in cols
            ]
            for r in rows
        ],
    )
    ch = table(
        [tr("plan"), tr("kept"), tr("added"), tr("removed")],
        [
            (c.plan, ", ".join(c.kept), ", ".join(c.added), ", ".join(c.removed))
            for c in comparison.sites
        ],
    )
    esc = html.escape
    body = (
        f'<div class="report"><style>{REPORT_CSS}</style>'
        f"<h1>{esc(title)}</h1>"
        f"<h2>{esc(tr('Key figures'))}</h2>{figures}<h2>{esc(tr('Sites'))}</h2>{ch}"
        f"<h2>{esc(tr('Overlay'))}</h2>"
        + map_body(tr("Kept, added and removed sites"), tr=tr)
        + "</div>"
    )
    return page(title, body, payload=data, banner=banner, lang=tr.lang, words=map_words(tr, data))


def _kpi_label(label: str, tr: Tr) -> str:
    """A key figure's label in the language (the per-class rows name their class)."""
    head, sep, cls = label.partition(", ")
    if sep and head == "worst-case share served":
        return tr("worst-case share served, {cls}", cls=tr.lookup(cls) or cls)
    return tr(label)
