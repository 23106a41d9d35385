"""The records of studies kept beside a plan: its explanation (``explain.json``: each
site's regret) and its sensitivity (``sensitivity.json``: the plan re-made with each
labelled assumption low and high)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from nisd.files import write_atomic
from nisd.records.base import FileRecord, Record, dumps


class Probe(Record):
    """One re-solve of ``nisd explain``: an opened site forbidden (its regret) or a
    rejected candidate required (the cost of forcing it in)."""

    site_id: str
    role: Literal["opened", "rejected"]
    objective: str = ""
    base: float
    value: float | None = None
    change: float | None = None
    status: str = ""
    note: str | None = None

    @property
    def regret(self) -> float | str | None:
        """What the plan loses without the site: the change, else the note
        ("no plan without it: essential")."""
        return self.change if self.change is not None else (self.note or self.status or None)


class Explanation(FileRecord):
    """Each opened site's regret and the cost of forcing in rejected candidates."""

    KIND: ClassVar[str] = "explain"
    FILE: ClassVar[str] = "explain.json"

    probes: tuple[Probe, ...] = ()

    @classmethod
    def upgrade(cls, doc: dict[str, Any], schema: int) -> dict[str, Any]:
        return doc

    @classmethod
    def from_json(cls, doc: Any, name: str = "") -> Explanation:
        if isinstance(doc, list):  # version 1: the bare list of probes
            doc = {"kind": cls.KIND, "probes": doc}
        return super().from_json(doc, name)

    def regrets(self) -> dict[str, float | str | None]:
        """Opened site id → its regret."""
        return {p.site_id: p.regret for p in self.probes if p.role == "opened"}

    def save_beside(self, plan_path: str | Path) -> Path:
        """Write the record beside the plan it explains."""
        return write_atomic(Path(plan_path).parent / self.FILE, dumps(self.to_json()))


class Variant(Record):
    """The plan re-made with one labelled assumption low or high."""

    assumption: str
    side: Literal["low", "high"]
    value: str
    base_cost: float
    status: str = ""
    cost: float | None = None
    change: float | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    retyped: tuple[str, ...] = ()
    changes_sites: bool = False
    note: str | None = None


class Sensitivity(FileRecord):
    """Every variant's cost and sites against the plan's, most sensitive first."""

    KIND: ClassVar[str] = "sensitivity"
    FILE: ClassVar[str] = "sensitivity.json"

    variants: tuple[Variant, ...] = ()

    @classmethod
    def from_json(cls, doc: Any, name: str = "") -> Sensitivity:
        if isinstance(doc, list):  # version 1: the bare list of variants
            doc = {"kind": cls.KIND, "variants": doc}
        return super().from_json(doc, name)

    def moving(self) -> list[str]:
        """The assumptions whose low or high variant changes the plan's sites, in order."""
        return list(dict.fromkeys(v.assumption for v in self.variants if v.changes_sites))

    def save_beside(self, plan_path: str | Path) -> Path:
        """Write the record beside the plan it studies."""
        return write_atomic(Path(plan_path).parent / self.FILE, dumps(self.to_json()))


__all__ = ["Explanation", "Probe", "Sensitivity", "Variant"]
