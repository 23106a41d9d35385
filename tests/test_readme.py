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
