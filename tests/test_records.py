"""Records: today's files still read; the refactored code gives the same figures as the
saved files of the version before it; a record's JSON form is its file; bad files are
refused with the key named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from same_results import differences

import nisd
from nisd.errors import InputError
from nisd.records import AttackResult, Fees, Plan, Rollout
from nisd.records.base import SCHEMA

ROOT = Path(__file__).resolve().parent.parent
V1 = Path(__file__).resolve().parent / "data" / "v1"  # written before records had a schema
GOLDEN = Path(__file__).resolve().parent / "data" / "golden"  # scripts/make_golden.py


@pytest.mark.parametrize(
    ("name", "record"),
    [
        ("baseline-plan.json", Plan),
        ("war-plan.json", Plan),
        ("rollout-2032.json", Rollout),
        ("attack-r2.json", AttackResult),
        ("fees-plan.json", Fees),
    ],
)
def test_files_of_the_version_before_still_read(name: str, record: type) -> None:
    """Files written before records had a schema (version 1) read, and their JSON form
    keeps every figure they held."""
    r = record.read(V1 / name)
    doc = r.to_json()
    assert doc["schema"] == SCHEMA and doc["kind"] == record.KIND
    old = json.loads((V1 / name).read_text(encoding="utf-8"))
    new = V1.parent / "new.json"
    try:
        new.write_text(json.dumps(doc), encoding="utf-8")
        lost = [d for d in differences(V1 / name, new) if "only in the old" in d]
    finally:
        new.unlink()
    assert not lost, lost
    assert isinstance(old, dict)


def test_the_baseline_is_the_golden_one(sweden: nisd.Dataset, tmp_path: Path) -> None:
    """The baseline planned now has the figures, sites and assignments of the golden plan
    (every scenario row, kpi and site use; scripts/make_golden.py writes it when a change of
    the figures is intended)."""
    plan = nisd.plan(sweden, "baseline")
    path = plan.save(tmp_path)
    assert differences(GOLDEN / "baseline-plan.json", path) == []
    assert plan == Plan.read(path)


def test_the_attack_list_is_the_golden_one(sweden: nisd.Dataset, tmp_path: Path) -> None:
    plan = Plan.read(GOLDEN / "baseline-plan.json")
    res = nisd.attack(sweden, plan, r=2)
    path = res.save(tmp_path / "attack.json")
    assert differences(GOLDEN / "attack-r2.json", path) == []


@pytest.mark.slow
def test_the_rollout_and_the_war_plan_are_the_golden_ones(
    sweden: nisd.Dataset, tmp_path: Path
) -> None:
    ro = nisd.rollout(sweden, "rollout-2032")
    assert differences(GOLDEN / "rollout-2032.json", ro.save(tmp_path / "ro")) == []
    war = nisd.plan(sweden, "war")
    assert differences(GOLDEN / "war-plan.json", war.save(tmp_path / "war")) == []


def test_a_newer_schema_and_another_kind_are_refused(tmp_path: Path) -> None:
    doc = json.loads((V1 / "baseline-plan.json").read_text(encoding="utf-8"))
    with pytest.raises(InputError, match="written by a newer nisd"):
        Plan.from_json({**doc, "schema": 9}, "p.json")
    with pytest.raises(InputError, match="is a rollout, not a plan"):
        Plan.from_json({**doc, "kind": "rollout"}, "p.json")
    with pytest.raises(
        InputError, match=r"p\.json, column sites: sites\.0\.type must be non-empty text"
    ):
        Plan.from_json({**doc, "sites": [{"site_id": "s-umea"}]}, "p.json")


@pytest.mark.parametrize("key", ["bound", "gap"])
@pytest.mark.parametrize("value", ["NaN", "Infinity"])
def test_non_finite_numbers_in_a_file_are_refused(tmp_path: Path, key: str, value: str) -> None:
    text = (V1 / "baseline-plan.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    doc[key] = 0.5
    bad = json.dumps(doc).replace(f'"{key}": 0.5', f'"{key}": {value}')
    p = tmp_path / "plan.json"
    p.write_text(bad, encoding="utf-8")
    with pytest.raises(InputError, match=f"column {key}: {key} must be a finite number"):
        Plan.read(p)


def test_a_plan_names_its_data_and_never_falls_back(tmp_path: Path, sweden: nisd.Dataset) -> None:
    """A plan made from the embedded data names it by name; one whose data directory is
    gone is refused, not read against another dataset."""
    plan = nisd.plan(sweden, "baseline")
    assert plan.run.data_dir == "nisd:sites"
    assert nisd.dataset_of(plan).input_hash == sweden.input_hash
    data = tmp_path / "data"
    shutil.copytree(sweden.path, data)
    elsewhere = nisd.plan(nisd.load(data), "baseline")
    assert elsewhere.run.data_dir == str(data.resolve())
    shutil.rmtree(data)
    with pytest.raises(InputError, match=r"its data directory .* is not there: give the data"):
        nisd.dataset_of(elsewhere)
    nameless = Plan.of_sites(dict(plan.sites))
    with pytest.raises(InputError, match="names no data directory"):
        nisd.dataset_of(nameless)
    assert nisd.dataset_of(nameless, sweden) is sweden
