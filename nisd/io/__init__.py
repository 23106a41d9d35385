"""Reading and validating nisd's input data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nisd.dataset import Dataset

__all__ = ["default_data_dir", "load_dataset"]


def load_dataset(path: str | Path) -> Dataset:
    """Read and validate a data directory; see :func:`nisd.io.load.load_dataset`."""
    from nisd.io.load import load_dataset as _load

    return _load(path)


def default_data_dir() -> Path:
    """The embedded Swedish default dataset.

    ``NISD_DATA`` overrides it; otherwise the ``data/sites`` directory of the
    checkout that nisd is installed from.
    """
    env = os.environ.get("NISD_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "data" / "sites"
