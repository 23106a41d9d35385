"""The fees record: what each payer pays for a plan or a roll-out (``fees.json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import Field

from nisd.files import write_atomic
from nisd.records.base import FileRecord, Record, dumps


class FeeRow(Record):
    """One payer's fee, its share of the cost, and what drives it."""

    payer: str
    share: float
    fee_msek: float
    fee_stderr_msek: float | None = None
    users: int | None = None
    load_racks: float | None = None
    reserved_racks: float | None = None
    criticality: tuple[str, ...] = ()
    latency_classes: tuple[str, ...] = ()
    protection: int | None = None


class FeeYear(Record):
    """One year of a roll-out's cost recovery: cost, fee income, balance, and the fees."""

    year: int
    cost_msek: float
    fee_income_msek: float
    balance_msek: float
    rows: tuple[FeeRow, ...] = ()


class FeeMethod(Record):
    """How cost causation was computed (Shapley values: exact or sampled)."""

    shapley: Literal["exact", "sampled"] | None = None
    coalitions: int | None = None
    samples: int | None = None
    seed: int | None = None
    v_all_msek: float | None = None


class Fees(FileRecord):
    """Annual fees with full cost recovery, for a plan (``rows``) or a roll-out (``years``)."""

    KIND: ClassVar[str] = "fees"
    FILE: ClassVar[str] = "fees.json"

    source: Literal["plan", "rollout"]
    method: Literal["load", "reserved", "shapley"]
    how: FeeMethod = FeeMethod()
    cost_msek: float | None = None
    rows: tuple[FeeRow, ...] = ()
    recover_years: int | None = None
    opening_balance_msek: float | None = None
    years: tuple[FeeYear, ...] = Field(default=())
    left_to_recover_msek: float | None = None

    @classmethod
    def from_json(cls, doc: Any, name: str = "") -> Self:
        # version 1 named the source in "kind" ("plan" or "rollout")
        if isinstance(doc, dict) and "schema" not in doc and doc.get("kind") in ("plan", "rollout"):
            doc = {**doc, "source": doc["kind"], "kind": cls.KIND}
        return super().from_json(doc, name)

    def save(self, path: str | Path) -> Path:
        """Write the record to ``path`` (atomically)."""
        return write_atomic(path, dumps(self.to_json()))


__all__ = ["FeeMethod", "FeeRow", "FeeYear", "Fees"]
