"""From a plan record to what its pages show: the crisis scenarios evaluated, the attacks,
the site regrets and the sensitivity, and the map's data.

The studies a page shows beside the plan (its explanation, its sensitivity, the
attacks of ``nisd attack --out``) come in as records, read and checked by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nisd.dataset import Dataset
from nisd.errors import InputError, Problem
from nisd.optimise.interdict import Target, attack_scenario
from nisd.records.attack import AttackResult
from nisd.records.plan import Plan, ScenarioRow
from nisd.records.study import Explanation, Sensitivity
from nisd.render.html import map_page, map_words
from nisd.render.i18n import EN, Tr
from nisd.render.payload import MapData, build_payload
from nisd.render.words import meaning, war_summary
from nisd.topology import build_graph
from nisd.topology.resilience import evaluate
from nisd.topology.scenarios import Scenario, parse_sets, scenario_sets

DEFAULT_MAP_SETS = ("single-site", "county", "power-zone", "presets")


@dataclass(frozen=True)
class PlanView:
    """A plan with everything its pages show."""

    plan: Plan
    ds: Dataset
    data: MapData  # the map's data, with the evaluated scenarios
    sets: tuple[str, ...]  # the scenario sets of the crisis view
    attacks: tuple[str, ...]  # the scenario names of the attacks shown
    war_words: tuple[str, ...]  # what a robust plan was proved to survive, in words
    explanation: Explanation | None = None
    sensitivity: Sensitivity | None = None
    required: int = 0  # the first rows: the scenarios the plan was checked against

    @property
    def outside(self) -> list[ScenarioRow]:
        """The rows evaluated beside the plan's requirements (presets, attacks, sets asked)."""
        return self.rows[self.required :]

    @property
    def rows(self) -> list[ScenarioRow]:
        return self.data.rows()

    @property
    def site_names(self) -> dict[str, str]:
        """Names of the sites and backbone nodes by id (what scenarios and attacks name)."""
        return {n.node_id: n.name for n in self.ds.nodes} | {
            s.site_id: s.name for s in self.ds.sites
        }

    @property
    def classes(self) -> list[str]:
        return list(self.ds.config.criticality.levels)


def attack_scenarios(
    ds: Dataset, plan: Plan, attacks: AttackResult | None = None, where: str = "attack file"
) -> list[Scenario]:
    """The attacks a page shows: those a robust plan was planned against, its worst attack,
    and those of an ``nisd attack --out`` record, once each, in that order.

    Raises
    ------
    InputError
        An attack names a site, node or shared-risk group the dataset does not have.
    """
    found: list[tuple[str, ...]] = plan.run.war.attacks_found() if plan.run.war else []
    if attacks is not None:
        found += [a.targets for a in attacks.attacks]
    known = {
        "site": set(ds.site_ids),
        "node": set(ds.node_by_id),
        "srlg": {grp for lk in ds.links for grp in lk.srlg},
    }
    pairs = [[t.partition(":")[::2] for t in one] for one in found]
    problems = [
        Problem(where, f"attack target {k}:{i} is not in the dataset")
        for one in pairs
        for k, i in one
        if i not in known.get(k, set())
    ]
    if problems:
        raise InputError(problems)
    out: dict[str, Scenario] = {}
    for one in pairs:
        sc = attack_scenario([Target(k, i) for k, i in one])
        out.setdefault(sc.name, sc)
    return list(out.values())


def plan_view(
    ds: Dataset,
    plan: Plan,
    *,
    sets: Sequence[str] | str | None = None,
    title: str = "NISD plan",
    redact: bool = False,
    attacks: AttackResult | None = None,
    explanation: Explanation | None = None,
    sensitivity: Sensitivity | None = None,
) -> PlanView:
    """The plan's pages' content.

    Its crisis view holds the scenarios the plan was checked against, with the figures
    ``plan.json`` holds (one count everywhere), then what else a reader should see,
    evaluated capacity-true under the plan's own rules and outside its requirements: the
    dataset's crisis presets, the attacks (those a robust plan was planned against, its
    worst attack, an ``nisd attack --out`` record) and the scenario sets ``sets`` adds. A
    plan checked against nothing (made by hand) shows ``sets`` or
    :data:`DEFAULT_MAP_SETS`.
    """
    if isinstance(sets, str):
        sets = parse_sets(sets)
    g = build_graph(ds)
    own = {r.scenario: r for r in plan.scenarios}
    defs = {sc.name: sc for sc in scenario_sets(ds, g, plan.crisis_sets)} if own else {}
    missing = sorted(set(own) - set(defs))
    if missing:  # a scenario of the plan the data no longer gives (an attack, or old data)
        defs |= {sc.name: sc for sc in attack_scenarios(ds, plan) if sc.name in own}
    scen = [defs[n] for n in own if n in defs]
    rows = [own[sc.name] for sc in scen]
    asked = list(sets or (() if own else DEFAULT_MAP_SETS))
    if "presets" not in asked:
        asked.append("presets")
    shown = attack_scenarios(ds, plan, attacks)
    extra = [sc for sc in scenario_sets(ds, g, asked, sorted(plan.sites)) if sc.name not in own]
    extra += [sc for sc in shown if sc.name not in own]
    extra = list({sc.name: sc for sc in extra}.values())
    classes = list(ds.config.criticality.levels)
    war = plan.config.war if plan.config is not None and plan.config.war.on else None
    # a robust plan's attacks are checked against its [war] levels
    levels = {sc.name: [float(war.serve.get(c, 0.0)) for c in classes] for sc in shown if war}
    if extra:
        rows += evaluate(
            ds,
            g,
            dict(plan.sites),
            extra,
            assignments={d: list(v) for d, v in plan.assignments.items()} or None,
            levels=levels or None,
            check_two_routes=False,
            split=plan.split,
            islands=plan.islands,
        ).rows
    data = build_payload(
        ds,
        plan,
        scen + extra,
        rows,
        title=f"{title}: {ds.config.name}",
        redact=redact,
        regrets=explanation.regrets() if explanation is not None else None,
    )
    return PlanView(
        plan=plan,
        ds=ds,
        data=data,
        sets=tuple(plan.crisis_sets) + tuple(s for s in asked if s not in plan.crisis_sets),
        attacks=tuple(sc.name for sc in shown),
        war_words=tuple(war_summary(plan.run.war, classes, {s.site_id: s.name for s in ds.sites})),
        explanation=explanation,
        sensitivity=sensitivity,
        required=len(own),
    )


def plan_map(
    view: PlanView, *, banner: str | None = None, tiles: str | None = None, tr: Tr = EN
) -> str:
    """The self-contained map page of a plan (``nisd map``, ``plan --map``, sweeps), in
    ``tr``'s language."""
    sub = tr(
        "{sites} sites; {required} required scenarios and {more} more; sets: {sets}",
        sites=len(view.plan.sites),
        required=view.required,
        more=len(view.outside),
        sets=", ".join(tr(s) for s in view.sets),
    ) + (tr("; positions redacted to county") if view.data.redacted else "")
    names = view.site_names
    meanings = {r.meaning: meaning(r, names, tr) for r in view.rows if r.meaning}
    return map_page(
        view.data,
        banner=banner,
        tiles=tiles,
        subtitle=sub,
        tr=tr,
        words=map_words(tr, view.data, meanings),
    )


def draw_plan_map(plan: Plan, ds: Dataset) -> str:
    """The map page of a plan as ``nisd map`` draws it from its file with no options (a
    sweep's worker draws its plan's map beside the solve)."""
    return plan_map(plan_view(ds, plan), tr=Tr(ds.config.language))
