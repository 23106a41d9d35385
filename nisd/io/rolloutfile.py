"""Reading and writing a ``rollout.json`` and its CSV tables.

``nisd rollout`` writes ``rollout.json`` with ``years.csv`` (one row per year:
sites, spending against the budget, users, moves, readiness), ``schedule.csv``
(one row per site: construction and service years) and ``assignments.csv``
(year, user, rank, site), all at once or not at all. ``nisd fees``, ``report``,
``map`` and ``compare`` read it here: a file that is not a roll-out is refused
with the file, the key and the reason.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from nisd.errors import InputError, Problem
from nisd.io.config import validation_problems
from nisd.io.planfile import Objective, _Open

ROLLOUT_FILE = "rollout.json"


class YearFile(_Open):
    year: int
    sites: dict[str, str]
    assignments: dict[str, list[str]] = Field(default_factory=dict)
    cost_msek: dict[str, float] = Field(default_factory=dict)
    readiness: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> YearFile:
        for d, seq in self.assignments.items():
            bad = [s for s in seq if s not in self.sites]
            if bad:
                raise ValueError(
                    f"{self.year}: assignments.{d} names sites not in service: {', '.join(bad)}"
                )
        return self


class ScheduleFile(_Open):
    site_id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    in_service_from: int
    in_service_to: int


class RolloutFile(_Open):
    """The keys of ``rollout.json`` that commands read."""

    kind: Literal["rollout"]
    status: Literal["optimal", "feasible", "infeasible", "unknown"] = "unknown"
    objective: Objective = Objective()
    years: list[YearFile] = Field(min_length=1)
    sites: list[ScheduleFile] = Field(default_factory=list)
    totals: dict[str, Any] = Field(default_factory=dict)
    run: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> RolloutFile:
        ys = [y.year for y in self.years]
        if ys != list(range(ys[0], ys[0] + len(ys))):
            raise ValueError("years must be consecutive and in order")
        return self


def in_construction(doc: Mapping[str, Any], year: int) -> list[str]:
    """The sites of a roll-out being built in ``year`` (not yet in service)."""
    return [
        s["site_id"]
        for s in doc["sites"]
        if s.get("construction_from") is not None
        and s["construction_from"] <= year < s["in_service_from"]
    ]


def schedule_phrase(s: Mapping[str, Any]) -> str:
    """One site's schedule in words: existing or built when, in service from, closing."""
    cf = s.get("construction_from")
    built = (
        "existing"
        if s.get("existing")
        else f"built {cf}–{s['in_service_from'] - 1}"
        if cf is not None and cf < s["in_service_from"]
        else "built"
    )
    until = f", closes {s['closes']}" if s.get("closes") else ""
    return f"{built}, in service from {s['in_service_from']}{until}"


def is_rollout(path: Path) -> bool:
    """Whether ``path`` holds a roll-out (``kind = "rollout"``), read cheaply."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("kind") == "rollout"


def read_rollout_doc(path: Path) -> dict[str, Any]:
    """A ``rollout.json`` checked against :class:`RolloutFile`, as a dict; else an InputError."""
    name = str(path)
    path = Path(path)
    if path.is_dir():
        path = path / ROLLOUT_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError([Problem(name, "not found")]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(name, f"is not valid JSON: {exc}")]) from None
    if not isinstance(doc, dict) or doc.get("kind") != "rollout":
        raise InputError([Problem(name, 'is not a nisd roll-out (kind = "rollout" expected)')])
    try:
        RolloutFile.model_validate(doc)
    except ValidationError as exc:
        raise InputError(validation_problems(name, exc)) from None
    return doc


def _rows(doc: dict[str, Any]) -> dict[str, list[list[Any]]]:
    years: list[list[Any]] = [
        [
            "year",
            "sites_in_service",
            "in_construction",
            "opened",
            "users",
            "onboarded",
            "migrations",
            "load_racks",
            "capacity_racks",
            "running_msek",
            "capital_msek",
            "capital_budget_msek",
            "total_msek",
            "discounted_msek",
            "sets_required",
            "sets_holding",
        ]
    ]
    for y in doc["years"]:
        building = in_construction(doc, y["year"])
        holds = y["readiness"].get("holds", {})
        c = y["cost_msek"]
        years.append(
            [
                y["year"],
                ";".join(sorted(y["sites"])),
                ";".join(sorted(building)),
                ";".join(y["opened"]),
                len(y["assignments"]),
                len(y["onboarded"]),
                len(y["migrations"]),
                y["load_racks"],
                y["capacity_racks"],
                c["running"],
                c["capital"],
                "" if y["budget_msek"]["capital"] is None else y["budget_msek"]["capital"],
                c["total"],
                c["discounted"],
                ";".join(y["readiness"].get("required", [])),
                ";".join(s for s, ok in holds.items() if ok),
            ]
        )
    sched: list[list[Any]] = [
        [
            "site_id",
            "name",
            "type",
            "existing",
            "construction_from",
            "in_service_from",
            "in_service_to",
            "closes",
            "capital_msek",
        ]
    ]
    for s in doc["sites"]:
        sched.append(
            [
                s["site_id"],
                s.get("name", s["site_id"]),
                s["type"],
                s["existing"],
                "" if s["construction_from"] is None else s["construction_from"],
                s["in_service_from"],
                s["in_service_to"],
                "" if s["closes"] is None else s["closes"],
                s["capital_msek"],
            ]
        )
    assign: list[list[Any]] = [["year", "demand_id", "rank", "site_id"]]
    for y in doc["years"]:
        for d, seq in sorted(y["assignments"].items()):
            for r, site in enumerate(seq):
                assign.append([y["year"], d, r + 1, site])
    return {"years.csv": years, "schedule.csv": sched, "assignments.csv": assign}


def write_rollout_files(doc: dict[str, Any], out_dir: Path) -> Path:
    """Write ``rollout.json`` and its CSV tables into ``out_dir``, all or nothing.

    Files are written to a temporary directory beside ``out_dir`` and moved in only
    when all are complete, so a failed run leaves no half a result and replaces none.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".nisd-rollout-", dir=out_dir.parent))
    names = [ROLLOUT_FILE]
    try:
        (tmp / ROLLOUT_FILE).write_text(
            json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for name, rows in _rows(doc).items():
            with open(tmp / name, "w", encoding="utf-8", newline="") as fh:
                csv.writer(fh, lineterminator="\n").writerows(rows)
            names.append(name)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            os.replace(tmp / name, out_dir / name)
    finally:
        for leftover in tmp.iterdir():
            leftover.unlink()
        tmp.rmdir()
    return out_dir / ROLLOUT_FILE
