"""The time limit of a whole run: deriving the problem, building the model and every solve.

A plan's ``[solver] time_limit`` covers everything from the moment the run starts:
the crisis scenarios' latency tables (which on a large dataset take longer than the
solve), the model's rows, and each round's solve with the time left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from nisd.config import SolverOptions
from nisd.errors import NoSolutionError


@dataclass
class Deadline:
    """The time limit of a whole solve (``limit`` seconds from ``t0``; None: no limit).

    ``what`` ends the message when it runs out ("before the roll-out met every year's
    requirements").
    """

    limit: float | None
    t0: float = field(default_factory=time.perf_counter)
    what: str = "before a plan met every scenario's service levels"

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def left(self) -> float | None:
        """Seconds left (None: no limit)."""
        return None if self.limit is None else self.limit - self.elapsed()

    def check(self, rounds: int = 0) -> None:
        """Raise when the time is up.

        Raises
        ------
        NoSolutionError
        """
        left = self.left()
        if left is not None and left <= 0:
            after = f" after {rounds} round(s) of scenarios" if rounds else ""
            raise NoSolutionError(f"time limit {self.limit:g} s reached{after}, {self.what}")

    def options(self, opts: SolverOptions, cap: float | None = None) -> SolverOptions:
        """``opts`` with the time left (at most ``cap`` seconds) as the solver's limit.

        Raises
        ------
        NoSolutionError
            The time is up.
        """
        self.check()
        left = self.left()
        if cap is not None:
            left = cap if left is None else min(left, cap)
        return opts if left is None else opts.model_copy(update={"time_limit": left})

    @classmethod
    def of(cls, opts: SolverOptions, t0: float | None = None, what: str | None = None) -> Deadline:
        """The deadline of a solve with these solver options."""
        d = cls(opts.time_limit, time.perf_counter() if t0 is None else t0)
        if what is not None:
            d.what = what
        return d

    def checker(self, doing: str) -> Check:
        """A callable that raises when the time is up, saying what was being done."""

        def check(done: int = 0, of: int = 0) -> None:
            left = self.left()
            if left is not None and left <= 0:
                count = f" ({done} of {of} done)" if of else ""
                raise NoSolutionError(
                    f"time limit {self.limit:g} s reached while {doing}{count}, {self.what}"
                )

        return check


class Check(Protocol):
    """Raises :class:`~nisd.errors.NoSolutionError` when the run's time is up."""

    def __call__(self, done: int = 0, of: int = 0) -> None: ...


def no_check(done: int = 0, of: int = 0) -> None:
    """The check of a run without a time limit."""


__all__ = ["Check", "Deadline", "no_check"]


def ends_at(opts: SolverOptions, t0: float) -> float | None:
    """The run's end as wall-clock time (:func:`time.time`), for tasks in other processes,
    which may start long after they were handed out: each reads what is left with
    :func:`within`."""
    if opts.time_limit is None:
        return None
    return time.time() + opts.time_limit - (time.perf_counter() - t0)


def within(opts: SolverOptions, end: float | None) -> SolverOptions:
    """``opts`` with the time left until ``end`` (wall clock) as the limit, at least 1 s."""
    if end is None:
        return opts
    return opts.model_copy(update={"time_limit": max(end - time.time(), 1.0)})
