"""Workloads that depend on other workloads: the shared platform services.

An official reaches an agency's service only when the platform services it
depends on work for that official too: the e-identity for officials (EFOS), the
secure government intranet (SGSI), certificates (PKI) and name resolution (DNS).
The demand column ``depends_on`` names such workloads (their workload ids).

The rule, used by the evaluator, the model's scenario tables, the attack scan
and the checker alike:

* **Which rows serve a user.** For a user point ``i`` of a workload that depends
  on workload ``D``, the rows of ``D`` in ``i``'s county serve it (in the
  services form every workload has a row at each county's population point);
  when ``D`` has no row in that county, all of ``D``'s rows do.
* **Served.** After a failure, ``i`` is served only as far as each dependency is
  served for it: ``served_i ≤ L_i · served(D rows) / L(D rows)`` over the D rows
  that are not cut off (a D row cut off is a place that lost everything, not D failing
  for ``i``: at municipality resolution a county's D rows are several places), taken
  dependencies first (a dependency's own dependencies count). The flow still
  holds the capacity the user's own load took: room a user cannot use is not
  handed to someone else, so the figure is never above what the sites can do.
* **Cut off.** A user whose dependency rows are all cut off (no surviving site
  in time, or on a skipped island) is cut off too: its load is lost and the
  service levels do not ask for it, as for a user cut off itself.

The model needs no rows of its own for this: :func:`level_problems` asks that a
dependency be served in full in every scenario where a user depending on it has
a service level, so the levels the model meets for the dependency leave every
dependent user its own served share. Scenarios outside the levels (presets,
attacks) are where dependencies bite: taking out the copies of a platform
service takes every official's service with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix

from nisd.topology.served import Flow, levels_met

if TYPE_CHECKING:
    from nisd.dataset import DemandPoint

TOL = 1e-9


@dataclass(frozen=True)
class Dependencies:
    """The (user, dependency) pairs of a list of demand points, by depth.

    ``stages[k]`` holds the pairs whose user's workload sits at depth ``k + 1`` of the
    dependency graph (its dependencies are all at smaller depths): ``owner`` (P,) the
    user index, ``rows`` (P, I) a 0/1 matrix of the dependency rows that serve it.
    """

    n: int
    stages: tuple[tuple[np.ndarray, csr_matrix], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.stages)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dependencies) or other.n != self.n:
            return False
        if len(other.stages) != len(self.stages):
            return False
        return all(
            np.array_equal(a, c) and b.shape == d.shape and (b != d).nnz == 0
            for (a, b), (c, d) in zip(self.stages, other.stages, strict=True)
        )

    __hash__ = None  # type: ignore[assignment]  # holds arrays

    @classmethod
    def of(cls, demand: Sequence[DemandPoint]) -> Dependencies:
        """The dependencies of ``demand`` (in its order). The data loader has refused
        unknown workloads and cycles already."""
        n = len(demand)
        rows_of: dict[str, list[int]] = {}
        here_of: dict[tuple[str, str | None], list[int]] = {}
        for i, d in enumerate(demand):
            rows_of.setdefault(d.workload_id, []).append(i)
            here_of.setdefault((d.workload_id, d.county_code), []).append(i)
        needs = {d.workload_id: d.depends_on for d in demand if d.depends_on}
        if not needs:
            return cls(n)
        depth: dict[str, int] = {}

        def depth_of(w: str) -> int:
            if w not in depth:
                depth[w] = 1 + max((depth_of(x) for x in needs.get(w, ())), default=-1)
            return depth[w]

        by_stage: dict[int, tuple[list[int], list[int], list[int]]] = {}
        for i, d in enumerate(demand):
            if not d.depends_on:
                continue
            owner, col, row = by_stage.setdefault(depth_of(d.workload_id), ([], [], []))
            for w in d.depends_on:
                for j in here_of.get((w, d.county_code)) or rows_of.get(w, []):
                    row.append(len(owner))
                    col.append(j)
                owner.append(i)
        stages = []
        for k in sorted(by_stage):
            owner, col, row = by_stage[k]
            m = csr_matrix(
                (np.ones(len(col)), (np.asarray(row, np.int64), np.asarray(col, np.int64))),
                shape=(len(owner), n),
            )
            stages.append((np.asarray(owner, np.int64), m))
        return cls(n, tuple(stages))

    def cut(self, cut: np.ndarray) -> np.ndarray:
        """(I,) bool: ``cut`` with every user whose dependency rows are all cut off."""
        out = np.asarray(cut, dtype=bool).copy()
        for owner, m in self.stages:
            alive = np.asarray(m @ (~out).astype(float)) > 0.5
            out[owner[~alive]] = True
        return out

    def served(
        self, served: np.ndarray, load: np.ndarray, base: np.ndarray | None = None
    ) -> np.ndarray:
        """(I,) each user's served load, no more than each dependency serves it: the
        served share of its dependency rows that are not cut off (``base``: each user's
        load, 0 where cut off; all of ``load`` when not given)."""
        out = np.asarray(served, float).copy()
        load = np.asarray(load, float)
        alive = load if base is None else np.asarray(base, float)
        for owner, m in self.stages:
            need = np.asarray(m @ alive)
            got = np.asarray(m @ out)
            share = np.where(need > TOL, np.minimum(got / np.maximum(need, TOL), 1.0), 1.0)
            np.minimum.at(out, owner, load[owner] * share)
        return out

    def dead(self, usable: np.ndarray) -> np.ndarray:
        """Batched for the attack scan: ``usable`` (B, I) says each user has some usable
        site; returns (B, I) users left with none once dependencies count (a user whose
        dependency rows all have none)."""
        out = ~np.asarray(usable, dtype=bool)
        for owner, m in self.stages:
            gone = np.asarray(m @ (~out).T.astype(float)) < 0.5  # (P, B)
            if gone.any():
                who = csr_matrix(
                    (np.ones(len(owner)), (owner, np.arange(len(owner)))),
                    shape=(self.n, len(owner)),
                )
                out |= np.asarray(who @ gone.astype(float)).T > 0.5
        return out

    def flow(
        self,
        fl: Flow,
        load: np.ndarray,
        rank: np.ndarray,
        levels: np.ndarray | None,
        base: np.ndarray | None,
    ) -> Flow:
        """``fl`` with each user's served load limited by its dependencies, and the
        service levels judged on that."""
        if not self:
            return fl
        served = self.served(np.minimum(fl.served, load), load, base)
        met = fl.met
        if levels is not None and met:
            k = int(rank.max()) + 1 if len(rank) else 1
            met = levels_met(served, rank, levels, base, load, k)
        return replace(fl, served=served, met=met)


def level_problems(
    demand: Sequence[DemandPoint],
    classes: Sequence[str],
    tiers: Sequence[tuple[str, dict[str, float]]],
) -> list[str]:
    """Service levels the model cannot promise with dependencies: a dependency that a
    tier serves in part while a user depending on it has a level there.

    ``tiers`` is (where, class → share) per service level; returns one message each.
    """
    crit = {d.workload_id: d.criticality for d in demand}
    pairs = sorted({(d.workload_id, d.criticality, w) for d in demand for w in d.depends_on})
    out = []
    for where, serve in tiers:
        bad: dict[str, list[str]] = {}
        for user, cls, dep in pairs:
            dep_cls = crit.get(dep, classes[-1])
            if serve.get(cls, 0.0) > 0 and serve.get(dep_cls, 0.0) < 1.0 - 1e-9:
                bad.setdefault(dep, []).append(f"{user} ({cls})")
        for dep, users in sorted(bad.items()):
            dep_cls = crit.get(dep, classes[-1])
            shown = ", ".join(users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
            out.append(
                f"{where}: {shown} depend on {dep} ({dep_cls}), which this tier serves at "
                f"{serve.get(dep_cls, 0.0):g}: a dependency must be served in full wherever "
                f"what depends on it has a level (make {dep} more critical or serve "
                f"{dep_cls} at 1.0)"
            )
    return out
