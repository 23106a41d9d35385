"""What each agency pays: annual fees with full cost recovery, three ways.

Payers are the agencies: a demand point of kind ``agency`` pays as itself; the 21
county boards pay together as Länsstyrelserna (they run their IT jointly); the
population points (citizens' use of the agencies' e-services) are one payer,
shown apart so that a steering group sees the part no single agency causes.

Methods (each allocates exactly the cost; tests check the sums):

* ``load``: by share of primary load (racks);
* ``reserved``: by reserved capacity, each user's primary load plus the spare its
  backups need (its load times the largest share any crisis scenario asks of its
  class, as dedicated backup would reserve);
* ``shapley``: by cost causation, the Shapley value of the cost game over the
  payers, ``v(S)`` = the cheapest plan for S's users alone under the plan's rules
  on the plan's own sites (any allowed type; end-state policies such as the least
  number of sites left out), scaled so the values sum to the plan's cost. Exact
  (every coalition) for up to ``exact_limit`` payers; otherwise estimated from
  random orders of the payers, with the standard error of each value stated
  (Castro, Gómez & Tejada 2009). Every order's marginal costs sum to ``v(N)``,
  so the estimate is efficient too.

A roll-out's costs (running each year, capital recovered in equal parts over
``recover_years`` from the year it is spent, an opening balance likewise) are
allocated year by year; the balance carried from year to year shows any deficit
and its recovery.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from nisd.config import PlanConfig
from nisd.dataset import Dataset
from nisd.errors import ConfigError, Problem
from nisd.optimise import from_dataset, optimise
from nisd.optimise.rollout.years import END_STATE, ramp_of, year_config, year_dataset
from nisd.records.fees import FeeMethod, FeeRow, Fees, FeeYear
from nisd.records.rollout import Rollout

Method = Literal["load", "reserved", "shapley"]
METHODS: tuple[Method, ...] = ("load", "reserved", "shapley")
COUNTY_BOARDS = "Länsstyrelserna"
CITIZENS = "Invånartjänster (befolkningspunkter)"
EXACT_LIMIT = 8
SAMPLES = 10


def payer_of(kind: str, name: str) -> str:
    """Who pays for a demand point of this kind and name."""
    if kind == "county_board":
        return COUNTY_BOARDS
    if kind == "population":
        return CITIZENS
    return name


def payers(ds: Dataset, users: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Payer → its demand ids (only ``users`` when given), payers sorted by name."""
    keep = set(users) if users is not None else None
    out: dict[str, list[str]] = {}
    for d in ds.demand:
        if keep is None or d.demand_id in keep:
            out.setdefault(payer_of(d.kind, d.name), []).append(d.demand_id)
    return dict(sorted(out.items()))


# ---- Shapley values ---------------------------------------------------------------------


def shapley_exact(
    players: Sequence[str],
    value: Callable[[frozenset[str]], float],
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """The Shapley value by enumeration of every coalition (2^n values of ``value``;
    ``progress(done, 2^n)`` as they are found)."""
    n = len(players)
    memo: dict[frozenset[str], float] = {}

    def v(s: frozenset[str]) -> float:
        if s not in memo:
            memo[s] = 0.0 if not s else float(value(s))
            if progress is not None:
                progress(len(memo), 2**n)
        return memo[s]

    out = dict.fromkeys(players, 0.0)
    for p in players:
        others = [q for q in players if q != p]
        for size in range(n):
            w = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for c in itertools.combinations(others, size):
                s = frozenset(c)
                out[p] += w * (v(s | {p}) - v(s))
    return out


def shapley_sampled(
    players: Sequence[str],
    value: Callable[[frozenset[str]], float],
    samples: int = SAMPLES,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """The Shapley value estimated from ``samples`` random orders of the players: the
    mean marginal cost of each, and its standard error (0 with one sample)."""
    rng = random.Random(seed)
    memo: dict[frozenset[str], float] = {frozenset(): 0.0}

    def v(s: frozenset[str]) -> float:
        if s not in memo:
            memo[s] = float(value(s))
        return memo[s]

    marg: dict[str, list[float]] = {p: [] for p in players}
    for k in range(samples):
        order = list(players)
        rng.shuffle(order)
        s: frozenset[str] = frozenset()
        for p in order:
            t = s | {p}
            marg[p].append(v(t) - v(s))
            s = t
        if progress is not None:
            progress(k + 1, samples)
    mean = {p: float(np.mean(m)) for p, m in marg.items()}
    err = {
        p: float(np.std(m, ddof=1) / math.sqrt(len(m))) if len(m) > 1 else 0.0
        for p, m in marg.items()
    }
    return mean, err


# ---- the cost game of a plan ------------------------------------------------------------


def coalition_cost(
    ds: Dataset, cfg: PlanConfig, sites: Sequence[str], users: Sequence[str]
) -> float:
    """The cheapest plan for ``users`` alone under ``cfg`` on the sites ``sites`` (any
    allowed type), without the end-state policies (least number of sites, required
    sites, presence, minimum per region, replication)."""
    keep = set(users)
    if not keep:
        return 0.0
    sub = replace(ds, demand=tuple(d for d in ds.demand if d.demand_id in keep))
    allowed = set(sites)
    forbidden = [s.site_id for s in ds.sites if s.site_id not in allowed]
    c = cfg.model_copy(update={**END_STATE, "forbidden": forbidden, "rollout": None})
    plan = optimise(sub, from_dataset(sub, c))
    return float(plan.kpis.cost_msek or 0.0)


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
    samples: int = SAMPLES,
    seed: int = 0,
    exact_limit: int = EXACT_LIMIT,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[tuple[FeeRow, ...], FeeMethod]:
    """Annual fee per payer for a plan costing ``cost`` MSEK/year: the rows (payer, users,
    load, reserved racks, latency classes, criticality, share, fee, and for sampled
    Shapley the fee's standard error), largest fee first, and how Shapley values were
    found.

    Raises
    ------
    ConfigError
        An unknown method.
    """
    if method not in METHODS:
        raise ConfigError([Problem("--method", f"{method!r} is not one of {', '.join(METHODS)}")])
    groups = payers(ds, users)
    by = ds.demand_by_id
    load = {p: sum(by[d].load for d in ids) for p, ids in groups.items()}
    res = reserved_racks(ds, cfg, users)
    reserved = {p: sum(res[d] for d in ids) for p, ids in groups.items()}
    how = FeeMethod()
    err: dict[str, float] = {}
    if method == "load":
        weight = load
    elif method == "reserved":
        weight = reserved
    else:
        names = list(groups)

        def value(s: frozenset[str]) -> float:
            return coalition_cost(ds, cfg, sites, [d for p in s for d in groups[p]])

        if len(names) <= exact_limit:
            weight = shapley_exact(names, value, progress)
            how = FeeMethod(shapley="exact", coalitions=2 ** len(names))
        else:
            weight, err = shapley_sampled(names, value, samples, seed, progress)
            how = FeeMethod(shapley="sampled", samples=samples, seed=seed)
        how = how.model_copy(update={"v_all_msek": round(sum(weight.values()), 6)})
    total = sum(weight.values())
    rows = []
    for p, ids in groups.items():
        share = weight[p] / total if total > 0 else 1.0 / len(groups)
        rows.append(
            FeeRow(
                payer=p,
                **_drivers(ds, ids),
                load_racks=round(load[p], 6),
                reserved_racks=round(reserved[p], 6),
                share=share,
                fee_msek=share * cost,
                fee_stderr_msek=err[p] / total * cost if p in err and total > 0 else None,
            )
        )
    rows.sort(key=lambda r: (-r.fee_msek, r.payer))
    return tuple(rows), how


def plan_fees(
    ds: Dataset,
    cfg: PlanConfig,
    sites: Mapping[str, str],
    assignments: Mapping[str, Sequence[str]],
    cost: float,
    method: Method,
    **kw: Any,
) -> Fees:
    """Fees for a static plan: its annual cost over the payers of its users."""
    rows, how = fee_table(ds, cfg, sorted(sites), sorted(assignments), cost, method, **kw)
    return Fees(source="plan", method=method, how=how, cost_msek=cost, rows=rows)


def recovery(
    years: Sequence[int],
    running: Mapping[int, float],
    capital: Mapping[int, float],
    recover_years: int,
    opening_balance: float = 0.0,
) -> list[FeeYear]:
    """Fee income, cost and balance per year with full cost recovery.

    Running cost is recovered in its year; capital spent in year v in equal parts in
    years v .. v + N - 1 (N = ``recover_years``); an opening deficit likewise from the
    first year (a surplus is returned likewise). The balance is carried year to year;
    what is left to recover after the last year is the balance's negative.
    """
    first = years[0]
    out = []
    balance = opening_balance
    for y in years:
        part = sum(capital[v] / recover_years for v in years if v <= y < v + recover_years)
        if y < first + recover_years:
            part -= opening_balance / recover_years
        income = running[y] + part
        cost = running[y] + capital[y]
        balance += income - cost
        out.append(FeeYear(year=y, cost_msek=cost, fee_income_msek=income, balance_msek=balance))
    return out


def rollout_fees(
    ds: Dataset,
    cfg: PlanConfig,
    rollout: Rollout,
    method: Method,
    **kw: Any,
) -> Fees:
    """Fees for a roll-out, year by year: each year's fee income over the payers on board
    that year, by the year's load or reserved capacity; Shapley shares are those of the
    last year's plan (the end state), over the payers on board each year."""
    ro = cfg.rollout
    if ro is None:
        raise ConfigError([Problem("rollout", "has no [rollout] parameters")])
    years = [y.year for y in rollout.years]
    running = {y.year: y.cost_msek.running for y in rollout.years}
    capital = {y.year: y.cost_msek.capital for y in rollout.years}
    rec = recovery(years, running, capital, ro.recover_years, ro.opening_balance_msek)
    last = rollout.years[-1]
    end: dict[str, float] | None = None
    how = FeeMethod()
    if method == "shapley":
        end_ds = year_dataset(ds, ro, ro.last_year)
        end_cfg = year_config(cfg, ro.last_year, ramp_of(cfg)[ro.last_year])
        sites, users = sorted(last.sites), sorted(last.assignments)
        t, how = fee_table(end_ds, end_cfg, sites, users, 1.0, method, **kw)
        end = {r.payer: r.share for r in t}
    per_year = []
    for y, r in zip(rollout.years, rec, strict=True):
        users = sorted(y.assignments)
        if not users:
            per_year.append(r)
            continue
        if end is None:
            yds = year_dataset(ds, ro, y.year)
            rows, _how = fee_table(yds, cfg, sorted(y.sites), users, r.fee_income_msek, method)
        else:
            groups = payers(ds, users)
            total = sum(end.get(p, 0.0) for p in groups)
            rows = tuple(
                sorted(
                    (
                        FeeRow(
                            payer=p,
                            share=end[p] / total,
                            fee_msek=end[p] / total * r.fee_income_msek,
                        )
                        for p in groups
                    ),
                    key=lambda x: (-x.fee_msek, x.payer),
                )
            )
        per_year.append(r.model_copy(update={"rows": rows}))
    unrecovered = -rec[-1].balance_msek if rec and rec[-1].balance_msek < 0 else 0.0
    return Fees(
        source="rollout",
        method=method,
        how=how,
        recover_years=ro.recover_years,
        opening_balance_msek=ro.opening_balance_msek,
        years=tuple(per_year),
        left_to_recover_msek=unrecovered,
    )
