"""Maps, reports and comparisons for steering groups: offline, safe, self-contained HTML."""

from __future__ import annotations

from nisd.io.planfile import (
    check_plan_dataset,
    read_attack_doc,
    read_plan_doc,
    read_regrets,
    read_sensitivity,
    write_atomic,
)

__all__ = [
    "DEFAULT_MAP_SETS",
    "check_plan_dataset",
    "read_attack_doc",
    "read_plan_doc",
    "read_regrets",
    "read_sensitivity",
    "write_atomic",
]

DEFAULT_MAP_SETS = ("single-site", "county", "power-zone", "presets")
