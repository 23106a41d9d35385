"""A roll-out on a page: the map with a year control, the timeline, readiness, spending
against the budget and the fees, every figure read from the roll-out record (and the fees
record when ``nisd fees`` wrote one beside it)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from nisd.dataset import Dataset
from nisd.records.fees import Fees
from nisd.records.rollout import Rollout, ScheduleRow, Totals, YearRow
from nisd.render.html import map_body, map_words, page
from nisd.render.i18n import EN, Tr
from nisd.render.parts import REPORT_CSS, table
from nisd.render.rollout_map import rollout_payload


def gantt_svg(
    schedule: Sequence[ScheduleRow], years: Sequence[int], width: int = 720, tr: Tr = EN
) -> str:
    """Construction (light, hatched) and service (solid) per site, one row each."""
    if not schedule or not years:
        return f"<p>{html.escape(tr('No site is built or in service.'))}</p>"
    left, row, top = 170, 24, 26
    y0, y1 = years[0], years[-1] + 1
    scale = (width - left - 10) / (y1 - y0)
    height = top + row * len(schedule) + 10
    parts = [
        f'<svg class="gantt" role="img" '
        f'aria-label="{html.escape(tr("timeline of construction and service"))}" '
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
        label = f"{s.name or s.site_id} ({tr(s.type)})"
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
                f"<title>{html.escape(label)}: "
                + html.escape(tr("construction {a}–{b}", a=cf, b=s.in_service_from - 1))
                + "</title></rect>"
            )
        a = left + (s.in_service_from - y0) * scale
        b = left + (s.in_service_to + 1 - y0) * scale
        color = "#1f4e9c" if s.type == "core" else "#2a9d8f"
        parts.append(
            f'<rect class="service" x="{a:.1f}" y="{yy + 4}" width="{b - a:.1f}" '
            f'height="{row - 8}" fill="{color}"><title>{html.escape(label)}: '
            + html.escape(tr("in service {a}–{b}", a=s.in_service_from, b=s.in_service_to))
            + "</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def spending_svg(years: Sequence[YearRow], width: int = 720, tr: Tr = EN) -> str:
    """Capital and running cost per year (stacked bars) against the capital budget (tick)."""
    top = max(
        [y.cost_msek.total for y in years] + [y.budget_msek.capital or 0.0 for y in years] + [1.0]
    )
    height, left, bottom = 220, 50, 24
    bw = (width - left - 10) / len(years)
    scale = (height - bottom - 10) / top
    parts = [
        f'<svg class="spending" role="img" '
        f'aria-label="{html.escape(tr("spending per year against the budget"))}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for n, y in enumerate(years):
        x = left + n * bw
        cap, run = y.cost_msek.capital, y.cost_msek.running
        base = height - bottom
        hc, hr = cap * scale, run * scale
        parts.append(
            f'<rect x="{x + 4:.1f}" y="{base - hc:.1f}" width="{bw - 8:.1f}" height="{hc:.1f}" '
            f'fill="#f08c00"><title>{y.year}: '
            + html.escape(tr("capital {v} MSEK", v=tr.num(cap, 1)))
            + "</title></rect>"
            f'<rect x="{x + 4:.1f}" y="{base - hc - hr:.1f}" width="{bw - 8:.1f}" '
            f'height="{hr:.1f}" fill="#1f4e9c"><title>{y.year}: '
            + html.escape(tr("running {v} MSEK", v=tr.num(run, 1)))
            + "</title></rect>"
            f'<text x="{x + bw / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="11">'
            f"{y.year}</text>"
        )
        budget = y.budget_msek.capital
        if budget is not None:
            by = base - budget * scale
            parts.append(
                f'<line class="budget" x1="{x + 2:.1f}" y1="{by:.1f}" x2="{x + bw - 2:.1f}" '
                f'y2="{by:.1f}" stroke="#d00000" stroke-width="2"><title>{y.year}: '
                + html.escape(tr("capital budget {v} MSEK", v=tr.g(budget)))
                + "</title></line>"
            )
    parts.append(
        '<text x="4" y="14" font-size="11">'
        + html.escape(tr("MSEK (orange: capital, blue: running, red: capital budget)"))
        + "</text></svg>"
    )
    return "".join(parts)


def _fees_section(fees: Fees | None, tr: Tr = EN) -> str:
    esc = html.escape
    if fees is None or fees.source != "rollout":
        return (
            f"<h2>{esc(tr('Budget and fees'))}</h2><p>"
            + esc(tr("Not computed: run nisd fees ROLLOUT and write the report again."))
            + "</p>"
        )
    rows = [
        (
            y.year,
            y.payers,
            tr.num(y.capital_msek),
            tr.num(y.loan_balance_msek),
            tr.num(y.depreciation_msek),
            tr.num(y.interest_msek),
            tr.num(y.running_msek),
            tr.num(y.fee_income_msek),
            tr.num(y.balance_msek),
        )
        for y in fees.years
    ]
    how = fees.how
    note = (
        " "
        + tr(
            "Shapley values sampled ({n} orders, seed {seed}; every fee within ±{pm} MSEK at "
            "95 %).",
            n=how.samples,
            seed=how.seed,
            pm=tr.num(how.precision_msek),
        )
        if how.shapley == "sampled"
        else " " + tr("Shapley values exact.")
        if how.shapley == "exact"
        else ""
    )
    if fees.financing == "loan":
        rule = tr(
            "Capital is borrowed while a site is built and repaid through depreciation over "
            "the type's asset life from the year it is in service, with interest at {rate} a "
            "year on the loan and on any deficit.",
            rate=tr.pct(fees.interest_rate or 0.0),
        )
    else:
        rule = tr(
            "Capital is recovered in equal parts over {n} year(s) from the year it is spent or "
            "the first year with payers.",
            n=fees.recover_years,
        )
    years = [y.year for y in fees.years]
    by: dict[str, dict[int, float]] = {}
    cells: dict[str, dict[int, str]] = {}
    for y in fees.years:
        for r in y.rows:
            by.setdefault(r.payer, {})[y.year] = r.fee_msek
            change = (
                ""
                if r.change_msek is None
                else f" ({'+' if r.change_msek > 0 else ''}{tr.num(r.change_msek)})"
            )
            cells.setdefault(r.payer, {})[y.year] = tr.num(r.fee_msek) + change
    agency_rows = [
        (p, *[cells[p].get(y, "-") for y in years])
        for p, v in sorted(by.items(), key=lambda kv: -sum(kv[1].values()))
    ]
    left = fees.left_to_recover_msek or 0.0
    method = {
        "load": tr("by load"),
        "reserved": tr("by reserved capacity"),
        "shapley": tr("by cost causation (Shapley)"),
    }[fees.method]
    text = (
        tr("Full cost recovery.")
        + " "
        + rule
        + " "
        + tr(
            "Fees are charged only to the agencies on board in a year; a year without any adds "
            "its cost to a deficit recovered from the first year with payers. The balance "
            "opens at {v} MSEK.",
            v=tr.num(fees.opening_balance_msek or 0.0),
        )
        + (
            " " + tr("{v} MSEK is left to recover after the last year.", v=tr.num(left))
            if left
            else ""
        )
        + note
    )
    out = f"<h2>{esc(tr('Budget and fees ({how})', how=method))}</h2><p>{esc(text)}</p>" + table(
        [
            tr("year"),
            tr("agencies on board"),
            tr("capital (MSEK)"),
            tr("loan at year end"),
            tr("depreciation"),
            tr("interest"),
            tr("running"),
            tr("fee income"),
            tr("balance"),
        ],
        rows,
    )
    if agency_rows:
        head = esc(
            tr("Each agency's fee per year (MSEK; in brackets the change from the year before)")
        )
        out += f"<h3>{head}</h3>" + table([tr("agency"), *[str(y) for y in years]], agency_rows)
    return out


def _phrase(s: ScheduleRow, tr: Tr) -> str:
    """“built 2027–2028, in service from 2029” (or existing; closing), in the language."""
    cf = s.construction_from
    if s.existing:
        built = tr("existing")
    elif cf is not None and cf < s.in_service_from:
        built = tr("built {a}–{b}", a=cf, b=s.in_service_from - 1)
    else:
        built = tr("built")
    text = built + ", " + tr("in service from {year}", year=s.in_service_from)
    return text + (", " + tr("closes {year}", year=s.closes) if s.closes else "")


def _summary_and_detail(ds: Dataset, rollout: Rollout, tr: Tr) -> tuple[str, str]:
    """A roll-out's summary sentence and its timeline, readiness and spending sections."""
    esc = html.escape
    years = list(rollout.year_numbers)
    schedule = rollout.sites
    t = rollout.totals or Totals(
        discounted_cost_msek=0, cost_msek=0, capital_msek=0, running_msek=0
    )
    proof = (
        tr("proved optimal by the solver")
        if rollout.status.value == "optimal"
        else tr("feasible, not proved optimal (gap {gap})", gap=tr.pct(rollout.gap))
    )
    built = "; ".join(f"{s.name or s.site_id} ({tr(s.type)}): {_phrase(s, tr)}" for s in schedule)
    words = tr(
        "From {first} to {last} the roll-out builds {n} site(s): {built}. It costs {disc} MSEK "
        "discounted to {first} ({cost} MSEK undiscounted: capital {capital}, running "
        "{running}), with {moves} migration(s) of users between sites. It is {proof}.",
        first=years[0],
        last=years[-1],
        n=len(schedule),
        built=built,
        disc=tr.num(t.discounted_cost_msek),
        cost=tr.num(t.cost_msek),
        capital=tr.num(t.capital_msek),
        running=tr.num(t.running_msek),
        moves=t.migrations,
        proof=proof,
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
                ", ".join(tr(x) for x in r.required) or "-",
                ", ".join(tr(x) for x, ok in r.holds.items() if ok) or "-",
                *[tr("n/a") if c not in worst else tr.pct(worst[c].share) for c in classes],
            )
        )
    spend_rows = [
        (
            y.year,
            tr.num(y.cost_msek.capital),
            tr.num(y.budget_msek.capital),
            tr.num(y.cost_msek.running),
            tr.num(y.budget_msek.operating),
            tr.num(y.cost_msek.total),
            tr.num(y.cost_msek.discounted),
        )
        for y in rollout.years
    ]
    detail = (
        f"<h2>{esc(tr('Timeline'))}</h2>"
        + gantt_svg(schedule, years, tr=tr)
        + f"<h2>{esc(tr('Readiness per year'))}</h2><p>"
        + esc(
            tr(
                "Every crisis set of the scenario evaluated each year by the served-load "
                "evaluator (required: what the readiness ramp asks that year; holding: what "
                "the year's plan keeps, capacity-true)."
            )
        )
        + "</p>"
        + table(
            [
                tr("year"),
                tr("sites"),
                tr("users"),
                tr("joined"),
                tr("moved"),
                tr("sets required"),
                tr("sets holding"),
                *[tr("worst: {cls}", cls=tr(c)) for c in classes],
            ],
            ready_rows,
        )
        + f"<h2>{esc(tr('Spending against the budget'))}</h2>"
        + spending_svg(rollout.years, tr=tr)
        + table(
            [
                tr("year"),
                tr("capital (MSEK)"),
                tr("capital budget"),
                tr("running (MSEK)"),
                tr("operating budget"),
                tr("total"),
                tr("discounted"),
            ],
            spend_rows,
        )
    )
    return words, detail


def rollout_page(
    ds: Dataset,
    rollout: Rollout,
    fees: Fees | None = None,
    *,
    banner: str | None = None,
    redact: bool = False,
    tr: Tr = EN,
) -> str:
    """The steering group's report of a roll-out, in ``tr``'s language; a roll-out under
    uncertainty gets its futures first (the shared first stage, what hedging is worth,
    each branch) and a control that switches the map, the timeline, readiness and spending
    between the branches (the most probable shown first)."""
    esc = html.escape
    title = tr("NISD roll-out report") + ": " + ds.config.name
    data = rollout_payload(ds, rollout, title=title, redact=redact, tr=tr)
    words, detail = _summary_and_detail(ds, rollout, tr)
    scripts: list[str] = []
    futures = ""
    if rollout.branches:
        futures, detail = _futures(ds, rollout, tr)
        scripts.append(BRANCH_SCRIPT)
    params = rollout.run.parameters or {}
    raw = [
        ("rollout", json.dumps(params.get("rollout"), ensure_ascii=False, sort_keys=True)),
        ("crisis", json.dumps(params.get("crisis"), ensure_ascii=False, sort_keys=True)),
    ]
    body = (
        f'<div class="report"><style>{REPORT_CSS}</style><h1>{esc(title)}</h1>'
        f"<h2>{esc(tr('Summary'))}</h2><p>{esc(words)}</p>"
        + futures
        + f"<h2>{esc(tr('Map'))}</h2>"
        + map_body(tr("Roll-out map"), tr("move the year control to follow the roll-out"), tr)
        + detail
        + _fees_section(fees, tr)
        + f"<h2>{esc(tr('Appendix'))}</h2>"
        + f"<details><summary>{esc(tr('Scenario parameters'))}</summary>"
        + table([tr("parameter"), tr("value")], raw)
        + "</details></div>"
    )
    return page(
        title,
        body,
        payload=data,
        banner=banner,
        lang=tr.lang,
        words=map_words(tr, data),
        extra_scripts=scripts,
    )


# shows the section of the chosen branch and hides the others (no data is read or parsed)
BRANCH_SCRIPT = (
    "(function(){var s=document.getElementById('branch');if(!s){return;}"
    "function show(){var v=s.value;var all=document.querySelectorAll('section.branch');"
    "for(var i=0;i<all.length;i++){all[i].hidden=all[i].getAttribute('data-branch')!==v;}}"
    "s.addEventListener('change',show);show();})();"
)


def _futures(ds: Dataset, rollout: Rollout, tr: Tr) -> tuple[str, str]:
    """A roll-out under uncertainty: the futures section (first stage, hedge figures,
    branches, the switch) and the branches' detail sections, the most probable shown."""
    esc = html.escape
    h, fs = rollout.hedge, rollout.first_stage
    assert h is not None and fs is not None
    names = {s.site_id: s.name for s in ds.sites}
    last = fs.in_service
    started = ", ".join(f"{names.get(s, s)} ({tr(t)})" for s, t in fs.started.items())
    stage = tr(
        "Decided before {year}, the same in every future: in service {inservice}; "
        "construction started: {started}.",
        year=fs.decision_year,
        inservice=tr.join([names.get(s, s) for s in sorted(last)]) or tr("none"),
        started=started or tr("none"),
    )
    worth = tr(
        "Expected cost {expected} MSEK (discounted), worst future {worst} MSEK. Knowing the "
        "future in advance would save {evpi} MSEK (EVPI); planning for the average future "
        "instead would cost {vss} MSEK more (VSS).",
        expected=tr.num(h.expected_cost_msek),
        worst=tr.num(h.worst_cost_msek),
        evpi=tr.num(h.evpi_msek),
        vss=tr.num(h.vss_msek) if h.vss_msek is not None else tr("n/a"),
    )
    rows = []
    options = []
    sections = []
    for n, b in enumerate(rollout.branches):
        later = fs.later(b.sites)
        rows.append(
            (
                b.name,
                tr.g(b.probability),
                tr.num(b.totals.discounted_cost_msek),
                tr.num(b.own_best_msek),
                tr.num(b.regret_msek),
                tr.join([names.get(s, s) for s in later]) or "-",
            )
        )
        selected = " selected" if b.name == rollout.shown_branch else ""
        options.append(f'<option value="{n}"{selected}>{esc(b.name)}</option>')
        _w, detail = _summary_and_detail(ds, rollout.branch(b.name), tr)
        sections.append(f'<section class="branch" data-branch="{n}">{detail}</section>')
    notes = "".join(f"<p>{esc(x)}</p>" for x in h.notes)
    head = (
        f"<h2>{esc(tr('Futures'))}</h2><p>{esc(stage)}</p><p>{esc(worth)}</p>"
        + table(
            [
                tr("future"),
                tr("probability"),
                tr("cost (MSEK, discounted)"),
                tr("planned alone"),
                tr("more than planned alone"),
                tr("sites after the decision year"),
            ],
            rows,
        )
        + notes
        + f'<p><label for="branch">{esc(tr("Show the future"))}</label> '
        f'<select id="branch">{"".join(options)}</select> '
        + esc(tr("(the map and the sections below follow the choice)"))
        + "</p>"
    )
    return head, "".join(sections)
