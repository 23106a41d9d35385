"""Reading result files for the commands: a plan or a roll-out (a file, or the folder
that holds one), the studies kept beside it, and the dataset it was made from.

Every result names its data directory (``run.data_dir``: the embedded default by name,
else a path); :func:`dataset_of` reads that one, or the one the caller gives, and never
falls back to another silently. A result is checked against its dataset before any
command uses it: a site, type or user the data does not have is refused by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nisd.dataset import Dataset
from nisd.errors import InputError, Problem
from nisd.io.load import load_dataset
from nisd.io.paths import data_path
from nisd.records.attack import AttackResult
from nisd.records.base import read_json
from nisd.records.fees import Fees
from nisd.records.plan import Plan
from nisd.records.rollout import Rollout, rollout_kind
from nisd.records.study import Explanation, Sensitivity

Result = Plan | Rollout


def result_path(path: str | Path) -> Path:
    """``path``, or the plan or roll-out file inside the folder ``path``."""
    p = Path(path)
    if p.is_dir():
        for name in (Rollout.FILE, Plan.FILE):
            if (p / name).is_file():
                return p / name
        raise InputError([Problem(str(p), "holds no plan.json or rollout.json")])
    return p


def read_result(path: str | Path) -> Result:
    """The plan or roll-out in ``path`` (by its ``kind``), validated.

    Raises
    ------
    InputError
        Missing, not JSON, or not a valid plan or roll-out.
    """
    p = result_path(path)
    doc = read_json(p)
    if rollout_kind(doc):
        return Rollout.from_json(doc, str(p))
    return Plan.from_json(doc, str(p))


def read_plan(path: str | Path) -> Plan:
    """The plan in ``path``; a roll-out there is refused."""
    r = read_result(path)
    if isinstance(r, Rollout):
        raise InputError([Problem(str(path), "is a roll-out, not a plan")])
    return r


def read_rollout(path: str | Path) -> Rollout:
    """The roll-out in ``path``; a plan there is refused."""
    r = read_result(path)
    if isinstance(r, Plan):
        raise InputError([Problem(str(path), 'is a plan, not a roll-out (kind = "rollout")')])
    return r


def dataset_of(result: Result, data: str | Path | Dataset | None = None, name: str = "") -> Dataset:
    """The dataset of ``result``: ``data`` when given, else the one it names, checked
    against it.

    Raises
    ------
    InputError
        The result names no data directory, or one that is not there; or it names a
        site, type or user the dataset does not have.
    """
    name = name or ("rollout" if isinstance(result, Rollout) else "plan")
    if isinstance(data, Dataset):
        ds = data
    else:
        if data is None:
            ref = result.run.data_dir
            if not ref:
                raise InputError(
                    [
                        Problem(
                            name,
                            "names no data directory (run.data_dir): give the data with --data",
                            column="run.data_dir",
                        )
                    ]
                )
            where = data_path(ref)
            if not where.is_dir():
                raise InputError(
                    [
                        Problem(
                            name,
                            f"its data directory {ref} is not there: give the data with --data",
                            column="run.data_dir",
                        )
                    ]
                )
        else:
            where = Path(data)
        ds = load_dataset(where)
    check_against(result, ds, name)
    return ds


def datasets_of(
    results: Sequence[Result], data: str | Path | None = None, names: Sequence[str] = ()
) -> list[Dataset]:
    """Each result's dataset (``data`` for all when given), each result checked against
    its own; a data directory named twice is loaded once."""
    loaded: dict[str, Dataset] = {}
    out: list[Dataset] = []
    for n, result in enumerate(results):
        name = names[n] if n < len(names) else ""
        key = str(data) if data is not None else result.run.data_dir
        if key and key in loaded:
            check_against(result, loaded[key], name or "result")
            out.append(loaded[key])
            continue
        ds = dataset_of(result, data, name)
        if key:
            loaded[key] = ds
        out.append(ds)
    return out


def check_against(result: Result, ds: Dataset, name: str) -> None:
    """The result's sites, types and users exist in ``ds``; else an InputError naming them."""
    problems: list[Problem] = []
    years = (
        [(result.sites, result.assignments, "")]
        if isinstance(result, Plan)
        else [(y.sites, y.assignments, f"{y.year}: ") for y in result.years]
    )
    if isinstance(result, Rollout):
        years.append(({s.site_id: s.type for s in result.sites}, {}, "sites: "))
    known_types = ds.type_by_id
    users = set(ds.demand_ids)
    for sites, assignments, when in years:
        for sid, typ in sorted(sites.items()):
            if sid not in ds.site_by_id:
                problems.append(
                    Problem(name, f"{when}site {sid!r} is not in {ds.path}", column="sites")
                )
            elif typ not in known_types or typ not in ds.allowed_types(ds.site_by_id[sid]):
                problems.append(
                    Problem(
                        name, f"{when}site {sid}: type {typ!r} is not allowed there", column="sites"
                    )
                )
        unknown = sorted(set(assignments) - users)
        if unknown:
            more = f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
            problems.append(
                Problem(
                    name,
                    f"{when}assignments name users not in {ds.path}: "
                    f"{', '.join(unknown[:5])}{more}",
                    column="assignments",
                )
            )
    if problems:
        raise InputError(list(dict.fromkeys(problems)))


@dataclass(frozen=True)
class Beside:
    """The studies kept beside a result file: its explanation, sensitivity and fees."""

    explanation: Explanation | None = None
    sensitivity: Sensitivity | None = None
    fees: Fees | None = None


def read_beside(path: str | Path) -> Beside:
    """The studies beside the result in ``path`` (none where none was written).

    Raises
    ------
    InputError
        A study file there is not valid (a file edited by hand is refused, not shown).
    """
    folder = result_path(path).parent
    found: dict[str, object] = {}
    for key, record in (
        ("explanation", Explanation),
        ("sensitivity", Sensitivity),
        ("fees", Fees),
    ):
        f = folder / record.FILE
        if f.is_file():
            found[key] = record.read(f)
    return Beside(**found)  # type: ignore[arg-type]


def read_attacks(path: str | Path) -> AttackResult:
    """An ``nisd attack --out`` record."""
    return AttackResult.read(path)
