"""Reading scenario files: TOML (or YAML, when PyYAML is installed), ``extends`` and the
scenario library, into a validated :class:`~nisd.config.PlanConfig`.

``extends`` names another scenario file, relative to this one, whose keys this file
overrides (tables are merged key by key).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nisd.config import PlanConfig
from nisd.errors import ConfigError, Problem
from nisd.io.config import parse_model, read_toml
from nisd.io.paths import scenario_library_dir
from nisd.limits import DEEP, EXTENDS, NESTING, SCENARIO_BYTES, depth


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read(
    path: Path, problems: list[Problem], seen: tuple[Path, ...] = ()
) -> dict[str, Any] | None:
    if not path.is_file():
        problems.append(Problem(str(path), "scenario file not found"))
        return None
    if path.resolve() in seen:
        problems.append(Problem(path.name, "extends itself (a cycle of 'extends')"))
        return None
    if len(seen) >= EXTENDS:
        problems.append(
            Problem(path.name, f"is at the end of more than {EXTENDS} files extending one another")
        )
        return None
    size = path.stat().st_size
    if size > SCENARIO_BYTES:
        problems.append(
            Problem(path.name, f"is {size:,} bytes: a scenario file is at most {SCENARIO_BYTES:,}")
        )
        return None
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            problems.append(Problem(path.name, "YAML scenario files need PyYAML installed"))
            return None
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        except yaml.YAMLError as exc:
            problems.append(Problem(path.name, f"is not valid YAML: {exc}"))
            return None
        except RecursionError:
            problems.append(Problem(path.name, DEEP))
            return None
        if not isinstance(data, dict):
            problems.append(Problem(path.name, "must be a mapping of keys"))
            return None
        if depth(data) > NESTING:
            problems.append(Problem(path.name, DEEP))
            return None
    else:
        data = read_toml(path, problems)
        if data is None:
            return None
    parent = data.get("extends")
    if isinstance(parent, str):
        base = _read(path.parent / parent, problems, (*seen, path.resolve()))
        if base is None:
            return None
        data = _merge(base, data)
        data.pop("extends", None)
    return data


def find_scenario(path: Path) -> Path:
    """``path`` when it is a file, else the scenario of that name in the library.

    ``baseline`` and ``baseline.toml`` both name ``scenarios/baseline.toml`` (of the
    checkout, or the copy inside the package when nisd runs outside a checkout).
    """
    if path.is_file() or path.parent != Path("."):
        return path
    lib = scenario_library_dir()
    for cand in (lib / path.name, lib / f"{path.name}.toml"):
        if cand.is_file():
            return cand
    return path


def load_plan_config(path: Path | None, overrides: dict[str, Any] | None = None) -> PlanConfig:
    """Read a scenario file or a name from the library (or the defaults when ``path`` is
    None), apply overrides."""
    problems: list[Problem] = []
    if path is not None:
        path = find_scenario(path)
    data: dict[str, Any] = {}
    name = "defaults"
    if path is not None:
        name = path.name
        read = _read(path, problems)
        if read is None:
            raise ConfigError(problems)
        data = read
    if overrides:
        data = _merge(data, overrides)
    cfg = parse_model(PlanConfig, data, name, problems)
    if cfg is None:
        raise ConfigError(problems)
    return cfg
