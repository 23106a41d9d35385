"""Who pays: each user's payer, an agency.

A demand row's payer is its ``payer`` column where the data gives one. Otherwise it is
the agency behind the row's workload: the row's name up to the first ':' ("Försäkringskassan:
users in Stockholms län" → Försäkringskassan), the county boards together as
Länsstyrelserna (they run their IT jointly), and population points (citizens' use of the
agencies' e-services) as one payer, shown apart so that a steering group sees the part no
single agency causes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from nisd.dataset import Dataset, DemandPoint
from nisd.errors import InputError, Problem

COUNTY_BOARDS = "Länsstyrelserna"
CITIZENS = "Invånartjänster (befolkningspunkter)"


def payer_of(d: DemandPoint) -> str:
    """The payer of a demand row."""
    if d.payer:
        return d.payer
    if d.kind == "county_board":
        return COUNTY_BOARDS
    if d.kind == "population":
        return CITIZENS
    return d.name.split(":", 1)[0].strip() or d.name


def payers(ds: Dataset, users: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Payer → its demand ids (only ``users`` when given), payers sorted by name."""
    keep = set(users) if users is not None else None
    out: dict[str, list[str]] = {}
    for d in ds.demand:
        if keep is None or d.demand_id in keep:
            out.setdefault(payer_of(d), []).append(d.demand_id)
    return dict(sorted(out.items()))


def resolve(ds: Dataset, names: Sequence[str], option: str) -> list[str]:
    """The payers named (case and surrounding space ignored), as the data spells them.

    Raises
    ------
    InputError
        A name that is no payer of the data (the known ones listed).
    """
    known = {p.casefold(): p for p in payers(ds)}
    out, problems = [], []
    for n in names:
        hit = known.get(n.strip().casefold())
        if hit is None:
            problems.append(
                Problem(
                    option, f"{n!r} is no payer of the data (payers: {', '.join(known.values())})"
                )
            )
        elif hit not in out:
            out.append(hit)
    if problems:
        raise InputError(problems)
    return out


def workloads_of(ds: Dataset, payer: str) -> list[str]:
    """The workloads (their ids; a row without one is its own) a payer pays for."""
    return sorted({d.workload_id for d in ds.demand if payer_of(d) == payer})


__all__ = ["CITIZENS", "COUNTY_BOARDS", "payer_of", "payers", "resolve", "workloads_of"]
