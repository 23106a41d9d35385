"""The attack record: the worst attacks on a plan, as ``nisd attack --out`` writes them.

Each attack (:class:`~nisd.records.plan.AttackRow`) names its targets (``kind:id``)
and carries the served-load evaluator's figures for the plan without them; with
``fortify`` the record also holds the cheapest opened sites to harden.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, JsonValue, field_validator

from nisd.files import write_atomic
from nisd.records.base import FileRecord, Record, dumps
from nisd.records.plan import AttackRow

TARGET_KINDS = ("site", "node", "srlg")


class FortifyIteration(Record):
    """One step of the hardening search: what was hardened, and the attack that still broke
    the levels (None: none did)."""

    iteration: int
    hardened: tuple[str, ...] = ()
    attack: tuple[str, ...] | None = None
    served_by_class: dict[str, float | None] | None = None
    oracle_solves: int = 0
    rejected_cut_off_attacks: int = 0
    seconds: float = 0.0


class FortifyCertificate(Record):
    """The last search's proof that no attack on the unhardened targets breaks the levels."""

    budget: float
    levels: dict[str, float] = Field(default_factory=dict)
    margin_racks: float
    statement: str


class Fortification(Record):
    """The cheapest hardening of opened sites that no attack within the budget can beat."""

    hardened: tuple[str, ...]
    cost_msek: float
    iterations: tuple[FortifyIteration, ...] = ()
    certificate: FortifyCertificate


class AttackResult(FileRecord):
    """The worst attacks on a plan within a budget, worst first, as the evaluator sees them."""

    KIND: ClassVar[str] = "attack"
    FILE: ClassVar[str] = "attack.json"

    plan: str | None = None  # the plan file attacked
    budget: float
    target_kinds: tuple[str, ...]
    objective: str = "critical-first"
    targets_considered: int = 0
    method: str = ""
    # how the attacks were found: "milp" (the interdiction programme) or "enumerate"
    found_by: str = "milp"
    attacks_evaluated: int = 0
    seconds: float = 0.0
    solves: int = 0
    attacks: tuple[AttackRow, ...] = ()
    fortify: Fortification | None = None
    # what the interdiction search did, per solve (for benchmarks; not in files)
    search: tuple[dict[str, JsonValue], ...] = Field(default=(), exclude=True)

    @field_validator("attacks")
    @classmethod
    def _targets(cls, v: tuple[AttackRow, ...]) -> tuple[AttackRow, ...]:
        for n, a in enumerate(v):
            for t in a.targets:
                kind, _, ident = t.partition(":")
                if kind not in TARGET_KINDS or not ident:
                    raise ValueError(
                        f"attacks[{n}]: target {t!r} is not site:ID, node:ID or srlg:ID"
                    )
        return v

    @property
    def worst(self) -> AttackRow | None:
        """The worst attack (None when there is none)."""
        return self.attacks[0] if self.attacks else None

    def to_json(self) -> dict[str, object]:
        out = super().to_json()
        out["worst"] = None if self.worst is None else self.worst.to_json()
        return out

    @classmethod
    def upgrade(cls, doc: dict[str, object], schema: int) -> dict[str, object]:
        doc = dict(doc)
        doc.pop("worst", None)  # always the first attack: derived, not stored
        return doc

    def save(self, path: str | Path) -> Path:
        """Write the record to ``path`` (atomically)."""
        return write_atomic(path, dumps(self.to_json()))

    def target_pairs(self) -> list[list[tuple[str, str]]]:
        """Each attack's targets as (kind, id) pairs."""
        return [[_pair(t) for t in a.targets] for a in self.attacks]


def _pair(target: str) -> tuple[str, str]:
    kind, _, ident = target.partition(":")
    return kind, ident


__all__ = [
    "TARGET_KINDS",
    "AttackResult",
    "Fortification",
    "FortifyCertificate",
    "FortifyIteration",
]
