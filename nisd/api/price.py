"""The price of resilience: the scenario library's rungs (peace, heightened alert, war, and
three copies of each service instead of two) planned on the same data, each measured on the
same yardstick, so that a steering group sees what each step costs and what it buys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nisd.api.pages import view, worst_attacks
from nisd.api.solve import plan as _plan
from nisd.dataset import Dataset
from nisd.errors import NisdError
from nisd.records import Plan, ScenarioRow
from nisd.render.i18n import N_

# (rung, scenario of the library, overrides)
RUNGS: tuple[tuple[str, str, dict[str, int]], ...] = (
    (N_("peace (baseline)"), "baseline", {}),
    (N_("peace, three copies (k = 3)"), "baseline", {"k": 3}),
    (N_("heightened alert"), "heightened-alert", {}),
    (N_("war"), "war", {}),
)


@dataclass(frozen=True)
class PriceRow:
    """One rung: its plan's cost and sites, and the worst share of all load and of each
    class served over the yardstick (the dataset's crisis presets and the worst attacks
    of one and two targets on that plan), or why it has no plan."""

    rung: str
    scenario: str
    cost_msek: float | None
    sites: tuple[str, ...]
    worst_share: float | None
    worst_by_class: dict[str, float | None]
    worst_scenario: ScenarioRow | None
    note: str | None = None


def price_of_resilience(
    ds: Dataset, rungs: Sequence[tuple[str, str, dict[str, int]]] = RUNGS
) -> list[PriceRow]:
    """Each rung planned (``rungs``: name, library scenario, overrides) and measured on the
    same yardstick. A rung without a plan says why instead of stopping the others."""
    out = []
    classes = list(ds.config.criticality.levels)
    for name, scenario, overrides in rungs:
        try:
            p: Plan = _plan(ds, scenario, **overrides)
        except NisdError as exc:
            out.append(PriceRow(name, scenario, None, (), None, {}, None, str(exc)))
            continue
        v = view(ds, p, attacks=worst_attacks(ds, p))
        rows = [r for r in v.outside if r.kind in ("preset", "attack")]
        worst = min(rows, key=lambda r: (r.demand_served_share, r.scenario)) if rows else None
        by = {
            c: min((x for r in rows if (x := r.served(c)) is not None), default=None)
            for c in classes
        }
        out.append(
            PriceRow(
                rung=name,
                scenario=scenario,
                cost_msek=p.kpis.cost_msek,
                sites=tuple(sorted(ds.site_by_id[s].name for s in p.sites)),
                worst_share=worst.demand_served_share if worst else None,
                worst_by_class=by,
                worst_scenario=worst,
            )
        )
    return out


__all__ = ["RUNGS", "PriceRow", "price_of_resilience"]
