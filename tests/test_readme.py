"""CI runs exactly the README's two quick-start commands."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def test_ci_runs_the_readme_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.+?)\n```", readme, flags=re.S)
    assert len(blocks) >= 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    first, second = blocks[0].strip(), blocks[1].strip()
    assert first in ci and second in ci
    assert ci.index(first) < ci.index(second)


def test_data_docs_match_the_schema() -> None:
    from nisd.io.schema import markdown

    doc = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    assert doc.rstrip().endswith(markdown().rstrip())


def test_every_subpackage_is_packaged() -> None:
    """pyproject lists packages by hand (data directories are mapped in): none is missing."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(cfg["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "nisd").rglob("__init__.py")
    }
    assert found <= listed
    mapped = cfg["tool"]["setuptools"]["package-dir"]
    assert (ROOT / mapped["nisd.embedded.sites"] / "dataset.toml").is_file()
    assert (ROOT / mapped["nisd.embedded.scenarios"] / "baseline.toml").is_file()


def test_scenario_by_library_name(tmp_path: object, monkeypatch: object) -> None:
    from nisd.io.scenario import find_scenario, load_plan_config

    monkeypatch.chdir(tmp_path)  # type: ignore[attr-defined]
    from pathlib import Path

    assert find_scenario(Path("war")) == ROOT / "scenarios" / "war.toml"
    assert load_plan_config(Path("war.toml")).separation_km == 300
