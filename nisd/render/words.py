"""Crisis results in words, for the report, the map and the command line.

Every figure comes from the scenario rows of the served-load evaluator
(:func:`nisd.topology.resilience.evaluate`); nothing here computes a share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _share_of(v: float, what: str) -> str:
    return f"all {what}" if v >= 1 - 1e-9 else f"{v:.1%} of {what}"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def worst_by_class(
    rows: Sequence[Mapping[str, Any]], classes: Sequence[str], key: str = "by_class"
) -> list[tuple[str, Mapping[str, Any]]]:
    """Per class with load: the scenario that leaves the smallest share of it served.

    ``rows`` are payload scenario rows (``name``, ``share``, ``by_class``, ...);
    ``key`` picks the shares (``by_class``: of all load; ``reachable_by_class``: of
    the load of the users still connected, falling back to ``by_class``); ties go to
    the smaller share of all load, then to the name.
    """

    def shares(r: Mapping[str, Any]) -> Mapping[str, Any]:
        return r.get(key) or r.get("by_class") or {}

    out = []
    for c in classes:
        have = [r for r in rows if shares(r).get(c) is not None]
        if have:
            worst = min(have, key=lambda r: (shares(r)[c], r["share"], r["name"]))
            out.append((c, worst))
    return out


def scenario_sentence(
    row: Mapping[str, Any], classes: Sequence[str], names: Mapping[str, str]
) -> str:
    """“After <meaning>, all critical load, 84.0 % of high load and 60.0 % of all load
    is served; Skellefteå and Härnösand run full.”"""
    by = row.get("by_class") or {}
    cut = row.get("cut_off") or []
    island = set(row.get("islanded") or []) & set(cut)
    reach = row.get("reachable_by_class") or {}
    after = f"After {row.get('meaning') or row['name']}, "
    if cut and reach:
        parts = [_share_of(reach[c], f"{c} load") for c in classes if reach.get(c) is not None]
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
                " (served there only as far as a site on the island holds their data)"
            )
        text += "; " + _and(gone)
        text += f"; in all, {_share_of(row['share'], 'the load')} is served"
    else:
        parts = [_share_of(by[c], f"{c} load") for c in classes if by.get(c) is not None]
        parts.append(_share_of(row["share"], "the load in all"))
        text = after + _and(parts) + " is served"
    full = [names.get(s, s) for s in row.get("full_sites") or []]
    if full:
        text += f"; {_and(full)} run{'s' if len(full) == 1 else ''} full"
    return text + "."


def crisis_summary(
    rows: Sequence[Mapping[str, Any]], classes: Sequence[str], names: Mapping[str, str]
) -> list[str]:
    """One sentence per distinct worst scenario, most critical class first.

    Worst is judged over the users still connected (what the plan's sites can
    change); a class served in full in every scenario is said so in one sentence.
    """
    out: list[str] = []
    seen: set[str] = set()
    always = []
    key = "reachable_by_class"
    for c, row in worst_by_class(rows, classes, key):
        if (row.get(key) or row["by_class"])[c] >= 1 - 1e-9:
            always.append(c)
            continue
        if row["name"] in seen:
            continue
        seen.add(row["name"])
        out.append(f"Worst for {c} load: " + scenario_sentence(row, classes, names))
    if always:
        cut = any(r.get("cut_off") for r in rows)
        whose = " of the users still connected" if cut else ""
        out.insert(0, f"All {_and(always)} load{whose} is served in every scenario evaluated.")
    return out


def plan_rows(scenarios: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``plan.json`` scenario records in the payload's row shape."""
    return [
        {
            "name": r["scenario"],
            "meaning": r.get("meaning", ""),
            "share": r["demand_served_share"],
            "by_class": r.get("served_by_class") or {},
            "full_sites": r.get("full_sites") or [],
            "cut_off": r.get("cut_off") or [],
            "islanded": r.get("islanded") or [],
            "reachable_by_class": r.get("reachable_by_class") or {},
            "levels_met": r.get("levels_met"),
        }
        for r in scenarios
    ]


def war_summary(
    war: Mapping[str, Any] | None, classes: Sequence[str], names: Mapping[str, str]
) -> list[str]:
    """What a plan robust to attacks was proved to survive, and its worst attack, in words."""
    if not war:
        return []
    kinds = ", ".join(str(k) for k in war.get("targets", []))
    its = war.get("iterations") or []
    added = sum(1 for it in its if it.get("attack"))
    serve = war.get("serve") or {}
    keep = _and([_share_of(float(v), f"{c} load") for c, v in serve.items()]) if serve else ""
    out = []
    if war.get("certificate"):
        out.append(
            f"Proved: after any attack of budget {float(war['attacks']):g} on {kinds}, "
            f"{keep} is still served ({len(its)} attack search(es), {added} attack(s) added "
            "while planning)."
        )
    worst = war.get("worst_attack")
    if worst:
        hit = [t.split(":", 1) for t in worst.get("targets", [])]
        what = _and([f"{k} {names.get(x, x)}" for k, x in hit]) if hit else "nothing"
        by = worst.get("served_by_class") or {}
        shares = [_share_of(float(by[c]), f"{c} load") for c in classes if by.get(c) is not None]
        out.append(
            f"Worst attack: {what}; then {_and(shares)} is served"
            + (
                f"; {_and([names.get(x, x) for x in worst['full_sites']])} run full"
                if worst.get("full_sites")
                else ""
            )
            + "."
        )
    return out
