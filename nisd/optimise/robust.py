"""Plans robust to attacks: find the worst attack on each plan, add it as a scenario, until
none within the budget breaks the service levels (the last search is the certificate)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

import numpy as np

from nisd.errors import PlanCheckError
from nisd.optimise.flows import problem_flows
from nisd.optimise.interdict import (
    TARGET_KINDS,
    Target,
    attack_scenario,
    flow_data,
    targets_of,
    violating_attack,
)
from nisd.optimise.problem import PlacementProblem, with_scenarios
from nisd.optimise.solve import SolveResult
from nisd.records.plan import Certificate, WarIteration, WarRecord

log = logging.getLogger(__name__)


class AttackRounds:
    """The attacks of a robust plan, found one per plan while solving in rounds."""

    def __init__(self, pp: PlacementProblem) -> None:
        w = pp.config.war
        self.levels = np.array([float(w.serve.get(c, 0.0)) for c in pp.classes])
        self.costs: dict[str, float] = {
            str(k): float(v) for k, v in w.cost.items() if k in TARGET_KINDS
        }
        self.iterations: list[WarIteration] = []
        self.certificate: Certificate | None = None

    def record(self, pp: PlacementProblem) -> WarRecord:
        """How the plan was proved robust (its worst attack is added by the pipeline)."""
        w = pp.config.war
        return WarRecord(
            attacks=w.attacks,
            targets=tuple(w.targets),
            cost=dict(self.costs),
            serve={c: float(v) for c, v in zip(pp.classes, self.levels, strict=True) if v > 0},
            method="constraint generation: plan, find the worst attack on the plan "
            "(interdiction MILP), add it as a scenario, repeat",
            iterations=tuple(self.iterations),
            certificate=self.certificate,
        )

    def check(
        self,
        pp: PlacementProblem,
        sites: Mapping[str, str],
        assign: Mapping[str, Sequence[str]],
        res: SolveResult,
        plan_seconds: float,
    ) -> tuple[PlacementProblem, str | None]:
        """``pp`` with the attack that breaks this plan's levels (and its name), or the
        certificate that none does.

        Raises
        ------
        PlanCheckError
            The attack found is already in the model (model and search disagree).
        """
        assert pp.routing is not None
        w = pp.config.war
        sidx = {s: j for j, s in enumerate(pp.site_ids)}
        tidx = {t: k for k, t in enumerate(pp.type_ids)}
        fd = flow_data(
            pp.routing,
            pp.demand_ids,
            pp.load,
            pp.rank,
            pp.classes,
            pp.crisis_ms,
            {s: float(pp.capacity[sidx[s], tidx[t]]) for s, t in sites.items()},
            {d: list(v) for d, v in assign.items()},
            pp.dependencies,
        )
        targets = targets_of(
            pp.routing, dict(sites), pp.backbone_nodes, pp.srlg_ids, w.targets, self.costs
        )
        t = time.perf_counter()
        rejected: list[tuple[Target, ...]] = []
        solves = 0
        opts = pp.config.solver.model_copy(update={"time_limit": None})
        while True:
            found, margin, search = violating_attack(
                fd, targets, w.attacks, self.levels, opts=opts, rejected=rejected
            )
            solves += len(search.solves)
            entry = WarIteration(
                iteration=len(self.iterations) + 1,
                plan_objective=res.objective,
                plan_bound=res.bound,
                plan_status=res.status,
                plan_seconds=round(plan_seconds, 3),
                attack_search_seconds=round(time.perf_counter() - t, 3),
                attack_solves=solves,
            )
            if found is None:
                self.iterations.append(entry)
                self.certificate = Certificate(
                    margin_racks=round(margin, 6) + 0.0,
                    targets_considered=len(targets),
                    rejected_cut_off_attacks=len(rejected),
                    statement=f"no attack of budget {w.attacks:g} on "
                    f"{', '.join(w.targets)} leaves less than the service levels "
                    "(proved by the last interdiction search)",
                )
                log.info(
                    "attacks: none within budget %g breaks the levels (margin %.3f racks)",
                    w.attacks,
                    round(margin, 6) + 0.0,
                )
                return pp, None
            sc = attack_scenario(found.targets)
            if sc.name in pp.crisis_latency:
                raise PlanCheckError(
                    f"the model and the attack search disagree: {sc.name} is in the model "
                    "and still breaks the plan"
                )
            grown = with_scenarios(pp, [sc], self.levels)
            fl = problem_flows(grown, sites, assign, [sc.name])[sc.name]
            if fl.met is not False:  # broke the levels only by counting cut-off load
                rejected.append(found.targets)
                continue
            entry = entry.model_copy(
                update={
                    "attack": tuple(x.name for x in found.targets),
                    "short_racks": round(-margin, 6),
                }
            )
            self.iterations.append(entry)
            log.info(
                "attack %d: %s leaves %.3g racks short; added",
                entry.iteration,
                " + ".join(entry.attack or ()),
                -margin,
            )
            return grown, sc.name
