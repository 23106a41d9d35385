"""The fees record: what each agency pays for a plan or a roll-out (``fees.json``), year by
year, how the roll-out is financed, and what an agency's choice costs the others."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import Field

from nisd.files import csv_text, write_atomic
from nisd.records.base import FileRecord, Record, dumps


class FeeRow(Record):
    """One payer's fee (in a year of a roll-out), its share of the cost, and its drivers.

    ``fee_msek`` is the whole fee: the base fee by the method plus ``premium_msek``, the
    payer's part of the protection premium (the cost of the protection levels, charged to
    the payers whose load needs them). ``change_msek`` is the change from the year before
    (a roll-out; None in its first year with a fee)."""

    payer: str
    year: int | None = None
    share: float
    fee_msek: float
    premium_msek: float | None = None
    change_msek: float | None = None
    # a sampled Shapley value: the half-width of the fee's interval at the stated confidence
    fee_halfwidth_msek: float | None = None
    users: int | None = None
    load_racks: float | None = None
    reserved_racks: float | None = None
    criticality: tuple[str, ...] = ()
    latency_classes: tuple[str, ...] = ()
    protection: int | None = None


class FeeYear(Record):
    """One year of a roll-out's financing: what was spent and borrowed, what the fees had
    to cover, the fee income, the balance carried, and each payer's fee."""

    year: int
    payers: int = 0
    capital_msek: float = 0.0
    loan_drawn_msek: float = 0.0
    loan_balance_msek: float = 0.0
    depreciation_msek: float = 0.0
    interest_msek: float = 0.0
    running_msek: float = 0.0
    migration_msek: float = 0.0
    recovered_capital_msek: float = 0.0
    deficit_recovered_msek: float = 0.0
    # what the year's fees cover (depreciation or recovered capital, interest, running)
    cost_msek: float
    fee_income_msek: float
    balance_msek: float
    # total cost of ownership: the buildings' running cost plus the labelled lines
    tco_msek: float | None = None
    rows: tuple[FeeRow, ...] = ()


class FeeMethod(Record):
    """How cost causation was computed: Shapley values exact or sampled, how many coalition
    values were solved and inferred, and the precision reached."""

    shapley: Literal["exact", "sampled"] | None = None
    coalitions: int | None = None
    solved: int | None = None
    inferred: int | None = None
    samples: int | None = None
    seed: int | None = None
    confidence: float | None = None
    precision_goal_msek: float | None = None
    precision_msek: float | None = None
    stopped_by: Literal["precision", "time", "orders"] | None = None
    # sampled: the payers whose places were permuted within every sampled order
    key_players: tuple[str, ...] = ()
    seconds: float | None = None
    v_all_msek: float | None = None
    # coalitions without a plan on the plan's own sites, and the value each was given
    fallback: tuple[str, ...] = ()
    monotone: bool | None = None


class Premium(Record):
    """The protection premium: the plan's cost less the same scenario's cost with the
    protection levels off; ``steps`` is what each level adds (level → MSEK/year), charged
    to the payers whose users need that level or more."""

    cost_msek: float
    without_protection_msek: float
    premium_msek: float
    payers: tuple[str, ...] = ()
    steps: dict[str, float] = Field(default_factory=dict)


class TcoLine(Record):
    """A labelled cost line beyond the buildings (staff, hardware, network), per year."""

    name: str
    msek_per_year: float
    source: str = ""


class ChangeRow(Record):
    """One payer's fee before and after another agency's choice."""

    payer: str
    before_msek: float
    after_msek: float
    change_msek: float


class Change(Record):
    """What one or more agencies declining (or joining later) does to everyone else's fee:
    per payer, the fee before and after (a plan: per year; a roll-out: summed over its
    years), and the sites added and removed."""

    what: Literal["decline", "join"]
    agencies: tuple[str, ...]
    year: int | None = None
    cost_before_msek: float
    cost_after_msek: float
    rows: tuple[ChangeRow, ...] = ()
    sites_added: tuple[str, ...] = ()
    sites_removed: tuple[str, ...] = ()


class Fees(FileRecord):
    """Annual fees with full cost recovery, for a plan (``rows``) or a roll-out (``years``),
    one row per paying agency."""

    KIND: ClassVar[str] = "fees"
    FILE: ClassVar[str] = "fees.json"
    CSV: ClassVar[str] = "fees.csv"

    source: Literal["plan", "rollout"]
    method: Literal["load", "reserved", "shapley"]
    how: FeeMethod = FeeMethod()
    financing: Literal["annual", "loan", "recover"] = "annual"
    interest_rate: float | None = None
    cost_msek: float | None = None
    rows: tuple[FeeRow, ...] = ()
    premium: Premium | None = None
    # why the protection premium is not shown, when it was asked for but not known
    premium_note: str = ""
    recover_years: int | None = None
    opening_balance_msek: float | None = None
    years: tuple[FeeYear, ...] = Field(default=())
    left_to_recover_msek: float | None = None
    tco: tuple[TcoLine, ...] = ()
    today_msek_per_year: float | None = None
    today_source: str = ""
    changes: tuple[Change, ...] = ()

    @classmethod
    def from_json(cls, doc: Any, name: str = "") -> Self:
        # version 1 named the source in "kind" ("plan" or "rollout")
        if isinstance(doc, dict) and "schema" not in doc and doc.get("kind") in ("plan", "rollout"):
            doc = {**doc, "source": doc["kind"], "kind": cls.KIND}
        return super().from_json(doc, name)

    @classmethod
    def upgrade(cls, doc: dict[str, Any], schema: int) -> dict[str, Any]:
        if schema >= 3:
            return doc

        def row(r: dict[str, Any]) -> dict[str, Any]:
            r = dict(r)
            err = r.pop("fee_stderr_msek", None)  # schema 2: a standard error, not a half-width
            if err is not None:
                r["fee_halfwidth_msek"] = 1.96 * err
            return r

        doc = dict(doc)
        doc["rows"] = [row(r) for r in doc.get("rows", [])]
        doc["years"] = [
            {**y, "rows": [row(r) for r in y.get("rows", [])]} for y in doc.get("years", [])
        ]
        if doc.get("source") == "rollout":
            doc.setdefault("financing", "recover")
        return doc

    @property
    def table(self) -> tuple[FeeRow, ...]:
        """Every payer's fee: a plan's rows, or every year's rows of a roll-out."""
        if self.source == "plan":
            return self.rows
        return tuple(r for y in self.years for r in y.rows)

    def csv(self) -> str:
        """``fees.csv``: one row per payer and year, with the change from the year before."""
        cols = [
            "payer",
            "year",
            "fee_msek",
            "change_msek",
            "premium_msek",
            "share",
            "fee_halfwidth_msek",
            "method",
        ]
        rows = [
            [
                r.payer,
                r.year,
                round(r.fee_msek, 6),
                None if r.change_msek is None else round(r.change_msek, 6),
                None if r.premium_msek is None else round(r.premium_msek, 6),
                round(r.share, 9),
                None if r.fee_halfwidth_msek is None else round(r.fee_halfwidth_msek, 6),
                self.method,
            ]
            for r in self.table
        ]
        return csv_text(cols, rows)

    def save(self, path: str | Path) -> Path:
        """Write the record to ``path`` (atomically)."""
        return write_atomic(path, dumps(self.to_json()))

    def save_beside(self, result_path: str | Path) -> Path:
        """Write ``fees.json`` and ``fees.csv`` beside a plan or roll-out file."""
        folder = Path(result_path)
        folder = folder.parent if folder.suffix == ".json" else folder
        write_atomic(folder / self.CSV, self.csv())
        return self.save(folder / self.FILE)


__all__ = [
    "Change",
    "ChangeRow",
    "FeeMethod",
    "FeeRow",
    "FeeYear",
    "Fees",
    "Premium",
    "TcoLine",
]
