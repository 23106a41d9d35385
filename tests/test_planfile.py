"""Every command that takes a plan file refuses a broken one cleanly (exit 3, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from nisd.cli import cli

GOOD: dict[str, Any] = {
    "status": "optimal",
    "objective": {"name": "cost", "value": 100.0},
    "sites": [{"site_id": "s-umea", "type": "core"}, {"site_id": "s-malmo", "type": "core"}],
    "assignments": {"d-lst-25": ["s-umea", "s-malmo"]},
    "run": {"parameters": {}},
}

# (what is wrong, the document, a part of the expected message)
BROKEN: list[tuple[str, Any, str]] = [
    ("a list, not an object", [1, 2], "a JSON object is expected"),
    ("sites missing", {"status": "optimal", "assignments": {}}, "required key 'sites' is missing"),
    ("sites not a list", {**GOOD, "sites": "s-umea"}, "column sites"),
    ("site id a number", {**GOOD, "sites": [{"site_id": 7, "type": "core"}]}, "sites.0.site_id"),
    ("site without a type", {**GOOD, "sites": [{"site_id": "s-umea"}]}, "sites.0.type"),
    ("a site twice", {**GOOD, "sites": GOOD["sites"] * 2}, "sites listed twice: s-malmo, s-umea"),
    ("unknown status", {**GOOD, "status": "great"}, "column status"),
    (
        "assignment to a site not opened",
        {**GOOD, "assignments": {"d-lst-25": ["s-lulea"]}},
        "assignments.d-lst-25 names sites that are not opened: s-lulea",
    ),
    ("assignments not a mapping", {**GOOD, "assignments": ["s-umea"]}, "column assignments"),
    (
        "site not in the dataset",
        {**GOOD, "sites": [{"site_id": "s-atlantis", "type": "core"}], "assignments": {}},
        "site 's-atlantis' is not in",
    ),
    (
        "type not allowed there",
        {**GOOD, "sites": [{"site_id": "s-umea", "type": "bunker"}], "assignments": {}},
        "site s-umea: type 'bunker' is not allowed there",
    ),
    (
        "user not in the dataset",
        {**GOOD, "assignments": {"d-nobody": ["s-umea"]}},
        "assignments name users not in",
    ),
    ("not JSON", "{sites: [", "is not valid JSON"),
]


def _commands(plan: Path, other: Path, data: Path, out: Path) -> dict[str, list[str]]:
    return {
        "map": [
            "map",
            "--lang",
            "en",
            str(plan),
            "--data",
            str(data),
            "--out",
            str(out / "m.html"),
        ],
        "report": [
            "report",
            "--lang",
            "en",
            str(plan),
            "--data",
            str(data),
            "--out",
            str(out / "r.html"),
        ],
        "compare": [
            "compare",
            str(other),
            str(plan),
            "--format",
            "html",
            "--data",
            str(data),
            "--out",
            str(out / "c.html"),
        ],
        "resilience": ["resilience", str(plan), "--data", str(data), "--scenarios", "single-site"],
        "ladder": ["ladder", str(plan), "--data", str(data)],
        "explain": ["explain", str(plan), "--data", str(data)],
        "alternatives": ["alternatives", str(plan), "--data", str(data)],
    }


@pytest.mark.parametrize(
    "command", ["map", "report", "compare", "resilience", "ladder", "explain", "alternatives"]
)
@pytest.mark.parametrize(("what", "doc", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_plan_is_refused(
    tmp_path: Path, default_dir: Path, command: str, what: str, doc: Any, message: str
) -> None:
    plan = tmp_path / "broken.json"
    plan.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    other = tmp_path / "good.json"
    other.write_text(json.dumps(GOOD), encoding="utf-8")
    res = CliRunner().invoke(cli, _commands(plan, other, default_dir, tmp_path)[command])
    assert res.exit_code == 3, (what, res.output)
    assert message in res.output, res.output
    assert "broken.json" in res.output
    assert "Traceback" not in res.output
    assert not list(tmp_path.glob("*.html"))  # nothing written


@pytest.mark.parametrize("command", ["explain", "alternatives"])
def test_plan_without_parameters_cannot_be_resolved(
    tmp_path: Path, default_dir: Path, command: str
) -> None:
    plan = tmp_path / "hand.json"
    plan.write_text(json.dumps({**GOOD, "run": {}}), encoding="utf-8")
    res = CliRunner().invoke(cli, [command, str(plan), "--data", str(default_dir)])
    assert res.exit_code == 3, res.output
    assert "has no run.parameters" in res.output


def test_plan_with_bad_parameters_names_the_key(tmp_path: Path, default_dir: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps({**GOOD, "run": {"parameters": {"separation_km": 20}}}), encoding="utf-8"
    )
    res = CliRunner().invoke(cli, ["alternatives", str(plan), "--data", str(default_dir)])
    assert res.exit_code == 3, res.output
    assert "run.parameters" in res.output and "separation_km must be at least 100" in res.output


def test_plan_of_an_older_version_still_maps_but_is_not_resolved(
    tmp_path: Path, default_dir: Path
) -> None:
    """Parameters this version cannot read (a removed key) do not stop a map or a report."""
    plan = tmp_path / "old.json"
    old = {**GOOD, "run": {"parameters": {"crisis": {"capacity": True}}}}
    plan.write_text(json.dumps(old), encoding="utf-8")
    out = tmp_path / "m.html"
    res = CliRunner().invoke(
        cli, ["map", "--lang", "en", str(plan), "--data", str(default_dir), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["alternatives", str(plan), "--data", str(default_dir)])
    assert res.exit_code == 3 and "unknown key 'crisis.capacity'" in res.output
