"""Crisis results in words, for the report, the map and the command line.

Every figure comes from the scenario rows of the served-load evaluator
(:func:`nisd.topology.resilience.evaluate`); nothing here computes a share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nisd.records.plan import ScenarioRow, WarRecord

CLASS_RULE = (
    "Shares per class are of each class's whole load; a user cut off from every site (or "
    "left on an island apart from the national network, where the plan skips islands) "
    "counts as lost. Where a scenario's service levels bind, the class figures are those "
    "of a flow that meets the levels (a more critical class may give up load it does not "
    "need); elsewhere critical load is served first, then high, then normal."
)


def _share_of(v: float, what: str) -> str:
    return f"all {what}" if v >= 1 - 1e-9 else f"{v:.1%} of {what}"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


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


def scenario_sentence(row: ScenarioRow, classes: Sequence[str], names: Mapping[str, str]) -> str:
    """“After <meaning>, all critical load, 84.0 % of high load and 60.0 % of all load
    is served; Skellefteå and Härnösand run full.”"""
    cut = row.cut_off
    island = set(row.islanded) & set(cut)
    after = f"After {row.meaning or row.scenario}, "
    if cut and row.reachable_by_class:
        parts = [
            _share_of(v, f"{c} load")
            for c in classes
            if (v := row.reachable_by_class.get(c)) is not None
        ]
        text = after + _and(parts) + " of the users still connected is served"
        gone = []
        if len(cut) > len(island):
            gone.append(
                f"{len(cut) - len(island)} user point(s) are cut off from every site "
                "(inside the lost area or their own fibre gone)"
            )
        if island:
            gone.append(
                f"{len(island)} user point(s) are on an island apart from the national network"
                " (their load counts as lost)"
            )
        text += "; " + _and(gone)
        text += f"; in all, {_share_of(row.demand_served_share, 'the load')} is served"
    else:
        parts = [_share_of(v, f"{c} load") for c in classes if (v := row.served(c)) is not None]
        parts.append(_share_of(row.demand_served_share, "the load in all"))
        text = after + _and(parts) + " is served"
    full = [names.get(s, s) for s in row.full_sites]
    if full:
        text += f"; {_and(full)} run{'s' if len(full) == 1 else ''} full"
    return text + "."


def crisis_summary(
    rows: Sequence[ScenarioRow], classes: Sequence[str], names: Mapping[str, str]
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
        out.append(f"Worst for {c} load: " + scenario_sentence(row, classes, names))
    if always:
        whose = " of the users still connected" if any(r.cut_off for r in rows) else ""
        out.insert(0, f"All {_and(always)} load{whose} is served in every scenario evaluated.")
    return out


def war_summary(
    war: WarRecord | None, classes: Sequence[str], names: Mapping[str, str]
) -> list[str]:
    """What a plan robust to attacks was proved to survive, and its worst attack, in words."""
    if war is None:
        return []
    kinds = ", ".join(war.targets)
    added = sum(1 for it in war.iterations if it.attack)
    keep = (
        _and([_share_of(float(v), f"{c} load") for c, v in war.serve.items()]) if war.serve else ""
    )
    out = []
    if war.certificate is not None:
        out.append(
            f"Proved: after any attack of budget {war.attacks:g} on {kinds}, "
            f"{keep} is still served ({len(war.iterations)} attack search(es), {added} "
            "attack(s) added while planning)."
        )
    worst = war.worst_attack
    if worst is not None:
        hit = [t.split(":", 1) for t in worst.targets]
        what = _and([f"{k} {names.get(x, x)}" for k, x in hit]) if hit else "nothing"
        shares = [_share_of(v, f"{c} load") for c in classes if (v := worst.served(c)) is not None]
        out.append(
            f"Worst attack: {what}; then {_and(shares)} is served"
            + (
                f"; {_and([names.get(x, x) for x in worst.full_sites])} run full"
                if worst.full_sites
                else ""
            )
            + "."
        )
    return out
