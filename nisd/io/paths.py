"""Where nisd's embedded data lives, and how a result names the data it was made from.

A plan or roll-out records its dataset as a *reference*: ``nisd:sites`` for the
embedded Swedish default (so that a plan made from an installed wheel reads on any
machine with nisd), else the data directory's absolute path. :func:`data_ref` makes a
reference, :func:`data_path` resolves one; there is no silent fallback to the default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from nisd.dataset import Dataset

__all__ = [
    "EMBEDDED",
    "data_path",
    "data_ref",
    "default_data_dir",
    "embedded_data_dir",
    "run_inputs",
    "scenario_library_dir",
]

EMBEDDED = "nisd:sites"  # the reference to the embedded Swedish default dataset


def _embedded(checkout: str, packaged: str) -> Path:
    """A directory of the checkout nisd runs from, else the copy inside the package."""
    here = Path(__file__).resolve().parent.parent
    source = here.parent / checkout
    return source if source.is_dir() else here / "embedded" / packaged


def embedded_data_dir() -> Path:
    """The embedded Swedish default dataset (``data/sites`` of the checkout, else the
    packaged copy), whatever ``NISD_DATA`` says."""
    return _embedded("data/sites", "sites")


def default_data_dir() -> Path:
    """The dataset a command reads when given none: ``NISD_DATA``, else the embedded one."""
    env = os.environ.get("NISD_DATA")
    if env:
        return Path(env)
    return embedded_data_dir()


def scenario_library_dir() -> Path:
    """The scenario library: ``scenarios/`` of the checkout, else the packaged copy."""
    return _embedded("scenarios", "scenarios")


def data_ref(path: Path) -> str:
    """How a result names the data directory ``path``: :data:`EMBEDDED` for the embedded
    default, else the absolute path."""
    resolved = Path(path).resolve()
    return EMBEDDED if resolved == embedded_data_dir().resolve() else str(resolved)


def data_path(ref: str) -> Path:
    """The data directory a reference names (see :func:`data_ref`)."""
    return embedded_data_dir() if ref == EMBEDDED else Path(ref)


def run_inputs(ds: Dataset, scenario_file: str | None) -> dict[str, object]:
    """What a plan or roll-out records about its inputs: the input hash, every file read
    with its hash, the scenario file and the data directory (as :func:`data_ref`)."""
    return {
        "input_hash": ds.input_hash,
        "input_files": dict(ds.files),
        "scenario_file": scenario_file,
        "data_dir": data_ref(ds.path),
    }
