"""Reading and validating nisd's input data."""

from __future__ import annotations

import os
import re
from pathlib import Path

from nisd.io.load import load_dataset

__all__ = ["default_data_dir", "load_dataset", "scenario_library_dir"]


def _embedded(checkout: str, packaged: str) -> Path:
    """A directory of the checkout nisd runs from, else the copy inside the package."""
    here = Path(__file__).resolve().parent.parent
    source = here.parent / checkout
    return source if source.is_dir() else here / "embedded" / packaged


def default_data_dir() -> Path:
    """The embedded Swedish default dataset.

    ``NISD_DATA`` overrides it; otherwise ``data/sites`` of the checkout nisd is
    installed from (an editable install), else the copy shipped inside the package.
    """
    env = os.environ.get("NISD_DATA")
    if env:
        return Path(env)
    return _embedded("data/sites", "sites")


def scenario_library_dir() -> Path:
    """The scenario library: ``scenarios/`` of the checkout, else the packaged copy."""
    return _embedded("scenarios", "scenarios")


DEFAULT_HEADER = "# nisd dataset: Sweden (default)."


def write_settings(src: Path, out: Path, name: str, header: str | None = None) -> None:
    """Write ``src``'s ``dataset.toml`` to ``out`` with the dataset's ``name`` (and, for a
    variant of the default, the first comment line ``header``) replaced: the settings of
    a dataset derived from another (synthetic countries, other resolutions, services)."""
    text = (Path(src) / "dataset.toml").read_text(encoding="utf-8")
    text = re.sub(r'^name = ".*"$', f'name = "{name}"', text, count=1, flags=re.M)
    if header is not None:
        text = text.replace(DEFAULT_HEADER, header)
    (Path(out) / "dataset.toml").write_text(text, encoding="utf-8")
