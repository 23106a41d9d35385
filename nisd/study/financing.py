"""How a roll-out is paid for, year by year: what the agencies' fees must cover.

Two ways, ``[fees] financing``:

``loan`` (the default; how the state finances fixed assets: loans in Riksgälden under
kapitalförsörjningsförordningen 2011:210, repaid through depreciation). Capital is drawn
as a loan while a site is built. From the year it is in service the site is depreciated
in equal parts over its type's asset life (``[rollout] asset_life_years``; a type without
one over ``recover_years``) and the loan is repaid by the same amount. Interest is
charged on the loan's balance at the start of the year plus half of what is drawn during
it. A year's cost to cover is depreciation, interest, the running cost of the sites in
service and the year's migrations.

``recover`` (the earlier rule, kept for comparison): capital spent in a year is recovered
in equal parts over ``recover_years``, from that year or, if nobody is on board yet, from
the first year with payers; a year's cost to cover is that part plus running cost and
migrations.

In both, fees are charged only in years with at least one payer on board: a year without
one adds its cost to a carried deficit. A deficit carried (the opening balance, years
without payers) bears interest at the same rate and is recovered in equal parts over
``recover_years`` from the first year with payers; what is still open after the last
year is reported as left to recover.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nisd.config import FeesConfig, RolloutConfig
from nisd.records.rollout import Rollout


@dataclass(frozen=True)
class FinanceYear:
    """One year's money, MSEK."""

    year: int
    payers: int
    capital: float
    loan_drawn: float
    loan_balance: float
    depreciation: float
    interest: float
    running: float
    migration: float
    recovered_capital: float
    deficit_recovered: float
    cost: float  # what the fees must cover this year
    fee_income: float
    balance: float  # carried: negative is a deficit still to recover


def depreciation(rollout: Rollout, ro: RolloutConfig) -> dict[int, float]:
    """Per year: the depreciation of every site in service (new builds only: an existing
    site's capital is not part of the programme)."""
    years = list(rollout.year_numbers)
    out = dict.fromkeys(years, 0.0)
    for s in rollout.sites:
        if s.existing or s.capital_msek <= 0:
            continue
        life = ro.asset_life_years.get(s.type) or ro.recover_years
        per = s.capital_msek / life
        for y in years:
            if s.in_service_from <= y <= s.in_service_to and y < s.in_service_from + life:
                out[y] += per
    return out


def finance(
    rollout: Rollout,
    ro: RolloutConfig,
    fees: FeesConfig,
    payers_by_year: Mapping[int, int],
) -> list[FinanceYear]:
    """Each year's loan, depreciation, interest, running cost, fee income and balance."""
    years = list(rollout.year_numbers)
    rate = fees.interest_rate
    loan_mode = fees.financing == "loan"
    capital = {y.year: y.cost_msek.capital for y in rollout.years}
    running = {y.year: y.cost_msek.running for y in rollout.years}
    migration = {y.year: y.cost_msek.migration for y in rollout.years}
    dep = depreciation(rollout, ro) if loan_mode else dict.fromkeys(years, 0.0)
    first_paying = next((y for y in years if payers_by_year.get(y, 0) > 0), None)
    n = ro.recover_years
    out: list[FinanceYear] = []
    loan = 0.0
    balance = ro.opening_balance_msek
    unpaid = -ro.opening_balance_msek  # carried to the first year with payers
    parts: dict[int, float] = {}  # what is recovered of it, by year
    for y in years:
        paying = payers_by_year.get(y, 0) > 0
        drawn = capital[y] if loan_mode else 0.0
        interest = rate * (loan + drawn / 2) if loan_mode else 0.0
        loan += drawn - dep[y]
        interest += rate * max(0.0, -balance)  # the deficit carried into the year
        recovered = 0.0
        if not loan_mode and paying and first_paying is not None:
            # capital spent in year v, recovered over n years from v or the first year
            # with payers, whichever is later
            recovered = sum(
                capital[v] / n
                for v in years
                if v <= y and max(v, first_paying) <= y < max(v, first_paying) + n
            )
        # the year's own cost: what its fees cover when someone is on board
        own = dep[y] + interest + running[y] + migration[y] + recovered
        spent = dep[y] + interest + running[y] + migration[y] + (0.0 if loan_mode else capital[y])
        part = 0.0
        if paying:
            if y == first_paying:
                for k in range(n):
                    parts[y + k] = parts.get(y + k, 0.0) + unpaid / n
            part = parts.get(y, 0.0)
            income = own + part
        else:
            unpaid += own
            income = 0.0
        balance += income - spent
        out.append(
            FinanceYear(
                year=y,
                payers=int(payers_by_year.get(y, 0)),
                capital=capital[y],
                loan_drawn=drawn,
                loan_balance=loan,
                depreciation=dep[y],
                interest=interest,
                running=running[y],
                migration=migration[y],
                recovered_capital=recovered,
                deficit_recovered=part,
                cost=own,
                fee_income=income,
                balance=balance,
            )
        )
    return out


def first_fee_year(years: Sequence[FinanceYear]) -> int | None:
    """The first year with fee income."""
    return next((f.year for f in years if f.fee_income > 0), None)


__all__ = ["FinanceYear", "depreciation", "finance", "first_fee_year"]
