"""Maps, reports and comparisons for steering groups: offline, safe, self-contained HTML."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from nisd.io.planfile import check_plan_dataset, read_plan_doc

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


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_regrets(plan_path: Path) -> dict[str, Any]:
    """Opened sites' regrets from ``explain.json`` beside the plan, when ``nisd explain`` ran."""
    f = Path(plan_path).parent / "explain.json"
    if not f.exists():
        return {}
    try:
        rows = json.loads(f.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    out: dict[str, Any] = {}
    for r in rows:
        if r.get("role") == "opened":
            out[r["site_id"]] = (
                r["change"] if r.get("change") is not None else (r.get("note") or r.get("status"))
            )
    return out
