"""The report's first page and its digest of the crisis scenarios: what is proposed, what
it costs and each agency's fee, what it survives and what it does not (the headline worst
case over every scenario shown), equally cheap alternatives, the scenarios grouped by
kind, the assumptions in words and Statskontoret's indicators."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from nisd.records.fees import Fees
from nisd.records.plan import ScenarioRow
from nisd.render.context import PlanView
from nisd.render.i18n import HAZARD_CLASSES, N_, Tr
from nisd.render.parts import table
from nisd.render.payload import SiteMark
from nisd.render.words import meaning

# the kinds of scenario, in the order the crisis section groups them
KINDS = (
    ("single-site", N_("loss of one site")),
    ("node", N_("loss of one backbone node")),
    ("link", N_("one fibre cut")),
    ("srlg", N_("one fibre trench cut (a shared-risk group)")),
    ("county", N_("loss of a county")),
    ("power-zone", N_("blackout of a power zone")),
    ("hazard", N_("loss of the area around a hazard")),
    ("circle", N_("loss of an area")),
    ("preset", N_("the dataset's crisis presets")),
    ("attack", N_("the worst attacks")),
)


def class_shares(r: ScenarioRow, classes: Sequence[str], tr: Tr) -> list[str]:
    return [tr.pct(r.served(c)) for c in classes]


def levels_text(v: bool | None, tr: Tr) -> str:
    return {True: tr("met"), False: tr("NOT met"), None: "-"}[v]


def _short(r: ScenarioRow, classes: Sequence[str]) -> bool:
    """A row that falls short: any class or all load below 100 %, or its levels missed."""
    return (
        r.demand_served_share < 1 - 1e-9
        or any((r.served(c) or 1.0) < 1 - 1e-9 for c in classes)
        or r.levels_met is False
    )


def _group(r: ScenarioRow) -> str:
    kinds = {k for k, _ in KINDS}
    return r.kind if r.kind in kinds else "other"


def _worst_line(label: str, rows: Sequence[ScenarioRow], view: PlanView, tr: Tr) -> str | None:
    """“<label>: <meaning>, after which 15,0 % of the load and 12,1 % of critical load is
    served.” for the worst row of ``rows`` (None without rows)."""
    if not rows:
        return None
    w = min(rows, key=lambda r: (r.demand_served_share, r.scenario))
    first = view.classes[0] if view.classes else None
    crit = w.served(first) if first else None
    text = tr(
        "{label}: {meaning}, after which {share} of the load is served",
        label=label,
        meaning=meaning(w, view.site_names, tr),
        share=tr.pct(w.demand_served_share),
    )
    if crit is not None and first is not None:
        text += tr(" ({share} of {cls} load)", share=tr.pct(crit), cls=tr(first))
    return text + "."


def decision(view: PlanView, tr: Tr, fees: Fees | None) -> str:
    """The first page: what is proposed, what it costs, what it survives and what it does
    not, each in a sentence with its figure; the headline worst case over every scenario
    shown (required, presets, attacks)."""
    plan, data = view.plan, view.data
    k = data.kpis
    sites = data.opened
    names = tr.join([f"{s.name} ({tr(s.type or '')})" for s in sites])
    parts = [
        "<h2>" + html.escape(tr("The decision")) + "</h2>",
        "<p>"
        + html.escape(
            tr.n(
                "Proposed: build {n} site: {names}.",
                "Proposed: build {n} sites: {names}.",
                len(sites),
                names=names,
            )
        )
        + "</p>",
        "<p>"
        + html.escape(
            tr(
                "It costs {cost} (the buildings' annualised capital and running cost; no "
                "staff, hardware or network) for {racks} racks of capacity and {load} racks "
                "of primary load. The plan is {proof}.",
                cost=tr.msek(k.cost_msek),
                racks=tr.g(k.capacity_racks),
                load=tr.g(k.primary_load_racks),
                proof=_proof(plan, tr),
            )
        )
        + "</p>",
    ]
    required = view.rows[: view.required]
    outside = view.outside
    presets = [r for r in outside if r.kind == "preset"]
    attacks = [r for r in outside if r.kind == "attack"]
    one = [r for r in attacks if " + " not in r.scenario]
    two = [r for r in attacks if " + " in r.scenario]
    lines = [
        _worst_line(
            tr.n(
                "Required ({n} scenario)",
                "Required ({n} scenarios)",
                len(required),
            ),
            required,
            view,
            tr,
        ),
        _worst_line(
            tr("Outside the requirements, the dataset's crisis presets"), presets, view, tr
        ),
        _worst_line(tr("Outside the requirements, the worst attack on one target"), one, view, tr),
        _worst_line(tr("Outside the requirements, the worst attack on two targets"), two, view, tr),
    ]
    every = view.rows
    if every:
        w = min(every, key=lambda r: (r.demand_served_share, r.scenario))
        where = tr("a required scenario") if w in required else tr("outside the requirements")
        parts.append(
            '<p class="headline"><strong>'
            + html.escape(
                tr(
                    "Worst case of all {n} scenarios shown: {meaning} ({where}): {share} of "
                    "the load is served.",
                    n=len(every),
                    meaning=meaning(w, view.site_names, tr),
                    where=where,
                    share=tr.pct(w.demand_served_share),
                )
            )
            + "</strong></p>"
        )
    parts.append("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines if x) + "</ul>")
    met = [r for r in required if r.levels_met is not None]
    if met:
        missed = [r for r in met if r.levels_met is False]
        parts.append(
            "<p>"
            + html.escape(
                tr("The plan's service levels hold in all {n} scenarios that set them.", n=len(met))
                if not missed
                else tr(
                    "The service levels are NOT met in {n} scenario(s): {names}.",
                    n=len(missed),
                    names=", ".join(meaning(r, view.site_names, tr) for r in missed[:5]),
                )
            )
            + "</p>"
        )
    ties = [s.name for s in sites if (r := regret_of(s)) is not None and r <= 1e-6]
    if ties:
        parts.append(
            "<p>"
            + html.escape(
                tr(
                    "Equally cheap plans exist without {names}: cost alone does not pick these "
                    "towns.",
                    names=tr.join(ties),
                )
            )
            + "</p>"
        )
    rule = view.plan.run.ties
    if rule is not None:
        parts.append(
            "<p>"
            + html.escape(
                tr(
                    "Among plans of the same cost, this one was chosen by a stated rule: fewer "
                    "new sites, then more existing sites, then shorter latency."
                )
                + (
                    ""
                    if not rule.changed
                    else " "
                    + tr(
                        "The solver's first plan of that cost had {names}.",
                        names=tr.join([view.site_names.get(s, s) for s in rule.sites_before]),
                    )
                )
            )
            + "</p>"
        )
    if view.explanation is not None:
        by_id = {s.site_id: s.name for s in view.ds.sites}
        free = [by_id.get(p.site_id, p.site_id) for p in view.explanation.probes
                if p.role == "rejected" and p.change is not None and p.change <= 1e-6]  # fmt: skip
        if free:
            parts.append(
                "<p>"
                + html.escape(
                    tr(
                        "Forcing in {names} costs nothing more: a plan of the same cost "
                        "exists with each of them.",
                        names=tr.join(free[:4]),
                    )
                )
                + "</p>"
            )
    if fees is not None and fees.rows:
        parts.append(_fees_table(fees, tr))
    return "".join(parts)


def _proof(plan: Any, tr: Tr) -> str:
    status = plan.status.value
    if status == "optimal":
        return tr("proved optimal by the solver")
    if status == "feasible":
        return tr("feasible, not proved optimal (gap {gap})", gap=tr.pct(plan.gap))
    return tr(status)


def _fees_table(fees: Fees, tr: Tr) -> str:
    premium = fees.premium is not None
    rows = [
        (
            r.payer,
            tr.num(r.fee_msek),
            tr.pct(r.share),
            *([tr.num(r.premium_msek) if r.premium_msek else "-"] if premium else []),
        )
        for r in fees.rows
    ]
    how = {
        "load": tr("by load"),
        "reserved": tr("by reserved capacity"),
        "shapley": tr("by cost causation (Shapley)"),
    }[fees.method]
    text = tr("Each agency's annual fee ({how}, full cost recovery).", how=how)
    if premium:
        text += " " + tr(
            "The protection premium is what the protection levels cost, charged to the "
            "agencies whose load needs them."
        )
    head = [tr("agency"), tr("MSEK/year"), tr("share")]
    head += [tr("of which protection premium")] if premium else []
    return f"<h3>{html.escape(tr('What each agency pays'))}</h3><p>{html.escape(text)}</p>" + table(
        head, rows
    )


def indicators(view: PlanView, tr: Tr, fees: Fees | None) -> str:
    """Statskontoret's (2025) indicators for coordinated state IT operations, where the
    model can compute them."""
    k = view.data.kpis
    served = {r.payer for r in fees.rows} if fees is not None else set()
    rows = []
    if fees is not None:
        rows.append((tr("agencies connected"), tr.g(len(served))))
    rows.append((tr("load units served (racks of primary load)"), tr.g(k.primary_load_racks)))
    if k.cost_msek is not None and k.primary_load_racks:
        rows.append(
            (
                tr("average cost per unit (MSEK a rack and year)"),
                tr.num(k.cost_msek / k.primary_load_racks),
            )
        )
    note = tr(
        "The share of the beredskapsmyndigheter connected needs the data to mark them; the "
        "fee's change per year is in a roll-out's fees; availability, opening hours and "
        "customer satisfaction are operational and outside the model."
    )
    return (
        f"<h2>{html.escape(tr('Indicators (Statskontoret 2025)'))}</h2>"
        + table([tr("indicator"), tr("value")], rows)
        + f"<p>{html.escape(note)}</p>"
    )


def assumptions(view: PlanView, tr: Tr) -> list[str]:
    """The plan's main assumptions in words, each with its value."""
    cfg = view.plan.config
    if cfg is None:
        return []
    out = [
        tr.n(
            "{n} copy of each service (a primary site).",
            "{n} copies of each service: a primary site and backups.",
            cfg.k,
        )
    ]
    if cfg.k > 1 and cfg.separation_km:
        out.append(
            tr(
                "At least {km} km between a user's primary and backup sites (BSI's "
                "geo-redundancy figure).",
                km=tr.g(cfg.separation_km),
            )
        )
    if cfg.separate_power_zone:
        out.append(tr("A user's primary and backup sites are in different power zones."))
    if cfg.min_site_distance_km:
        out.append(
            tr(
                "Opened sites at least {km} km apart.",
                km=tr.g(cfg.min_site_distance_km),
            )
        )
    if cfg.hazards != "off":
        out.append(
            tr("No site within the hazards' buffers (BSI: 40 km from nuclear power plants).")
            if cfg.hazards == "hard"
            else tr("Sites near hazards cost more.")
        )
    soft = sorted(c for c, m in cfg.hazard_classes.items() if m == "soft")
    if soft:
        out.append(
            tr(
                "Sites near these hazards are allowed but cost up to {msek} MSEK/year more: "
                "{classes}.",
                msek=tr.g(cfg.hazard_penalty_msek),
                classes=tr.join([tr(HAZARD_CLASSES.get(c, c)) for c in soft]),
            )
        )
    if cfg.coast_km:
        out.append(tr("No site within {km} km of the coast.", km=tr.g(cfg.coast_km)))
    if cfg.p_min is not None or cfg.p_max is not None:
        out.append(
            tr(
                "Between {lo} and {hi} sites.",
                lo=tr.g(cfg.p_min if cfg.p_min is not None else 1),
                hi=tr.g(cfg.p_max) if cfg.p_max is not None else "-",
            )
        )
    if cfg.capacity:
        out.append(tr("Primary load fits the capacity of the site type built."))
    if cfg.protection:
        out.append(tr("Load that needs protection is placed only on site types protected enough."))
    for sl in cfg.crisis.service_levels():
        out.append(
            tr(
                "After every scenario of {sets}: {shares} served.",
                sets=tr.join([tr(x) for x in sl.sets]),
                shares=tr.join(
                    [
                        tr("{share} of {cls} load", share=tr.pct(v), cls=tr(c))
                        for c, v in sl.serve.items()
                    ]
                ),
            )
        )
    out.append(
        tr("Users on an island apart from the national network count as lost.")
        if view.plan.islands
        else tr("Users on an island are served by a site on the island that holds their data.")
    )
    return out


def scenario_groups(view: PlanView, tr: Tr) -> str:
    """One line per kind of scenario, every row that falls short, the whole table in an
    appendix."""
    classes = view.classes
    names = view.site_names
    by: dict[str, list[ScenarioRow]] = {}
    for r in view.rows:
        by.setdefault(_group(r), []).append(r)
    labels = dict(KINDS)
    head = [tr("kind"), tr("scenarios"), tr("worst: all load"), *[
        tr("worst: {cls}", cls=tr(c)) for c in classes], tr("below 100 %")]  # fmt: skip
    rows = []
    for kind in [k for k, _ in KINDS] + ["other"]:
        grp = by.get(kind, [])
        if not grp:
            continue
        rows.append(
            (
                tr(labels.get(kind, N_("other scenarios"))),
                tr.g(len(grp)),
                tr.pct(min(r.demand_served_share for r in grp)),
                *[
                    tr.pct(min((v for r in grp if (v := r.served(c)) is not None), default=None))
                    for c in classes
                ],
                tr.g(sum(1 for r in grp if _short(r, classes))),
            )
        )
    short = sorted(
        (r for r in view.rows if _short(r, classes)),
        key=lambda r: (r.demand_served_share, r.scenario),
    )
    short_rows = [
        (
            meaning(r, names, tr),
            tr.pct(r.demand_served_share),
            *class_shares(r, classes, tr),
            levels_text(r.levels_met, tr),
            tr(labels.get(_group(r), N_("other scenarios"))),
        )
        for r in short
    ]
    return (
        table(head, rows)
        + f"<h3>{html.escape(tr('Every scenario with load not served'))}</h3>"
        + (
            table(
                [
                    tr("scenario"),
                    tr("all load served"),
                    *[tr("{cls} served", cls=tr(c)) for c in classes],
                    tr("service levels"),
                    tr("kind"),
                ],
                short_rows,
            )
            if short_rows
            else f"<p>{html.escape(tr('None: every scenario serves all load.'))}</p>"
        )
    )


def regret_of(s: SiteMark) -> float | None:
    return float(s.regret) if isinstance(s.regret, int | float) else None


def price_section(
    price: Sequence[Any] | None, classes: Sequence[str], names: dict[str, str], tr: Tr
) -> str:
    """The price of resilience: each rung's cost and sites, and the worst share served over
    the same yardstick (``price``: rows of :func:`nisd.api.price.price_of_resilience`)."""
    if not price:
        return ""
    esc = html.escape
    base = next((r.cost_msek for r in price if r.cost_msek is not None), None)
    rows = []
    for r in price:
        if r.cost_msek is None:
            rows.append((tr(r.rung), tr("no plan"), "-", "-", "-", *["-" for _ in classes], "-"))
            continue
        step = r.cost_msek - base if base is not None else None
        rows.append(
            (
                tr(r.rung),
                tr.num(r.cost_msek),
                "-" if not step else ("+" if step > 0 else "") + tr.num(step),
                ", ".join(r.sites),
                tr.pct(r.worst_share),
                *[tr.pct(r.worst_by_class.get(c)) for c in classes],
                meaning(r.worst_scenario, names, tr) if r.worst_scenario else "-",
            )
        )
    top = max((r.cost_msek or 0.0 for r in price), default=1.0) or 1.0
    bars = [f'<svg role="img" width="560" height="{26 * len(price) + 8}">']
    for n, r in enumerate(price):
        w = 300 * (r.cost_msek or 0.0) / top
        label = esc(tr(r.rung))
        bars.append(
            f'<text x="210" y="{26 * n + 18}" text-anchor="end" font-size="12">{label}</text>'
            f'<rect x="216" y="{26 * n + 6}" width="{w:.1f}" height="16" fill="#1f4e9c"/>'
            f'<text x="{220 + w:.1f}" y="{26 * n + 18}" font-size="12">'
            f"{esc(tr.msek(r.cost_msek))}</text>"
        )
    bars.append("</svg>")
    source = tr(
        "Computed when this report was written: each rung planned from the scenario library "
        "on the same data, and measured on the same yardstick, the dataset's crisis presets "
        "and the worst attacks of one and two targets on that rung's plan."
    )
    return (
        f"<h2>{esc(tr('The price of resilience'))}</h2><p>{esc(source)}</p>"
        + "".join(bars)
        + table(
            [
                tr("rung"),
                tr("MSEK/year"),
                tr("more than peace"),
                tr("sites"),
                tr("worst: all load"),
                *[tr("worst: {cls}", cls=tr(c)) for c in classes],
                tr("worst scenario"),
            ],
            rows,
        )
    )


__all__ = [
    "KINDS",
    "assumptions",
    "class_shares",
    "decision",
    "indicators",
    "levels_text",
    "price_section",
    "regret_of",
    "scenario_groups",
]
