"""Roll-outs side by side, year by year: sites, users, moves, spending, the crisis sets
that hold and the sites that differ from the first roll-out's, as text, CSV or a page."""

from __future__ import annotations

import html
from collections.abc import Sequence

from nisd.files import csv_text
from nisd.records.base import Record
from nisd.records.rollout import Rollout
from nisd.render.html import page
from nisd.render.i18n import EN, Tr
from nisd.render.parts import REPORT_CSS, table


class YearComparison(Record):
    """One roll-out's year against the first roll-out's same year."""

    rollout: str
    year: int
    sites: int
    users: int
    migrations: int
    capital_msek: float
    running_msek: float
    total_msek: float
    discounted_msek: float
    sets_holding: str
    added: str
    removed: str


COMPARE_COLUMNS = tuple(YearComparison.model_fields)


def compare_rollouts(named: Sequence[tuple[str, Rollout]]) -> list[YearComparison]:
    """One row per roll-out and year: sites, users, moves, spending, the crisis sets that
    hold, and the sites that differ from the first roll-out's that year."""
    first = {y.year: y for y in named[0][1].years}
    out = []
    for name, ro in named:
        for y in ro.years:
            base = first.get(y.year)
            mine, theirs = set(y.sites), set(base.sites) if base else set()
            c = y.cost_msek
            out.append(
                YearComparison(
                    rollout=name,
                    year=y.year,
                    sites=len(y.sites),
                    users=len(y.assignments),
                    migrations=len(y.migrations),
                    capital_msek=c.capital,
                    running_msek=c.running,
                    total_msek=c.total,
                    discounted_msek=c.discounted,
                    sets_holding=";".join(sorted(s for s, ok in y.readiness.holds.items() if ok)),
                    added=";".join(sorted(mine - theirs)),
                    removed=";".join(sorted(theirs - mine)),
                )
            )
    return out


def compare_rollout_table(rows: Sequence[YearComparison]) -> str:
    """Plain text, one line per roll-out and year."""
    head = " ".join(f"{c:>14}" if c != "rollout" else f"{c:<16}" for c in COMPARE_COLUMNS[:9])
    lines = [head + "  sets holding; sites added / removed vs the first"]
    for r in rows:
        vals = [f"{r.rollout:<16}"] + [
            f"{v:>14.1f}" if isinstance(v, float) else f"{v:>14}"
            for v in (getattr(r, c) for c in COMPARE_COLUMNS[1:9])
        ]
        lines.append(
            " ".join(vals) + f"  {r.sets_holding or '-'}; +{r.added or '-'} / -{r.removed or '-'}"
        )
    return "\n".join(lines)


def compare_rollout_csv(rows: Sequence[YearComparison]) -> str:
    return csv_text(COMPARE_COLUMNS, [[getattr(r, c) for c in COMPARE_COLUMNS] for r in rows])


def compare_rollout_page(
    rows: Sequence[YearComparison],
    named: Sequence[tuple[str, Rollout]],
    *,
    banner: str | None = None,
    tr: Tr = EN,
) -> str:
    """Roll-outs year by year side by side (no map: the sites differ by year), in ``tr``'s
    language."""
    totals = [(n, ro.totals) for n, ro in named]
    title = tr("Comparison of roll-outs")
    labels = {
        "rollout": tr("roll-out"),
        "year": tr("year"),
        "sites": tr("sites"),
        "users": tr("users"),
        "migrations": tr("moved"),
        "capital_msek": tr("capital (MSEK)"),
        "running_msek": tr("running (MSEK)"),
        "total_msek": tr("total"),
        "discounted_msek": tr("discounted"),
        "sets_holding": tr("sets holding"),
        "added": tr("added"),
        "removed": tr("removed"),
    }

    def cell(c: str, v: object) -> object:
        if c == "sets_holding" and isinstance(v, str):
            return ", ".join(tr(x) for x in v.split(";") if x)
        return tr.num(v) if isinstance(v, float) else v

    body = (
        f'<div class="report"><style>{REPORT_CSS}</style><h1>{html.escape(title)}</h1>'
        + table(
            [
                tr("roll-out"),
                tr("discounted (MSEK)"),
                tr("undiscounted"),
                tr("capital"),
                tr("running"),
                tr("moves"),
            ],
            [
                (
                    n,
                    tr.num(t.discounted_cost_msek if t else None),
                    tr.num(t.cost_msek if t else None),
                    tr.num(t.capital_msek if t else None),
                    tr.num(t.running_msek if t else None),
                    t.migrations if t else None,
                )
                for n, t in totals
            ],
        )
        + f"<h2>{html.escape(tr('Year by year'))}</h2>"
        + table(
            [labels.get(c, c) for c in COMPARE_COLUMNS],
            [[cell(c, getattr(r, c)) for c in COMPARE_COLUMNS] for r in rows],
        )
        + "</div>"
    )
    return page(title, body, banner=banner, with_map=False, lang=tr.lang)
