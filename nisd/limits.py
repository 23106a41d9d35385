"""Bounds on the work an input may ask for: a scenario file, a dotted key, a chain of
``extends``, a sweep's grid. Each is far above any real planning question (the largest
Program 2032 study sweeps a few hundred points) and far below what exhausts the machine;
an input past one is refused with the limit named, before any work starts."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

# a scenario file: the largest in the library is under 4 KB
SCENARIO_BYTES = 1_000_000
# tables inside tables in a scenario (the deepest real key, rollout.capital_cost_msek.core,
# is three levels)
NESTING = 16
DEEP = f"nests tables or lists more than {NESTING} deep"
# a dotted key (``--vary crisis.serve.critical=…``): parts and characters
KEY_PARTS = 8
KEY_CHARS = 200
# scenario files extending one another
EXTENDS = 16
# points of one sweep (every point is a MILP solve)
GRID_POINTS = 10_000


def depth(value: Any) -> int:
    """How deeply tables and lists nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, Mapping):
            stack.extend((x, d + 1) for x in v.values())
            deepest = max(deepest, d + 1)
        elif isinstance(v, list | tuple):
            stack.extend((x, d + 1) for x in v)
            deepest = max(deepest, d + 1)
        if deepest > NESTING:
            return deepest
    return deepest


def key_problem(key: str) -> str | None:
    """Why a dotted key is refused, or None."""
    if len(key) > KEY_CHARS:
        return f"a key of {len(key)} characters (at most {KEY_CHARS})"
    parts = key.split(".")
    if len(parts) > KEY_PARTS:
        return f"a key of {len(parts)} parts (at most {KEY_PARTS})"
    if any(not p for p in parts):
        return f"{key!r} has an empty part"
    return None


def table_bytes() -> int:
    """What the latency tables of one problem may hold: half the machine's memory (a
    dataset past it is refused before the machine starts to swap)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 * 2**30


def grid_size(counts: Sequence[int]) -> int:
    """Points of a grid with ``counts`` values per key."""
    return math.prod(counts)


# a TOML key or table header at the start of a line: its dotted parts are counted before
# parsing (Python's TOML reader takes time quadratic in a key's parts)
_TOML_KEY = re.compile(r"^[ \t]*\[{0,2}[ \t]*([^=\]\n]*?)[ \t]*(?:\]{1,2}|=)", re.MULTILINE)
TOML_KEY_PARTS = 32


def longest_toml_key(text: str) -> int:
    """The most dotted parts of any key or table header in TOML ``text`` (an
    over-count where a quoted key holds dots, which only a key near the limit meets)."""
    return max((m.group(1).count(".") + 1 for m in _TOML_KEY.finditer(text)), default=0)


__all__ = [
    "DEEP",
    "EXTENDS",
    "GRID_POINTS",
    "KEY_CHARS",
    "KEY_PARTS",
    "NESTING",
    "SCENARIO_BYTES",
    "TOML_KEY_PARTS",
    "depth",
    "grid_size",
    "key_problem",
    "longest_toml_key",
    "table_bytes",
]
