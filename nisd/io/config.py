"""Reading ``dataset.toml`` and other TOML settings, reporting every problem at once.

The models live in :mod:`nisd.settings` (below the dataset and the readers); they
are re-exported here for the readers.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from nisd.errors import Problem
from nisd.limits import DEEP, NESTING, TOML_KEY_PARTS, depth, longest_toml_key
from nisd.settings import (
    Criticality,
    DatasetConfig,
    DemandSettings,
    LatencyClass,
    NetworkSettings,
    Strict,
    parse_model,
    validation_problems,
)

__all__ = [
    "Criticality",
    "DatasetConfig",
    "DemandSettings",
    "LatencyClass",
    "NetworkSettings",
    "Strict",
    "load_config",
    "parse_model",
    "read_toml",
    "validation_problems",
]


def read_toml(path: Path, problems: list[Problem]) -> dict[str, Any] | None:
    """Parse a TOML file, reporting syntax errors with their line."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(Problem(path.name, "is not UTF-8 text"))
        return None
    parts = longest_toml_key(text)
    if parts > TOML_KEY_PARTS:
        problems.append(
            Problem(path.name, f"has a key of {parts:,} dotted parts (at most {TOML_KEY_PARTS})")
        )
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(path.name, f"is not valid TOML: {exc}"))
        return None
    except RecursionError:
        problems.append(Problem(path.name, DEEP))
        return None
    if depth(data) > NESTING:
        problems.append(Problem(path.name, DEEP))
        return None
    return data


def load_config(path: Path, problems: list[Problem]) -> DatasetConfig | None:
    """Read and validate ``dataset.toml``."""
    if not path.is_file():
        problems.append(Problem(path.name, f"not found in {path.parent}"))
        return None
    data = read_toml(path, problems)
    if data is None:
        return None
    return parse_model(DatasetConfig, data, path.name, problems)
