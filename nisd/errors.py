"""The exceptions nisd raises, and the exit code the CLI gives each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and why.

    ``line`` is the 1-based line of a CSV file (the header is line 1) or the
    1-based feature number of a GeoJSON/GeoPackage file.
    """

    file: str
    message: str
    line: int | None = None
    column: str | None = None
    severity: str = "error"
    unit: str = "line"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" {self.unit} {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class NisdError(Exception):
    """Base class of every error nisd raises on purpose."""

    exit_code = 1


class InputError(NisdError):
    """Input data or options were rejected; ``problems`` lists every reason."""

    exit_code = 3

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file="input", message=problems)]
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{len(errors)} problem(s) in the input"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in errors))


class ConfigError(InputError):
    """A scenario or dataset.toml option was rejected."""


class InfeasibleError(NisdError):
    """The solver proved that no plan satisfies the constraints."""

    exit_code = 4


class NoSolutionError(NisdError):
    """The solver stopped (time limit, interrupt) without proof and without a plan."""

    exit_code = 5


class SolverError(NisdError):
    """The solver failed or is not available."""

    exit_code = 6


class PlanCheckError(NisdError):
    """A solver's plan failed nisd's independent check: never a result."""

    exit_code = 7
