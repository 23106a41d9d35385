"""Reading ``dataset.toml`` and other TOML settings, reporting every problem at once.

The models live in :mod:`nisd.settings` (below the dataset and the readers); they
are re-exported here for the readers.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from nisd.errors import Problem
from nisd.settings import (
    Criticality,
    DatasetConfig,
    DemandSettings,
    LatencyClass,
    NetworkSettings,
    Strict,
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


M = TypeVar("M", bound=BaseModel)


def validation_problems(file: str, exc: ValidationError) -> list[Problem]:
    """One :class:`Problem` per pydantic error, naming the key path."""
    out = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{key}'"
        elif err["type"] == "missing":
            msg = f"required key '{key}' is missing"
        out.append(Problem(file, msg, column=key, unit="key"))
    return out


def read_toml(path: Path, problems: list[Problem]) -> dict[str, Any] | None:
    """Parse a TOML file, reporting syntax errors with their line."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(Problem(path.name, "is not UTF-8 text"))
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(path.name, f"is not valid TOML: {exc}"))
        return None


def parse_model(
    model: type[M], data: dict[str, Any], file: str, problems: list[Problem]
) -> M | None:
    """Validate ``data`` as ``model``; on failure append problems and return ``None``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(validation_problems(file, exc))
        return None


def load_config(path: Path, problems: list[Problem]) -> DatasetConfig | None:
    """Read and validate ``dataset.toml``."""
    if not path.is_file():
        problems.append(Problem(path.name, f"not found in {path.parent}"))
        return None
    data = read_toml(path, problems)
    if data is None:
        return None
    return parse_model(DatasetConfig, data, path.name, problems)
