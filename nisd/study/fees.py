"""What each agency pays: annual fees with full cost recovery, three ways.

Payers are the agencies (:mod:`nisd.study.payers`). Methods (each allocates exactly the
cost; tests check the sums):

* ``load``: by share of primary load (racks);
* ``reserved``: by reserved capacity, each user's primary load plus the spare its
  backups need (its load times the largest share any crisis scenario asks of its
  class, as dedicated backup would reserve);
* ``shapley``: by cost causation, the Shapley value of the cost game over the payers,
  ``v(S)`` = the cheapest plan for S's users alone under the plan's rules on the plan's
  own sites (any allowed type; end-state policies such as the least number of sites
  left out), scaled so the values sum to the plan's cost. A coalition with no plan on
  those sites is valued at its cheapest plan on any allowed site, and one with no plan
  at all at ``v(N)`` (it can be served only as part of the whole system); both are
  named in the record. Exact (every coalition) for up to ``exact_limit`` payers;
  otherwise sampled to a stated precision (:mod:`nisd.study.shapley`).

A plan's fees may carry a **protection premium**: what the protection levels cost, level
by level (the plan's cost less the same scenario's cost with every user's level capped
one step lower, down to none), each step charged to the payers whose users need that
level or more, by that load; the rest is allocated by the method.

A roll-out is financed as :mod:`nisd.study.financing` says (a loan repaid through
depreciation, by default); each year's fee income is shared by the payers on board that
year: by the year's load or reserved capacity, or by the end state's Shapley shares over
the payers on board. An agency not on board pays nothing that year.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import ConfigError, InfeasibleError, Problem
from nisd.optimise import from_dataset, optimise
from nisd.optimise.rollout.years import END_STATE, ramp_of, year_config, year_dataset
from nisd.records.fees import FeeMethod, FeeRow, Fees, FeeYear, Premium, TcoLine
from nisd.records.rollout import Rollout
from nisd.study import shapley
from nisd.study.financing import finance
from nisd.study.payers import payers
from nisd.study.premium import premium_parts, protection_premium, quiet

Method = Literal["load", "reserved", "shapley"]
METHODS: tuple[Method, ...] = ("load", "reserved", "shapley")
Progress = Callable[[int, int], None]


# ---- the cost game of a plan ------------------------------------------------------------


def coalition_cost(
    ds: Dataset, cfg: PlanConfig, sites: Sequence[str] | None, users: Sequence[str]
) -> float:
    """The cheapest plan for ``users`` alone under ``cfg`` on the sites ``sites`` (any
    allowed type; None: any allowed site), without the end-state policies (least number
    of sites, required sites, presence, minimum per region, replication).

    Raises
    ------
    InfeasibleError
        No plan for them there.
    """
    keep = set(users)
    if not keep:
        return 0.0
    sub = replace(ds, demand=tuple(d for d in ds.demand if d.demand_id in keep))
    update: dict[str, Any] = {**END_STATE, "rollout": None}
    if sites is not None:
        allowed = set(sites)
        update["forbidden"] = [s.site_id for s in ds.sites if s.site_id not in allowed]
    c = cfg.model_copy(update=update)
    with quiet():
        plan = optimise(sub, from_dataset(sub, c), explain_infeasible=False, ties=False)
    return float(plan.kpis.cost_msek or 0.0)


class _Value:
    """``v(S)`` of the fee game, with the fallback rule for coalitions the plan's sites
    cannot serve alone (recorded in ``fallback``). With a protection premium apart the
    game is played with the protection levels off: the premium is charged by need, the
    rest by cost causation (a core site that three agencies need would otherwise go to
    whichever of them comes first, the largest source of sampling error)."""

    def __init__(
        self, ds: Dataset, cfg: PlanConfig, sites: Sequence[str], groups: Mapping[str, list[str]]
    ) -> None:
        self.ds, self.cfg, self.sites, self.groups = ds, cfg, list(sites), groups
        self.fallback: list[str] = []
        self.grand: float | None = None

    def __call__(self, s: frozenset[str]) -> float:
        users = [d for p in sorted(s) for d in self.groups[p]]
        try:
            return coalition_cost(self.ds, self.cfg, self.sites, users)
        except InfeasibleError:
            pass
        name = " + ".join(sorted(s))
        try:
            v = coalition_cost(self.ds, self.cfg, None, users)
            self.fallback.append(f"{name}: {v:.2f} MSEK on any allowed site")
            return v
        except InfeasibleError:
            if self.grand is None:
                raise
            self.fallback.append(f"{name}: v(N), no plan of its own")
            return self.grand


def shapley_shares(
    ds: Dataset,
    cfg: PlanConfig,
    sites: Sequence[str],
    groups: Mapping[str, list[str]],
    *,
    seed: int = 0,
    progress: Progress | None = None,
    protection: bool = True,
) -> tuple[dict[str, float], dict[str, float], FeeMethod]:
    """Each payer's Shapley value of the fee game, its half-width (sampled; 0 exact), and
    how they were found (``v_all_msek`` is v(N); values sum to it). ``protection=False``
    plays the game with the protection levels off (the premium charged apart)."""
    fc = cfg.fees
    t0 = time.perf_counter()
    if not protection:
        cfg = cfg.model_copy(update={"protection": False})
    value = _Value(ds, cfg, sites, groups)
    names = list(groups)
    game = shapley.Game(names, value)
    v_all = game(frozenset(names))
    value.grand = v_all
    if len(names) <= fc.exact_limit:
        phi = shapley.exact(game, progress)
        half = dict.fromkeys(names, 0.0)
        how = FeeMethod(shapley="exact", coalitions=2 ** len(names))
    else:
        est = shapley.sampled(
            game,
            precision=fc.precision * v_all,
            confidence=fc.confidence,
            seconds=max(0.0, fc.time_budget_s - (time.perf_counter() - t0)),
            seed=seed,
            progress=progress,
        )
        # every order's marginal costs sum to v(N): the estimate is efficient too
        phi, half = est.value, est.half_width
        how = FeeMethod(
            shapley="sampled",
            samples=est.orders,
            seed=seed,
            confidence=fc.confidence,
            stopped_by=est.stopped_by,
            key_players=est.key_players,
        )
    how = how.model_copy(
        update={
            "solved": game.solves,
            "inferred": game.inferred,
            "v_all_msek": round(v_all, 6),
            "fallback": tuple(value.fallback),
            "monotone": game.monotone,
            "seconds": round(time.perf_counter() - t0, 3),
        }
    )
    return phi, half, how


# ---- allocations ------------------------------------------------------------------------


def _drivers(ds: Dataset, ids: Sequence[str]) -> dict[str, Any]:
    by = ds.demand_by_id
    return {
        "users": len(ids),
        "latency_classes": sorted({by[d].latency_class for d in ids}),
        "criticality": sorted({by[d].criticality for d in ids}),
        "protection": max(by[d].protection for d in ids),
    }


def reserved_racks(ds: Dataset, cfg: PlanConfig, users: Sequence[str]) -> dict[str, float]:
    """Per user: primary load plus the spare its backups need (load × the largest share
    any of the plan's crisis service levels asks of its class)."""
    share: dict[str, float] = {}
    for sl in cfg.crisis.service_levels():
        for c, v in sl.serve.items():
            share[c] = max(share.get(c, 0.0), v)
    by = ds.demand_by_id
    return {
        d: by[d].load * (1.0 + (share.get(by[d].criticality, 0.0) if cfg.k > 1 else 0.0))
        for d in users
    }


def fee_table(
    ds: Dataset,
    cfg: PlanConfig,
    sites: Sequence[str],
    users: Sequence[str],
    cost: float,
    method: Method,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    premium: Premium | None = None,
) -> tuple[tuple[FeeRow, ...], FeeMethod]:
    """Annual fee per payer for a plan costing ``cost`` MSEK/year: the rows (payer, users,
    load, reserved racks, latency classes, criticality, share, fee and its premium part,
    and for sampled Shapley the fee's half-width), largest fee first, and how Shapley
    values were found.

    Raises
    ------
    ConfigError
        An unknown method.
    """
    if method not in METHODS:
        raise ConfigError([Problem("method", f"{method!r} is not one of {', '.join(METHODS)}")])
    groups = payers(ds, users)
    by = ds.demand_by_id
    load = {p: sum(by[d].load for d in ids) for p, ids in groups.items()}
    res = reserved_racks(ds, cfg, users)
    reserved = {p: sum(res[d] for d in ids) for p, ids in groups.items()}
    how = FeeMethod()
    half: dict[str, float] = {}
    if method == "load":
        weight = load
    elif method == "reserved":
        weight = reserved
    else:
        weight, half, how = shapley_shares(
            ds, cfg, sites, groups, seed=seed, progress=progress, protection=premium is None
        )
    total = sum(weight.values())
    prem = premium.premium_msek if premium is not None else 0.0
    parts = premium_parts(ds, users, premium) if premium is not None else {}
    base = cost - prem
    factor = base / total if total > 0 else 0.0
    rows = []
    for p, ids in groups.items():
        share_base = weight[p] / total if total > 0 else 1.0 / len(groups)
        extra = parts.get(p, 0.0)
        fee = share_base * base + extra
        rows.append(
            FeeRow(
                payer=p,
                **_drivers(ds, ids),
                load_racks=round(load[p], 6),
                reserved_racks=round(reserved[p], 6),
                share=fee / cost if cost > 0 else share_base,
                fee_msek=fee,
                premium_msek=extra if parts else None,
                fee_halfwidth_msek=half[p] * factor if p in half and half[p] > 0 else None,
            )
        )
    rows.sort(key=lambda r: (-r.fee_msek, r.payer))
    if how.shapley == "sampled":
        worst = max((r.fee_halfwidth_msek or 0.0) for r in rows)
        how = how.model_copy(
            update={
                "precision_msek": round(worst, 6),
                "precision_goal_msek": round(cfg.fees.precision * cost, 6),
            }
        )
    return tuple(rows), how


# ---- total cost of ownership ------------------------------------------------------------


def tco_lines(ds: Dataset, sites: Mapping[str, str], load_racks: float) -> tuple[TcoLine, ...]:
    """The dataset's cost lines beyond the buildings for sites (id → type) carrying
    ``load_racks``: staff, hardware and network, MSEK a year (none without ``[tco]``)."""
    t = ds.config.tco
    if t is None:
        return ()
    staff = sum(t.staff_msek_per_site.get(ty, 0.0) for ty in sites.values())
    return tuple(
        line
        for line in (
            TcoLine(name="staff", msek_per_year=round(staff, 6), source=t.source),
            TcoLine(
                name="hardware",
                msek_per_year=round(t.hardware_msek_per_rack * load_racks, 6),
                source=t.source,
            ),
            TcoLine(
                name="network",
                msek_per_year=round(t.network_msek_per_site * len(sites), 6),
                source=t.source,
            ),
        )
        if line.msek_per_year > 0
    )


# ---- a plan and a roll-out --------------------------------------------------------------


def plan_fees(
    ds: Dataset,
    cfg: PlanConfig,
    sites: Mapping[str, str],
    assignments: Mapping[str, Sequence[str]],
    cost: float,
    method: Method,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    premium: bool = True,
) -> Fees:
    """Fees for a static plan: its annual cost over the payers of its users, with the
    protection premium apart."""
    users = sorted(assignments)
    prem, why_not = protection_premium(ds, cfg, users, cost) if premium else (None, "")
    rows, how = fee_table(
        ds, cfg, sorted(sites), users, cost, method, seed=seed, progress=progress, premium=prem
    )
    load = sum(ds.demand_by_id[d].load for d in users)
    fc = cfg.fees
    return Fees(
        source="plan",
        method=method,
        how=how,
        financing="annual",
        cost_msek=cost,
        rows=rows,
        premium=prem,
        premium_note=why_not,
        tco=tco_lines(ds, sites, load),
        today_msek_per_year=fc.today_msek_per_year,
        today_source=fc.today_source,
    )


def _with_changes(rows: Sequence[FeeRow], before: Mapping[str, float]) -> list[FeeRow]:
    return [
        r.model_copy(
            update={"change_msek": r.fee_msek - before[r.payer] if r.payer in before else None}
        )
        for r in rows
    ]


# the financing's figures a fee year carries, each as ``<name>_msek``
MONEY = (
    "capital",
    "loan_drawn",
    "loan_balance",
    "depreciation",
    "interest",
    "running",
    "migration",
    "recovered_capital",
    "deficit_recovered",
    "cost",
    "fee_income",
    "balance",
)


def rollout_fees(
    ds: Dataset,
    cfg: PlanConfig,
    rollout: Rollout,
    method: Method,
    *,
    seed: int = 0,
    progress: Progress | None = None,
) -> Fees:
    """Fees for a roll-out, year by year: the financing's fee income of each year over
    the payers on board that year, by the year's load or reserved capacity, or by the
    end state's Shapley shares over the payers on board."""
    ro = cfg.rollout
    if ro is None:
        raise ConfigError([Problem("rollout", "has no [rollout] parameters")])
    fc = cfg.fees
    on_board = {y.year: payers(ds, y.assignments) for y in rollout.years}
    fin = finance(rollout, ro, fc, {y: len(g) for y, g in on_board.items()})
    end: dict[str, float] | None = None
    how = FeeMethod()
    halves: dict[str, float] = {}
    last = rollout.years[-1]
    if method == "shapley":
        end_ds = year_dataset(ds, ro, ro.last_year)
        end_cfg = year_config(cfg, ro.last_year, ramp_of(cfg)[ro.last_year])
        groups = payers(end_ds, last.assignments)
        phi, halves, how = shapley_shares(
            end_ds, end_cfg, sorted(last.sites), groups, seed=seed, progress=progress
        )
        v_all = how.v_all_msek or 1.0
        end = {p: v / v_all for p, v in phi.items()}
        halves = {p: h / v_all for p, h in halves.items()}
    per_year: list[FeeYear] = []
    before: dict[str, float] = {}
    for y, f in zip(rollout.years, fin, strict=True):
        rows: list[FeeRow] = []
        groups = on_board[y.year]
        if groups and f.fee_income > 0:
            yds = year_dataset(ds, ro, y.year)
            if end is None:
                t, _how = fee_table(yds, cfg, sorted(y.sites), sorted(y.assignments),
                                    f.fee_income, method)  # fmt: skip
                rows = list(t)
            else:
                total = sum(end.get(p, 0.0) for p in groups)
                rows = [
                    FeeRow(
                        payer=p,
                        share=end.get(p, 0.0) / total if total > 0 else 1 / len(groups),
                        fee_msek=(end.get(p, 0.0) / total if total > 0 else 1 / len(groups))
                        * f.fee_income,
                        fee_halfwidth_msek=halves[p] / total * f.fee_income
                        if halves.get(p) and total > 0
                        else None,
                    )
                    for p in groups
                ]
                rows.sort(key=lambda r: (-r.fee_msek, r.payer))
            rows = [r.model_copy(update={"year": y.year}) for r in _with_changes(rows, before)]
            before = {r.payer: r.fee_msek for r in rows}
        tco = sum(x.msek_per_year for x in tco_lines(ds, y.sites, y.load_racks))
        per_year.append(
            FeeYear(
                year=y.year,
                payers=len(groups),
                **{f"{k}_msek": round(getattr(f, k), 6) for k in MONEY},
                tco_msek=round(f.running + f.depreciation + tco, 6)
                if ds.config.tco is not None
                else None,
                rows=tuple(rows),
            )
        )
    unrecovered = -fin[-1].balance if fin and fin[-1].balance < 0 else 0.0
    return Fees(
        source="rollout",
        method=method,
        how=how,
        financing=fc.financing,
        interest_rate=fc.interest_rate,
        recover_years=ro.recover_years,
        opening_balance_msek=ro.opening_balance_msek,
        years=tuple(per_year),
        left_to_recover_msek=round(unrecovered, 6),
        tco=tco_lines(ds, last.sites, last.load_racks),
        today_msek_per_year=fc.today_msek_per_year,
        today_source=fc.today_source,
    )


__all__ = [
    "METHODS",
    "Method",
    "coalition_cost",
    "fee_table",
    "plan_fees",
    "protection_premium",
    "reserved_racks",
    "rollout_fees",
    "shapley_shares",
    "tco_lines",
]
