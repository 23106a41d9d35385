"""How a result was made: the run record (solver, limits, times, model size, rounds, the
parameters and the inputs), with how it was found sites first and, for a plan robust to
attacks, how that was proved."""

from __future__ import annotations

from pydantic import Field, JsonValue, ValidationError

from nisd.config import PlanConfig
from nisd.errors import ConfigError, Problem
from nisd.records.base import Record, Status
from nisd.records.scenario import AttackRow
from nisd.settings import validation_problems


class RoundRecord(Record):
    """One round of a solve: the model with some scenarios' rows, its answer, and how many
    scenarios the evaluator found violated."""

    round: int
    status: Status
    objective: float | None = None
    bound: float | None = None
    violated: int = 0
    goal: str | None = None
    scenarios_in_model: int | None = None
    solve_seconds: float | None = None
    evaluate_seconds: float | None = None
    wall_seconds: float = 0.0


class ModelStats(Record):
    """The size of the model that was solved."""

    variables: int
    constraints: int
    nonzeros: int | None = None
    families: dict[str, int] = Field(default_factory=dict)
    crisis_rows_before_reduction: int | None = None
    scenarios: int | None = None
    scenarios_with_flow_rows: tuple[str, ...] = ()
    # a roll-out: per year, the scenarios whose flow rows joined its model
    flow_scenarios: dict[str, tuple[str, ...]] | None = None


class MasterStats(Record):
    """The size of the sites-first master and the time it took to build."""

    variables: int
    constraints: int
    families: dict[str, int] = Field(default_factory=dict)
    build_seconds: float = 0.0


class DecompositionStep(Record):
    """One step of sites first: a master solve (or a known plan's sites, ``start``), the
    sites it opened, and the check of those sites on the full model."""

    start: tuple[str, ...] | None = None
    master_status: Status | None = None
    master_objective: float | None = None
    master_bound: float | None = None
    master_seconds: float | None = None
    sites: int | None = None
    unserved_workloads: int | None = None
    check: str | None = None
    check_objective: float | None = None
    check_seconds: float | None = None
    cuts: int | None = None


class Decomposition(Record):
    """How a plan was found sites first: the master, each step, the cuts and bounds."""

    method: str
    master: MasterStats
    iterations: tuple[DecompositionStep, ...] = ()
    cuts: int | None = None
    upper: float | None = None
    lower: float | None = None
    then: str | None = None


class WarIteration(Record):
    """One plan of a robust (war) solve and the attack search on it."""

    iteration: int
    plan_objective: float | None = None
    plan_bound: float | None = None
    plan_status: Status | None = None
    plan_seconds: float | None = None
    attack: tuple[str, ...] | None = None
    short_racks: float | None = None
    attack_search_seconds: float | None = None
    attack_solves: int | None = None


class Certificate(Record):
    """The last attack search's proof that no attack within the budget breaks the levels."""

    margin_racks: float
    targets_considered: int
    rejected_cut_off_attacks: int = 0
    statement: str


class WarRecord(Record):
    """A plan robust to any attack within a budget: how it was proved, and its worst attack."""

    attacks: float
    targets: tuple[str, ...]
    cost: dict[str, float] = Field(default_factory=dict)
    serve: dict[str, float] = Field(default_factory=dict)
    method: str = ""
    iterations: tuple[WarIteration, ...] = ()
    certificate: Certificate | None = None
    worst_attack: AttackRow | None = None

    def attacks_found(self) -> list[tuple[str, ...]]:
        """The attacks added while planning, then the worst attack on the final plan."""
        found = [it.attack for it in self.iterations if it.attack]
        if self.worst_attack is not None and self.worst_attack.targets:
            found.append(self.worst_attack.targets)
        return found


class TieBreak(Record):
    """How ties among the plans of the proved cost were broken (:mod:`nisd.optimise.ties`):
    the rule, whether the second solve proved the rule's best (``proved``), found a better
    plan without proving it (``improved``) or kept the first plan (``kept``), the sites
    before and after, and the chosen plan's new and existing sites."""

    rule: str
    status: str
    changed: bool
    sites_before: tuple[str, ...]
    sites_after: tuple[str, ...]
    new_sites: int
    existing_sites: int
    seconds: float
    note: str | None = None


class AlternativeOf(Record):
    """A near-optimal alternative: the slack it was held within, the optimum, and how much
    it shares with the plans before it."""

    slack: float
    optimum: float
    overlap_with_previous: int = 0
    shared_with_optimum: tuple[str, ...] = ()


class RunRecord(Record):
    """How a result was made: solver, limits, times, model size, rounds, the parameters,
    and the inputs (their hash, every file read with its hash, the data directory)."""

    nisd_version: str = ""
    python: str | None = None
    solver: str = ""
    solver_version: str = ""
    threads: int | None = None
    seed: int | None = None
    time_limit: float | None = None
    gap_limit: float | None = None
    hit_limit: bool = False
    build_seconds: float | None = None
    solve_seconds: float | None = None
    wall_seconds: float | None = None
    readiness_search_seconds: float | None = None
    parameters: dict[str, JsonValue] | None = None
    model: ModelStats | None = None
    rounds: tuple[RoundRecord, ...] = ()
    decomposition: Decomposition | None = None
    war: WarRecord | None = None
    ties: TieBreak | None = None
    start_given: bool = False
    input_hash: str | None = None
    input_files: dict[str, str] = Field(default_factory=dict)
    scenario_file: str | None = None
    # the data directory: "nisd:sites" for the embedded default, else an absolute path
    data_dir: str | None = None
    # a year's plan taken out of a roll-out
    year: int | None = None
    # a near-optimal alternative (``nisd alternatives``)
    mga: AlternativeOf | None = None

    def config(self, name: str = "plan") -> PlanConfig:
        """The parameters the result was made with, validated like a scenario file.

        Raises
        ------
        ConfigError
            There are none, or this version of nisd cannot read them.
        """
        if self.parameters is None:
            raise ConfigError([Problem(name, "has no run.parameters: its rules are unknown")])
        params = {k: v for k, v in self.parameters.items() if k != "extends"}
        try:
            return PlanConfig.model_validate(params)
        except ValidationError as exc:
            raise ConfigError(validation_problems(f"{name} run.parameters", exc)) from None
