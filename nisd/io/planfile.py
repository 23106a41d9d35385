"""Reading and writing a ``plan.json``: its schema, checked before any command uses it.

Every command that takes a plan file (``map``, ``report``, ``compare``,
``explain``, ``alternatives``, ``resilience``, ``ladder``) reads it here, so a
file that is not a nisd plan, or a plan that names sites, types or users its
dataset does not have, is refused with the file, the key and the reason
(exit 3), never an internal error.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nisd.dataset import Dataset
from nisd.errors import InputError, Problem
from nisd.io.config import validation_problems

Status = Literal["optimal", "feasible", "infeasible", "unknown"]


class _Open(BaseModel):
    """Known keys are checked; further keys (from newer versions) are kept."""

    model_config = ConfigDict(extra="allow")


class PlannedSite(_Open):
    site_id: str = Field(min_length=1)
    type: str = Field(min_length=1)


class Objective(_Open):
    name: str = ""
    value: float | None = None


class PlanFile(_Open):
    """The keys of ``plan.json`` that commands read."""

    status: Status = "unknown"  # a hand-made plan ("what if these sites") may have none
    objective: Objective = Objective()
    bound: float | None = None
    gap: float | None = None
    sites: list[PlannedSite] = Field(min_length=1)
    assignments: dict[str, list[str]] = Field(default_factory=dict)
    kpis: dict[str, Any] = Field(default_factory=dict)
    scenarios: list[dict[str, Any]] = Field(default_factory=list)
    run: dict[str, Any] = Field(default_factory=dict)

    @field_validator("objective", mode="before")
    @classmethod
    def _objective(cls, v: Any) -> Any:
        return {} if v is None else v

    @model_validator(mode="after")
    def _consistent(self) -> PlanFile:
        ids = [s.site_id for s in self.sites]
        twice = sorted({s for s in ids if ids.count(s) > 1})
        if twice:
            raise ValueError(f"sites listed twice: {', '.join(twice)}")
        opened = set(ids)
        for d, seq in self.assignments.items():
            bad = [s for s in seq if s not in opened]
            if bad:
                raise ValueError(
                    f"assignments.{d} names sites that are not opened: {', '.join(bad)}"
                )
            if len(set(seq)) != len(seq):
                raise ValueError(f"assignments.{d} names a site twice")
        for key in ("bound", "gap"):
            v = getattr(self, key)
            if v is not None and not math.isfinite(v):
                raise ValueError(f"{key} is not a finite number")
        return self


def read_plan_doc(path: Path) -> dict[str, Any]:
    """A ``plan.json`` checked against :class:`PlanFile`, as a dict; else an InputError."""
    name = str(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError([Problem(name, "not found")]) from None
    except IsADirectoryError:
        raise InputError([Problem(name, "is a directory, not a plan.json")]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(name, f"is not valid JSON: {exc}")]) from None
    if not isinstance(doc, dict):
        raise InputError([Problem(name, "is not a nisd plan (a JSON object is expected)")])
    try:
        PlanFile.model_validate(doc)
    except ValidationError as exc:
        raise InputError(validation_problems(name, exc)) from None
    defaults: dict[str, Any] = {
        "status": "unknown",
        "objective": {},
        "assignments": {},
        "kpis": {},
        "scenarios": [],
        "run": {},
    }
    for key, value in defaults.items():
        if doc.get(key) is None:
            doc[key] = value
    return doc


def check_plan_dataset(doc: dict[str, Any], ds: Dataset, path: Path | str) -> None:
    """The plan's sites, types and users exist in ``ds``; else an InputError naming them."""
    problems: list[Problem] = []
    name = str(path)
    known_types = ds.type_by_id
    for s in doc["sites"]:
        sid, typ = s["site_id"], s["type"]
        if sid not in ds.site_by_id:
            problems.append(Problem(name, f"site {sid!r} is not in {ds.path}", column="sites"))
        elif typ not in known_types or typ not in ds.allowed_types(ds.site_by_id[sid]):
            problems.append(
                Problem(name, f"site {sid}: type {typ!r} is not allowed there", column="sites")
            )
    unknown = sorted(set(doc["assignments"]) - set(ds.demand_ids))
    if unknown:
        more = f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
        problems.append(
            Problem(
                name,
                f"assignments name users not in {ds.path}: {', '.join(unknown[:5])}{more}",
                column="assignments",
            )
        )
    if problems:
        raise InputError(problems)


def write_plan_files(doc: dict[str, Any], names: dict[str, str], out_dir: Path) -> Path:
    """Write ``plan.json``, ``sites.csv`` and ``assignments.csv`` atomically into ``out_dir``.

    Files are written to a temporary directory beside ``out_dir`` and moved in
    only when all are complete, so a failed run never leaves half a result
    nor replaces an existing one. ``names`` maps site ids to display names.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".nisd-plan-", dir=out_dir.parent))
    try:
        (tmp / "plan.json").write_text(
            json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        with open(tmp / "sites.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["site_id", "name", "type"])
            for s in sorted(doc["sites"], key=lambda x: x["site_id"]):
                w.writerow([s["site_id"], names.get(s["site_id"], s["site_id"]), s["type"]])
        with open(tmp / "assignments.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["demand_id", "rank", "site_id"])
            for d, seq in sorted(doc["assignments"].items()):
                for r, site in enumerate(seq):
                    w.writerow([d, r + 1, site])
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ("plan.json", "sites.csv", "assignments.csv"):
            os.replace(tmp / name, out_dir / name)
    finally:
        for leftover in tmp.iterdir():
            leftover.unlink()
        tmp.rmdir()
    return out_dir / "plan.json"


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


EXPLAIN_FILE = "explain.json"  # written by ``nisd explain`` beside the plan it explains


def write_explain(plan_path: Path, records: list[dict[str, Any]]) -> Path:
    """Write a plan's explanation (one record per probed site) beside its ``plan.json``."""
    text = json.dumps(records, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return write_atomic(Path(plan_path).parent / EXPLAIN_FILE, text)


SENSITIVITY_FILE = "sensitivity.json"  # written by ``nisd sensitivity`` beside the plan


def write_sensitivity(plan_path: Path, records: list[dict[str, Any]]) -> Path:
    """Write a plan's sensitivity table (one record per assumption and side) beside it."""
    text = json.dumps(records, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return write_atomic(Path(plan_path).parent / SENSITIVITY_FILE, text)


def read_sensitivity(plan_path: Path) -> list[dict[str, Any]]:
    """The plan's sensitivity records, when ``nisd sensitivity`` ran (else none)."""
    f = Path(plan_path).parent / SENSITIVITY_FILE
    try:
        rows = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return []
    keys = {"assumption", "side", "value", "cost", "change", "changes_sites"}
    return (
        [r for r in rows if isinstance(r, dict) and keys <= set(r)]
        if isinstance(rows, list)
        else []
    )


def read_regrets(plan_path: Path) -> dict[str, Any]:
    """Opened sites' regrets from the plan's explanation, when ``nisd explain`` ran.

    A missing or unreadable explanation gives no regrets (maps show "not computed").
    """
    f = Path(plan_path).parent / EXPLAIN_FILE
    try:
        rows = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    out: dict[str, Any] = {}
    for r in rows if isinstance(rows, list) else []:
        if isinstance(r, dict) and r.get("role") == "opened" and "site_id" in r:
            change = r.get("change")
            out[str(r["site_id"])] = (
                change if change is not None else (r.get("note") or r.get("status"))
            )
    return out


def read_attack_doc(path: Path) -> list[list[tuple[str, str]]]:
    """The attacks of an ``nisd attack --out`` file: each a list of (kind, id) targets.

    Raises
    ------
    InputError
        The file is missing, not JSON, or an attack is not a list of ``kind:id`` targets.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError([Problem(str(path), "attack file not found")]) from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), f"is not a readable JSON file ({exc})")]) from None
    attacks = doc.get("attacks") if isinstance(doc, dict) else None
    if not isinstance(attacks, list):
        raise InputError(
            [Problem(str(path), "has no 'attacks' list (write it with nisd attack --out)")]
        )
    out: list[list[tuple[str, str]]] = []
    problems: list[Problem] = []
    for n, a in enumerate(attacks):
        targets = a.get("targets") if isinstance(a, dict) else None
        if not isinstance(targets, list):
            problems.append(Problem(str(path), f"attacks[{n}] has no 'targets' list"))
            continue
        one: list[tuple[str, str]] = []
        for t in targets:
            kind, _, ident = str(t).partition(":")
            if kind not in ("site", "node", "srlg") or not ident:
                problems.append(
                    Problem(
                        str(path), f"attacks[{n}]: target {t!r} is not site:ID, node:ID or srlg:ID"
                    )
                )
            else:
                one.append((kind, ident))
        out.append(one)
    if problems:
        raise InputError(problems)
    return out
