"""Shared fixtures: the default dataset, editable copies of it, reference data."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from nisd.dataset import Dataset
from nisd.io import default_data_dir, load_dataset

ROOT = Path(__file__).resolve().parent.parent
# the tests also check the benchmarks' classic models and the scripts' tools
for _extra in ("benchmarks", "scripts"):
    if str(ROOT / _extra) not in sys.path:
        sys.path.insert(0, str(ROOT / _extra))
ESTONIA = Path(__file__).resolve().parent / "data" / "estonia"


def shared_data_dir() -> Path | None:
    """``$NISD_SHARED_DATA`` or ``../shared/data`` beside the checkout, if present."""
    env = os.environ.get("NISD_SHARED_DATA")
    cands = [Path(env)] if env else []
    cands.append(ROOT.parent / "shared" / "data")
    for c in cands:
        if c.is_dir():
            return c
    return None


@pytest.fixture(scope="session")
def default_dir() -> Path:
    return default_data_dir()


@pytest.fixture(scope="session")
def sweden(default_dir: Path) -> Dataset:
    return load_dataset(default_dir)


@pytest.fixture
def data_copy(tmp_path: Path, default_dir: Path) -> Path:
    """A writable copy of the default data directory."""
    dst = tmp_path / "data"
    shutil.copytree(default_dir, dst)
    return dst


@pytest.fixture
def shared_dir() -> Path:
    d = shared_data_dir()
    if d is None:
        pytest.skip("reference data not found: set NISD_SHARED_DATA or place ../shared/data")
    return d


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that drive Chromium are marked ``browser`` (``pytest -m "not browser"``)."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
