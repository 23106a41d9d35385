"""Reading and validating nisd's input data."""

from __future__ import annotations

import re
from pathlib import Path

from nisd.io.load import load_dataset
from nisd.io.paths import default_data_dir, scenario_library_dir

__all__ = ["default_data_dir", "load_dataset", "scenario_library_dir"]


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
