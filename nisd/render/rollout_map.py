"""A roll-out on the map: per year what is in service, being built and on board, and under
uncertainty every future's years; the map page of a roll-out alone."""

from __future__ import annotations

from nisd.dataset import Dataset
from nisd.records.rollout import Rollout
from nisd.render.html import map_page
from nisd.render.i18n import EN, Tr
from nisd.render.payload import (
    BranchView,
    MapData,
    Point,
    YearView,
    build_payload,
    lines_of,
    positions,
)


def _year_views(rollout: Rollout, pos: dict[str, Point]) -> tuple[YearView, ...]:
    return tuple(
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


def rollout_payload(
    ds: Dataset, rollout: Rollout, *, title: str, redact: bool = False, tr: Tr = EN
) -> MapData:
    """The map data of a roll-out: all its sites, and per year what is in service, being
    built and on board, with the year's assignment lines; under uncertainty every
    future's years too (a site opened in any future is drawn, with the type it first has)."""
    data = build_payload(ds, rollout.final_plan(), title=title, redact=redact)
    pos = positions(ds, redact)
    t = rollout.totals
    kpis = data.kpis.model_copy(
        update={
            "status": rollout.status.value,
            "gap": rollout.gap,
            "objective": tr(
                "discounted cost {v} MSEK", v=tr.num(t.discounted_cost_msek if t else None)
            ),
        }
    )
    update: dict[str, object] = {"years": _year_views(rollout, pos), "kpis": kpis}
    if rollout.branches:
        branches = tuple(
            BranchView(
                name=b.name,
                probability=b.probability,
                years=_year_views(rollout.branch(b.name), pos),
            )
            for b in rollout.branches
        )
        typed: dict[str, str] = {}
        for b in branches:
            for y in b.years:
                for s, kind in y.sites.items():
                    typed.setdefault(s, kind)
        update["sites"] = tuple(
            m if m.type or m.id not in typed else m.model_copy(update={"type": typed[m.id]})
            for m in data.sites
        )
        update["branches"] = branches
        update["shown_branch"] = next(
            n for n, b in enumerate(rollout.branches) if b.name == rollout.shown_branch
        )
    return data.model_copy(update=update)


def rollout_map(
    ds: Dataset,
    rollout: Rollout,
    *,
    banner: str | None = None,
    redact: bool = False,
    tr: Tr = EN,
) -> str:
    """The roll-out's map page alone, with its year control, in ``tr``'s language."""
    title = tr("NISD roll-out") + ": " + ds.config.name
    data = rollout_payload(ds, rollout, title=title, redact=redact, tr=tr)
    years = rollout.year_numbers
    return map_page(data, banner=banner, subtitle=f"{years[0]}–{years[-1]}", tr=tr)
