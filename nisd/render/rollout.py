"""A roll-out on a page: the map with a year control, the timeline, readiness, spending
against the budget and the fees, every figure read from the roll-out record (and the fees
record when ``nisd fees`` wrote one beside it)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from nisd.dataset import Dataset
from nisd.files import csv_text
from nisd.records.base import Record
from nisd.records.fees import Fees
from nisd.records.rollout import Rollout, ScheduleRow, Totals, YearRow
from nisd.render.html import map_body, map_page, page
from nisd.render.parts import REPORT_CSS, fmt, table
from nisd.render.payload import MapData, YearView, build_payload, lines_of, positions


def rollout_payload(ds: Dataset, rollout: Rollout, *, title: str, redact: bool = False) -> MapData:
    """The map data of a roll-out: all its sites, and per year what is in service, being
    built and on board, with the year's assignment lines."""
    data = build_payload(ds, rollout.final_plan(), title=title, redact=redact)
    pos = positions(ds, redact)
    years = tuple(
        YearView(
            year=y.year,
            sites=y.sites,
            building=tuple(sorted(rollout.in_construction(y.year))),
            assigned=y.assignments,
            lines=lines_of(y.assignments, pos),
            holds=tuple(s for s, ok in y.readiness.holds.items() if ok),
        )
        for y in rollout.years
    )
    t = rollout.totals
    kpis = data.kpis.model_copy(
        update={
            "status": rollout.status.value,
            "gap": rollout.gap,
            "objective": f"discounted cost {t.discounted_cost_msek if t else None} MSEK",
        }
    )
    return data.model_copy(update={"years": years, "kpis": kpis})


def gantt_svg(schedule: Sequence[ScheduleRow], years: Sequence[int], width: int = 720) -> str:
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
        label = f"{s.name or s.site_id} ({s.type})"
        parts.append(
            f'<text x="{left - 6}" y="{yy + 15}" text-anchor="end" font-size="12">'
            f"{html.escape(label)}</text>"
        )
        cf = s.construction_from
        if cf is not None and cf < s.in_service_from:
            a = left + (max(cf, y0) - y0) * scale
            b = left + (s.in_service_from - y0) * scale
            parts.append(
                f'<rect class="building" x="{a:.1f}" y="{yy + 4}" width="{b - a:.1f}" '
                f'height="{row - 8}" fill="#ffe8cc" stroke="#f08c00" stroke-dasharray="3 2">'
                f"<title>{html.escape(label)}: construction {cf}–{s.in_service_from - 1}"
                "</title></rect>"
            )
        a = left + (s.in_service_from - y0) * scale
        b = left + (s.in_service_to + 1 - y0) * scale
        color = "#1f4e9c" if s.type == "core" else "#2a9d8f"
        parts.append(
            f'<rect class="service" x="{a:.1f}" y="{yy + 4}" width="{b - a:.1f}" '
            f'height="{row - 8}" fill="{color}"><title>{html.escape(label)}: in service '
            f"{s.in_service_from}–{s.in_service_to}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def spending_svg(years: Sequence[YearRow], width: int = 720) -> str:
    """Capital and running cost per year (stacked bars) against the capital budget (tick)."""
    top = max(
        [y.cost_msek.total for y in years] + [y.budget_msek.capital or 0.0 for y in years] + [1.0]
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
        cap, run = y.cost_msek.capital, y.cost_msek.running
        base = height - bottom
        hc, hr = cap * scale, run * scale
        parts.append(
            f'<rect x="{x + 4:.1f}" y="{base - hc:.1f}" width="{bw - 8:.1f}" height="{hc:.1f}" '
            f'fill="#f08c00"><title>{y.year}: capital {cap:.1f} MSEK</title></rect>'
            f'<rect x="{x + 4:.1f}" y="{base - hc - hr:.1f}" width="{bw - 8:.1f}" '
            f'height="{hr:.1f}" fill="#1f4e9c"><title>{y.year}: running {run:.1f} MSEK'
            "</title></rect>"
            f'<text x="{x + bw / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="11">'
            f"{y.year}</text>"
        )
        budget = y.budget_msek.capital
        if budget is not None:
            by = base - budget * scale
            parts.append(
                f'<line class="budget" x1="{x + 2:.1f}" y1="{by:.1f}" x2="{x + bw - 2:.1f}" '
                f'y2="{by:.1f}" stroke="#d00000" stroke-width="2"><title>{y.year}: capital '
                f"budget {budget:g} MSEK</title></line>"
            )
    parts.append(
        '<text x="4" y="14" font-size="11">MSEK (orange: capital, blue: running, red: capital '
        "budget)</text></svg>"
    )
    return "".join(parts)


def _fees_section(fees: Fees | None) -> str:
    if fees is None or fees.source != "rollout":
        return (
            "<h2>Fees</h2><p>Not computed: run <code>nisd fees ROLLOUT --method "
            "load|reserved|shapley</code> and write the report again.</p>"
        )
    rows = [
        (
            y.year,
            y.payers,
            fmt(y.capital_msek),
            fmt(y.loan_balance_msek),
            fmt(y.depreciation_msek),
            fmt(y.interest_msek),
            fmt(y.running_msek),
            fmt(y.fee_income_msek),
            fmt(y.balance_msek),
        )
        for y in fees.years
    ]
    how = fees.how
    note = (
        f" Shapley values sampled ({how.samples} orders, seed {how.seed}; every fee within "
        f"±{fmt(how.precision_msek)} MSEK at 95 %)."
        if how.shapley == "sampled"
        else " Shapley values exact."
        if how.shapley == "exact"
        else ""
    )
    if fees.financing == "loan":
        rule = (
            "Capital is borrowed while a site is built and repaid through depreciation over "
            f"the type's asset life from the year it is in service, with interest at "
            f"{100 * (fees.interest_rate or 0.0):.2f} % a year on the loan and on any deficit"
        )
    else:
        rule = (
            f"Capital is recovered in equal parts over {fees.recover_years} year(s) from the "
            "year it is spent or the first year with payers"
        )
    years = [y.year for y in fees.years]
    by: dict[str, dict[int, float]] = {}
    for y in fees.years:
        for r in y.rows:
            by.setdefault(r.payer, {})[y.year] = r.fee_msek
    agency_rows = [
        (p, *[fmt(v[y]) if y in v else "-" for y in years])
        for p, v in sorted(by.items(), key=lambda kv: -sum(kv[1].values()))
    ]
    left = fees.left_to_recover_msek or 0.0
    out = (
        f"<h2>Budget and fees (by {html.escape(fees.method)})</h2><p>"
        + html.escape(
            f"Full cost recovery. {rule}. Fees are charged only to the agencies on board in a "
            "year; a year without any adds its cost to a deficit recovered from the first year "
            f"with payers. The balance opens at {fees.opening_balance_msek or 0.0:g} MSEK"
            + (f"; {fmt(left)} MSEK is left to recover after the last year." if left else ".")
            + note
        )
        + "</p>"
        + table(
            [
                "year",
                "agencies on board",
                "capital (MSEK)",
                "loan at year end",
                "depreciation",
                "interest",
                "running",
                "fee income",
                "balance",
            ],
            rows,
        )
    )
    if agency_rows:
        out += "<h3>Each agency's fee per year (MSEK)</h3>" + table(
            ["agency", *[str(y) for y in years]], agency_rows
        )
    return out


def rollout_page(
    ds: Dataset,
    rollout: Rollout,
    fees: Fees | None = None,
    *,
    banner: str | None = None,
    redact: bool = False,
) -> str:
    """The steering group's report of a roll-out."""
    title = f"NISD roll-out report: {ds.config.name}"
    data = rollout_payload(ds, rollout, title=title, redact=redact)
    years = list(rollout.year_numbers)
    schedule = rollout.sites
    t = rollout.totals or Totals(
        discounted_cost_msek=0, cost_msek=0, capital_msek=0, running_msek=0
    )
    proof = (
        "proved optimal by the solver"
        if rollout.status.value == "optimal"
        else f"feasible, not proved optimal (gap {fmt(rollout.gap)})"
    )
    built = "; ".join(f"{s.name or s.site_id} ({s.type}): {s.phrase()}" for s in schedule)
    words = (
        f"From {years[0]} to {years[-1]} the roll-out builds {len(schedule)} site(s): {built}. "
        f"It costs {fmt(t.discounted_cost_msek)} MSEK discounted to {years[0]} "
        f"({fmt(t.cost_msek)} MSEK undiscounted: capital {fmt(t.capital_msek)}, "
        f"running {fmt(t.running_msek)}), with {t.migrations} migration(s) "
        f"of users between sites. It is {proof}."
    )
    classes = list(ds.config.criticality.levels)
    ready_rows = []
    for y in rollout.years:
        r = y.readiness
        worst = r.worst_by_class
        ready_rows.append(
            (
                y.year,
                len(y.sites),
                len(y.assignments),
                len(y.onboarded),
                len(y.migrations),
                ", ".join(r.required) or "-",
                ", ".join(s for s, ok in r.holds.items() if ok) or "-",
                *["n/a" if c not in worst else f"{worst[c].share:.1%}" for c in classes],
            )
        )
    spend_rows = [
        (
            y.year,
            fmt(y.cost_msek.capital),
            fmt(y.budget_msek.capital),
            fmt(y.cost_msek.running),
            fmt(y.budget_msek.operating),
            fmt(y.cost_msek.total),
            fmt(y.cost_msek.discounted),
        )
        for y in rollout.years
    ]
    params = rollout.run.parameters or {}
    body = (
        f'<div class="report"><style>{REPORT_CSS}</style><h1>{html.escape(title)}</h1>'
        f"<h2>Summary</h2><p>{html.escape(words)}</p>"
        f"<h2>Map</h2>{map_body('Roll-out map', 'move the year control to follow the roll-out')}"
        "<h2>Timeline</h2>" + gantt_svg(schedule, years) + "<h2>Readiness per year</h2>"
        "<p>Every crisis set of the scenario evaluated each year by the served-load evaluator "
        "(required: what the readiness ramp asks that year; holding: what the year's plan "
        "keeps, capacity-true).</p>"
        + table(
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
        + spending_svg(rollout.years)
        + table(
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
        + table(
            ["parameter", "value"],
            [
                ("rollout", json.dumps(params.get("rollout"), ensure_ascii=False, sort_keys=True)),
                ("crisis", json.dumps(params.get("crisis"), ensure_ascii=False, sort_keys=True)),
            ],
        )
        + "</div>"
    )
    return page(title, body, payload=data, banner=banner)


def rollout_map(
    ds: Dataset, rollout: Rollout, *, banner: str | None = None, redact: bool = False
) -> str:
    """The roll-out's map page alone, with its year control."""
    data = rollout_payload(ds, rollout, title=f"NISD roll-out: {ds.config.name}", redact=redact)
    years = rollout.year_numbers
    return map_page(data, banner=banner, subtitle=f"{years[0]}–{years[-1]}")


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
) -> str:
    """Roll-outs year by year side by side (no map: the sites differ by year)."""
    totals = [(n, ro.totals) for n, ro in named]
    body = (
        f'<div class="report"><style>{REPORT_CSS}</style><h1>Comparison of roll-outs</h1>'
        + table(
            ["roll-out", "discounted (MSEK)", "undiscounted", "capital", "running", "moves"],
            [
                (
                    n,
                    fmt(t.discounted_cost_msek if t else None),
                    fmt(t.cost_msek if t else None),
                    fmt(t.capital_msek if t else None),
                    fmt(t.running_msek if t else None),
                    t.migrations if t else None,
                )
                for n, t in totals
            ],
        )
        + "<h2>Year by year</h2>"
        + table(
            list(COMPARE_COLUMNS),
            [
                [
                    fmt(v) if isinstance(v, float) else v
                    for v in (getattr(r, c) for c in COMPARE_COLUMNS)
                ]
                for r in rows
            ],
        )
        + "</div>"
    )
    return page("Comparison of roll-outs", body, banner=banner, with_map=False)
