"""Crisis results in words, for the report, the map and the command line.

Every figure comes from the scenario rows of the served-load evaluator
(:func:`nisd.topology.resilience.evaluate`); nothing here computes a share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nisd.records.plan import ScenarioRow, WarRecord
from nisd.render.i18n import EN, N_, Tr

CLASS_RULE = N_(
    "Shares per class are of each class's whole load; a user cut off from every site (or "
    "left on an island apart from the national network, where the plan skips islands) "
    "counts as lost. Where a scenario's service levels bind, the class figures are those "
    "of a flow that meets the levels (a more critical class may give up load it does not "
    "need); elsewhere critical load is served first, then high, then normal."
)


def class_rule(tr: Tr = EN) -> str:
    """The rule behind the per-class figures, in the page's language."""
    return tr(CLASS_RULE)


def _share_of(v: float, what: str, tr: Tr) -> str:
    return (
        tr("all {what}", what=what)
        if v >= 1 - 1e-9
        else tr("{share} of {what}", share=tr.pct(v), what=what)
    )


def _total(v: float, tr: Tr) -> str:
    return (
        tr("all the load") if v >= 1 - 1e-9 else tr("{share} of the load in all", share=tr.pct(v))
    )


def _load(c: str, tr: Tr) -> str:
    return tr("{cls} load", cls=tr(c))


def meaning(row: ScenarioRow, names: Mapping[str, str], tr: Tr = EN) -> str:
    """What a scenario stands for, in the page's language: generated scenarios are told
    from their kind and target; presets keep the data's own words."""
    if row.kind in ("preset", "", None) or (tr.lang == "en" and row.kind != "attack"):
        return row.meaning or row.scenario
    what = row.scenario.partition(" ")[2]
    if row.kind == "single-site":
        return tr("site {name} is lost", name=names.get(what, what))
    if row.kind == "node":
        return tr("backbone node {name} is lost", name=what)
    if row.kind == "link":
        return tr("fibre {name} is cut", name=what)
    if row.kind == "srlg":
        return tr("every link in shared-risk group {name} is cut", name=what)
    if row.kind == "county":
        return tr(
            "{name} is lost: its sites and backbone nodes", name=row.meaning.split(" is lost")[0]
        )
    if row.kind == "power-zone":
        zone = row.scenario.rsplit(" ", 1)[-1]
        return tr("blackout of power zone {name}: every site in it is down", name=zone)
    if row.kind == "attack":
        targets = [t.partition(":") for t in row.scenario.removeprefix("attack ").split(" + ")]
        return tr(
            "attack on {targets}",
            targets=tr.join([f"{tr(k)} {names.get(x, x)}" for k, _, x in targets]),
        )
    if row.kind == "hazard":
        return tr("everything near {name} is lost", name=what)
    return row.meaning or row.scenario


def reachable(row: ScenarioRow, cls: str) -> float | None:
    """The share of class ``cls`` served of the users still connected (what the plan's
    sites can change); of the whole class for a row without those shares."""
    if row.reachable_by_class:
        return row.reachable_by_class.get(cls)
    return row.served(cls)


def worst_by_class(
    rows: Sequence[ScenarioRow], classes: Sequence[str], connected: bool = False
) -> list[tuple[str, ScenarioRow]]:
    """Per class with load: the scenario that leaves the smallest share of it served (of
    all its load; ``connected``: of the load of the users still connected); ties go to the
    smaller share of all load, then to the name."""

    def share(r: ScenarioRow, c: str) -> float | None:
        return reachable(r, c) if connected else r.served(c)

    out = []
    for c in classes:
        have = [r for r in rows if share(r, c) is not None]
        if have:
            worst = min(have, key=lambda r: (share(r, c) or 0.0, r.demand_served_share, r.scenario))
            out.append((c, worst))
    return out


def scenario_sentence(
    row: ScenarioRow, classes: Sequence[str], names: Mapping[str, str], tr: Tr = EN
) -> str:
    """“After <meaning>, all critical load, 84.0 % of high load and 60.0 % of all load
    is served; Skellefteå and Härnösand run full.”"""
    cut = row.cut_off
    island = set(row.islanded) & set(cut)
    after = tr("After {meaning}, ", meaning=meaning(row, names, tr))
    if cut and row.reachable_by_class:
        parts = [
            _share_of(v, _load(c, tr), tr)
            for c in classes
            if (v := row.reachable_by_class.get(c)) is not None
        ]
        text = after + tr("{parts} of the users still connected is served", parts=tr.join(parts))
        gone = []
        if len(cut) > len(island):
            gone.append(
                tr.n(
                    "{n} user point is cut off from every site (inside the lost area or its "
                    "own fibre gone)",
                    "{n} user points are cut off from every site (inside the lost area or "
                    "their own fibre gone)",
                    len(cut) - len(island),
                )
            )
        if island:
            gone.append(
                tr.n(
                    "{n} user point is on an island apart from the national network (its "
                    "load counts as lost)",
                    "{n} user points are on an island apart from the national network "
                    "(their load counts as lost)",
                    len(island),
                )
            )
        text += "; " + tr.join(gone)
        text += tr("; in all, {share} is served", share=_total(row.demand_served_share, tr))
    else:
        parts = [
            _share_of(v, _load(c, tr), tr) for c in classes if (v := row.served(c)) is not None
        ]
        parts.append(_total(row.demand_served_share, tr))
        text = after + tr("{parts} is served", parts=tr.join(parts))
    full = [names.get(s, s) for s in row.full_sites]
    if full:
        text += tr.n("; {names} runs full", "; {names} run full", len(full), names=tr.join(full))
    return text + "."


def crisis_summary(
    rows: Sequence[ScenarioRow], classes: Sequence[str], names: Mapping[str, str], tr: Tr = EN
) -> list[str]:
    """One sentence per distinct worst scenario, most critical class first.

    Worst is judged over the users still connected (what the plan's sites can
    change); a class served in full in every scenario is said so in one sentence.
    """
    out: list[str] = []
    seen: set[str] = set()
    always = []
    for c, row in worst_by_class(rows, classes, connected=True):
        if (reachable(row, c) or 0.0) >= 1 - 1e-9:
            always.append(c)
            continue
        if row.scenario in seen:
            continue
        seen.add(row.scenario)
        out.append(
            tr("Worst for {what}: ", what=_load(c, tr)) + scenario_sentence(row, classes, names, tr)
        )
    if always:
        what = tr.join([_load(c, tr) for c in always])
        if any(r.cut_off for r in rows):
            out.insert(
                0,
                tr(
                    "All {what} of the users still connected is served in every scenario "
                    "evaluated.",
                    what=what,
                ),
            )
        else:
            out.insert(0, tr("All {what} is served in every scenario evaluated.", what=what))
    return out


def war_summary(
    war: WarRecord | None, classes: Sequence[str], names: Mapping[str, str], tr: Tr = EN
) -> list[str]:
    """What a plan robust to attacks was proved to survive, and its worst attack, in words."""
    if war is None:
        return []
    kinds = ", ".join(tr(k) for k in war.targets)
    added = sum(1 for it in war.iterations if it.attack)
    keep = (
        tr.join([_share_of(float(v), _load(c, tr), tr) for c, v in war.serve.items()])
        if war.serve
        else ""
    )
    out = []
    if war.certificate is not None:
        out.append(
            tr(
                "Proved: after any attack of budget {budget} on {kinds}, {keep} is still served "
                "({searches} attack search(es), {added} attack(s) added while planning).",
                budget=tr.g(war.attacks),
                kinds=kinds,
                keep=keep,
                searches=len(war.iterations),
                added=added,
            )
        )
    worst = war.worst_attack
    if worst is not None:
        hit = [t.split(":", 1) for t in worst.targets]
        what = tr.join([f"{tr(k)} {names.get(x, x)}" for k, x in hit]) if hit else tr("nothing")
        shares = [
            _share_of(v, _load(c, tr), tr) for c in classes if (v := worst.served(c)) is not None
        ]
        text = tr(
            "Worst attack: {what}; then {shares} is served", what=what, shares=tr.join(shares)
        )
        if worst.full_sites:
            full = [names.get(x, x) for x in worst.full_sites]
            text += tr.n(
                "; {names} runs full", "; {names} run full", len(full), names=tr.join(full)
            )
        out.append(text + ".")
    return out
