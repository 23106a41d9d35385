"""The roll-out record: what ``rollout.json`` holds, year by year.

A :class:`Rollout` is Program 2032 over time: per year (:class:`YearRow`) the sites in
service and each user's sites, the money spent against the budget, who joined, who
moved and which crisis sets hold; per site (:class:`ScheduleRow`) its construction and
service years. Its CSV tables (``years.csv``, ``schedule.csv``, ``assignments.csv``)
are written beside it, all or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, model_validator

from nisd.config import PlanConfig
from nisd.errors import ConfigError
from nisd.files import csv_text, write_files
from nisd.records.base import FileRecord, Record, Status, dumps
from nisd.records.plan import ClassShare, Kpis, ObjectiveValue, Plan, RunRecord

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class Move(Record):
    """A user already on board whose primary site changed."""

    demand_id: str
    from_site: str = Field(alias="from")
    to_site: str = Field(alias="to")


class YearCost(Record):
    """A year's spending in MSEK: running, capital, migrations, their total and its
    discounted value."""

    running: float
    capital: float
    migration: float = 0.0
    total: float
    discounted: float


class YearBudget(Record):
    """A year's budgets in MSEK (None: no limit)."""

    capital: float | None = None
    operating: float | None = None


class Readiness(Record):
    """Which crisis sets a year must hold, which hold (every set evaluated), and the
    worst served share by class over them."""

    required: tuple[str, ...] = ()
    holds: dict[str, bool] = Field(default_factory=dict)
    worst_by_class: dict[str, ClassShare] = Field(default_factory=dict)
    worst_share_served: float | None = None


class YearRow(Record):
    """One year of the roll-out, every figure from the year's plan."""

    year: int
    sites: dict[str, str]
    opened: tuple[str, ...] = ()
    closed: tuple[str, ...] = ()
    assignments: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    onboarded: tuple[str, ...] = ()
    migrations: tuple[Move, ...] = ()
    load_racks: float = 0.0
    capacity_racks: float = 0.0
    cost_msek: YearCost
    budget_msek: YearBudget = YearBudget()
    readiness: Readiness = Readiness()
    kpis: Kpis = Kpis()

    @model_validator(mode="after")
    def _consistent(self) -> YearRow:
        for d, seq in self.assignments.items():
            bad = [s for s in seq if s not in self.sites]
            if bad:
                raise ValueError(
                    f"{self.year}: assignments.{d} names sites not in service: {', '.join(bad)}"
                )
        return self


class ScheduleRow(Record):
    """A site of the roll-out: its construction and service years and its capital."""

    site_id: str
    name: str = ""
    type: str
    existing: bool = False
    construction_from: int | None = None
    in_service_from: int
    in_service_to: int
    closes: int | None = None
    capital_msek: float = 0.0

    def phrase(self) -> str:
        """“built 2027–2028, in service from 2029” (or existing; closing)."""
        cf = self.construction_from
        built = (
            "existing"
            if self.existing
            else f"built {cf}–{self.in_service_from - 1}"
            if cf is not None and cf < self.in_service_from
            else "built"
        )
        until = f", closes {self.closes}" if self.closes else ""
        return f"{built}, in service from {self.in_service_from}{until}"


class Totals(Record):
    """A roll-out's whole cost in MSEK, discounted and not, and its migrations."""

    discounted_cost_msek: float
    cost_msek: float
    capital_msek: float
    running_msek: float
    migrations: int = 0


class Goal(Record):
    """One goal of the roll-out's lexicographic objective and how well it was solved."""

    goal: str
    status: Status
    value: float | None = None
    bound: float | None = None
    gap: float | None = None


class ReadinessStep(Record):
    """A crisis set's readiness advanced as far as the cost allows."""

    set: str
    asked_from: int
    holds_from: int
    proved: bool = True


class FirstStage(Record):
    """What a roll-out under uncertainty decides before its decision year, the same in every
    branch: the sites in service each year before it, and the sites whose construction has
    started by then (in service from the decision year on)."""

    decision_year: int
    sites_by_year: dict[str, dict[str, str]] = Field(default_factory=dict)
    started: dict[str, str] = Field(default_factory=dict)  # site → type

    @property
    def in_service(self) -> dict[str, str]:
        """The sites in service in the last year before the decision year."""
        return list(self.sites_by_year.values())[-1] if self.sites_by_year else {}

    def later(self, schedule: Sequence[ScheduleRow]) -> list[str]:
        """The sites of a branch's ``schedule`` that enter service from the decision year
        on without having been started before it: that branch's own decisions."""
        return sorted(
            s.site_id
            for s in schedule
            if s.in_service_from >= self.decision_year and s.site_id not in self.started
        )


class BranchResult(Record):
    """One future of a roll-out under uncertainty: its probability and its roll-out (years,
    site schedule and totals as a roll-out's), and what it would cost planned alone."""

    name: str
    probability: float
    years: tuple[YearRow, ...] = Field(min_length=1)
    sites: tuple[ScheduleRow, ...] = ()
    totals: Totals
    # its own best roll-out's discounted cost (the future known in advance), with its proof
    own_best_msek: float | None = None
    own_best_status: Status | None = None
    regret_msek: float | None = None


class Hedge(Record):
    """What hedging is worth: the expected, worst and regret figures of the plan, the value
    of the stochastic solution (VSS) and the expected value of perfect information (EVPI),
    with the figures they are the difference of and a note where one could not be made."""

    objective: str
    expected_cost_msek: float
    worst_cost_msek: float
    max_regret_msek: float | None = None
    wait_and_see_msek: float | None = None  # Σ p × each branch's own best
    evpi_msek: float | None = None  # expected cost − wait and see
    average_future_msek: float | None = None  # expected cost of the average future's plan
    vss_msek: float | None = None  # average future's expected cost − expected cost
    notes: tuple[str, ...] = ()
    seconds: dict[str, float] = Field(default_factory=dict)
    # how the tree was solved: "extensive" (one model) or "decomposition" (each branch on
    # its own: the candidates' first stages evaluated, rounds of no-good rows, branch solves)
    method: str = "extensive"
    lower_bound_msek: float | None = None
    candidates: int | None = None
    rounds: int | None = None
    branch_solves: int | None = None


class Rollout(FileRecord):
    """A checked roll-out: immutable, typed; its JSON form is ``rollout.json``."""

    KIND: ClassVar[str] = "rollout"
    FILE: ClassVar[str] = "rollout.json"

    status: Status = Status.UNKNOWN
    objective: ObjectiveValue = ObjectiveValue()
    bound: float | None = None
    gap: float | None = None
    goals: tuple[Goal, ...] = ()
    readiness_advanced: tuple[ReadinessStep, ...] = ()
    years: tuple[YearRow, ...] = Field(min_length=1)
    sites: tuple[ScheduleRow, ...] = ()
    totals: Totals | None = None
    run: RunRecord = RunRecord()
    # a roll-out under uncertainty: the decision year, every branch, the shared first
    # stage and what hedging is worth; ``years`` and ``sites`` are then the most probable
    # branch's (``shown_branch``)
    decision_year: int | None = None
    branches: tuple[BranchResult, ...] = ()
    shown_branch: str | None = None
    first_stage: FirstStage | None = None
    hedge: Hedge | None = None

    @property
    def vss_msek(self) -> float | None:
        """The value of the stochastic solution (None without branches or a figure)."""
        return self.hedge.vss_msek if self.hedge is not None else None

    @property
    def evpi_msek(self) -> float | None:
        """The expected value of perfect information (None without branches)."""
        return self.hedge.evpi_msek if self.hedge is not None else None

    def branch(self, name: str) -> Rollout:
        """One branch as a roll-out of its own (its years, schedule and totals; the rest is
        this roll-out's), for pages, fees and comparisons.

        Raises
        ------
        KeyError
            No branch of that name.
        """
        for b in self.branches:
            if b.name == name:
                return self.model_copy(
                    update={
                        "years": b.years,
                        "sites": b.sites,
                        "totals": b.totals,
                        "shown_branch": b.name,
                    }
                )
        raise KeyError(
            f"no branch {name!r} (branches: {', '.join(b.name for b in self.branches) or 'none'})"
        )

    @model_validator(mode="after")
    def _ordered(self) -> Rollout:
        ys = [y.year for y in self.years]
        if ys != list(range(ys[0], ys[0] + len(ys))):
            raise ValueError("years must be consecutive and in order")
        return self

    @cached_property
    def config(self) -> PlanConfig | None:
        """The parameters it was solved with (None: none this version can read)."""
        if self.run.parameters is None:
            return None
        try:
            return self.run.config("rollout")
        except ConfigError:
            return None

    @property
    def value(self) -> float | None:
        return self.objective.value

    @property
    def year_numbers(self) -> tuple[int, ...]:
        """The years, in order."""
        return tuple(y.year for y in self.years)

    def year(self, year: int) -> YearRow:
        """The record of one year.

        Raises
        ------
        KeyError
            ``year`` is not a year of the roll-out.
        """
        for y in self.years:
            if y.year == year:
                return y
        first, last = self.years[0].year, self.years[-1].year
        raise KeyError(f"{year} is not a year of this roll-out ({first}–{last})")

    def in_construction(self, year: int) -> list[str]:
        """The sites being built in ``year`` (not yet in service)."""
        return [
            s.site_id
            for s in self.sites
            if s.construction_from is not None and s.construction_from <= year < s.in_service_from
        ]

    def plan_of(self, year: int) -> Plan:
        """One year's placement as a :class:`~nisd.records.plan.Plan` (for maps, fees and
        comparisons); it carries the roll-out's inputs, not its parameters."""
        y = self.year(year)
        run = self.run.model_copy(update={"parameters": None, "year": year})
        return Plan(
            status=self.status,
            objective=ObjectiveValue(name="cost", value=y.kpis.cost_msek),
            sites=dict(y.sites),
            assignments=dict(y.assignments),
            kpis=y.kpis,
            run=run,
        )

    def final_plan(self) -> Plan:
        """Every site of the roll-out with the last year's assignments (its map)."""
        last = self.years[-1]
        run = self.run.model_copy(update={"parameters": None})
        return Plan(
            status=self.status,
            sites={s.site_id: s.type for s in self.sites} or dict(last.sites),
            assignments=dict(last.assignments),
            run=run,
        )

    # ---- files and frames -----------------------------------------------------------

    def files(self) -> dict[str, str]:
        """``rollout.json`` and its tables as text."""
        years = [
            [
                y.year,
                ";".join(sorted(y.sites)),
                ";".join(sorted(self.in_construction(y.year))),
                ";".join(y.opened),
                len(y.assignments),
                len(y.onboarded),
                len(y.migrations),
                y.load_racks,
                y.capacity_racks,
                y.cost_msek.running,
                y.cost_msek.capital,
                y.budget_msek.capital,
                y.cost_msek.total,
                y.cost_msek.discounted,
                ";".join(y.readiness.required),
                ";".join(s for s, ok in y.readiness.holds.items() if ok),
            ]
            for y in self.years
        ]
        schedule = [
            [
                s.site_id,
                s.name,
                s.type,
                s.existing,
                s.construction_from,
                s.in_service_from,
                s.in_service_to,
                s.closes,
                s.capital_msek,
            ]
            for s in self.sites
        ]
        assignments = [
            [y.year, d, r + 1, s]
            for y in self.years
            for d, seq in sorted(y.assignments.items())
            for r, s in enumerate(seq)
        ]
        out = {
            self.FILE: dumps(self.to_json()),
            "years.csv": csv_text(YEAR_COLUMNS, years),
            "schedule.csv": csv_text(SCHEDULE_COLUMNS, schedule),
            "assignments.csv": csv_text(["year", "demand_id", "rank", "site_id"], assignments),
        }
        if self.branches:
            rows = [
                [
                    b.name,
                    b.probability,
                    b.totals.discounted_cost_msek,
                    b.own_best_msek,
                    b.regret_msek,
                    ";".join(sorted({s.site_id for s in b.sites})),
                    ";".join(f"{y.year}:{s}" for y in b.years for s in y.opened),
                ]
                for b in self.branches
            ]
            out["branches.csv"] = csv_text(BRANCH_COLUMNS, rows)
        return out

    def save(self, out_dir: str | Path) -> Path:
        """Write ``rollout.json`` and its CSV tables into ``out_dir``, all or none; returns
        the path of ``rollout.json``."""
        return write_files(out_dir, self.files()) / self.FILE

    def years_frame(self) -> pd.DataFrame:
        """One row per year: sites in service, users, moves, costs, readiness."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "year": y.year,
                    "sites": len(y.sites),
                    "opened": ";".join(y.opened),
                    "users": len(y.assignments),
                    "onboarded": len(y.onboarded),
                    "migrations": len(y.migrations),
                    "running_msek": y.cost_msek.running,
                    "capital_msek": y.cost_msek.capital,
                    "capital_budget_msek": y.budget_msek.capital,
                    "total_msek": y.cost_msek.total,
                    "discounted_msek": y.cost_msek.discounted,
                    "sets_holding": ";".join(s for s, ok in y.readiness.holds.items() if ok),
                }
                for y in self.years
            ]
        )

    def schedule_frame(self) -> pd.DataFrame:
        """One row per site: type, construction and service years, capital."""
        import pandas as pd

        return pd.DataFrame([s.to_json() for s in self.sites])


BRANCH_COLUMNS: Sequence[str] = (
    "branch",
    "probability",
    "discounted_cost_msek",
    "own_best_msek",
    "regret_msek",
    "sites",
    "opened",
)
YEAR_COLUMNS: Sequence[str] = (
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
)
SCHEDULE_COLUMNS: Sequence[str] = (
    "site_id",
    "name",
    "type",
    "existing",
    "construction_from",
    "in_service_from",
    "in_service_to",
    "closes",
    "capital_msek",
)


def rollout_kind(doc: Any) -> bool:
    """Whether a JSON document is a roll-out (by its ``kind``)."""
    return isinstance(doc, dict) and doc.get("kind") == Rollout.KIND


__all__ = [
    "BranchResult",
    "FirstStage",
    "Goal",
    "Hedge",
    "Move",
    "Readiness",
    "ReadinessStep",
    "Rollout",
    "ScheduleRow",
    "Totals",
    "YearBudget",
    "YearCost",
    "YearRow",
    "rollout_kind",
]
