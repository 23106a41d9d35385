"""Maps, reports and comparisons for steering groups: offline, safe, self-contained HTML."""

from __future__ import annotations

from typing import Any

from nisd.io.planfile import check_plan_dataset, read_plan_doc, read_regrets, write_atomic

__all__ = [
    "DEFAULT_MAP_SETS",
    "check_plan_dataset",
    "crisis_split",
    "plan_sets",
    "read_plan_doc",
    "read_regrets",
    "write_atomic",
]

DEFAULT_MAP_SETS = ("single-site", "county", "power-zone", "presets")


def plan_sets(doc: dict[str, Any]) -> list[str]:
    """The crisis scenario sets a plan was made for, else the map's defaults."""
    crisis = ((doc.get("run") or {}).get("parameters") or {}).get("crisis") or {}
    sets = list(crisis.get("sets") or [])
    for tier in crisis.get("tiers") or []:
        sets += [s for s in tier.get("sets", []) if s not in sets]
    return sets if sets else list(DEFAULT_MAP_SETS)


def crisis_split(doc: dict[str, Any]) -> bool:
    """Whether a plan lets a user's load split over several sites after a failure."""
    crisis = ((doc.get("run") or {}).get("parameters") or {}).get("crisis") or {}
    return bool(crisis.get("split", True))
