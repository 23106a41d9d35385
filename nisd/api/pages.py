"""Pages and words: maps, reports, comparisons, the crisis summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from nisd.api.evaluate import attack as _attack
from nisd.api.evaluate import fees as _fees
from nisd.api.studies import explain as _explain
from nisd.dataset import Dataset
from nisd.errors import InputError, Problem
from nisd.io.results import (
    Beside,
    dataset_of,
)
from nisd.records import (
    AttackResult,
    Plan,
    Rollout,
)
from nisd.render.compare import Comparison, compare, compare_page
from nisd.render.compare_rollouts import (
    YearComparison,
    compare_rollout_csv,
    compare_rollout_page,
    compare_rollout_table,
    compare_rollouts,
)
from nisd.render.context import PlanView, attack_scenarios, plan_map, plan_view
from nisd.render.i18n import Tr, lang_of
from nisd.render.report import report_page, scenarios_csv
from nisd.render.rollout import rollout_page
from nisd.render.rollout_map import rollout_map
from nisd.render.words import crisis_summary, war_summary

if TYPE_CHECKING:  # pragma: no cover
    import folium

Result = Plan | Rollout
EXPLAIN_REJECTED = 10  # rejected candidates a report's regrets probe by default
EXPLAIN_SECONDS = 20.0  # ... when the plan's solve time says they take less than this


def view(
    ds: Dataset,
    plan: Plan,
    *,
    sets: Sequence[str] | str | None = None,
    redact: bool = False,
    attacks: AttackResult | None = None,
    beside: Beside | None = None,
    title: str = "NISD plan",
) -> PlanView:
    """A plan with everything its pages show: its crisis view evaluated, its attacks, the
    regrets and sensitivity kept beside it."""
    dataset_of(plan, ds)
    beside = beside or Beside()
    return plan_view(
        ds,
        plan,
        sets=sets,
        title=title,
        redact=redact,
        attacks=attacks,
        explanation=beside.explanation,
        sensitivity=beside.sensitivity,
    )


def map_html(
    ds: Dataset,
    result: Result,
    *,
    sets: Sequence[str] | str | None = None,
    banner: str | None = None,
    redact: bool = False,
    tiles: str | None = None,
    attacks: AttackResult | None = None,
    beside: Beside | None = None,
    lang: str | None = None,
) -> str:
    """The self-contained, offline map page of a plan (or of a roll-out, with a year
    control), in ``lang`` (``sv`` or ``en``; default the dataset's ``language``)."""
    tr = Tr(lang_of(lang, ds.config.language))
    if isinstance(result, Rollout):
        dataset_of(result, ds)
        return rollout_map(ds, result, banner=banner, redact=redact, tr=tr)
    v = view(ds, result, sets=sets, redact=redact, attacks=attacks, beside=beside)
    return plan_map(v, banner=banner, tiles=tiles, tr=tr)


def report_html(
    ds: Dataset,
    result: Result,
    *,
    sets: Sequence[str] | str | None = None,
    banner: str | None = None,
    redact: bool = False,
    attacks: AttackResult | None = None,
    beside: Beside | None = None,
    lang: str | None = None,
    studies: bool = True,
) -> str:
    """The steering group's report of a plan or a roll-out, as one self-contained page, in
    ``lang`` (``sv`` or ``en``; default the dataset's ``language``).

    A plan's report puts the decision first. What it shows and is not given (``attacks``,
    or the fees and explanation beside the plan) is computed unless ``studies`` is False:
    the three worst attacks of one and of two targets (opened sites, backbone nodes,
    shared-risk groups), each agency's fee by load (the protection premium shows when
    ``nisd fees`` wrote fees.json beside the plan), and, when the plan's own solve time
    says it takes under ``EXPLAIN_SECONDS``, each site's regret and the cost of forcing in
    the ten nearest rejected candidates (about 6 s in all on the Swedish baseline).
    The first page's worst case is the worst over the required scenarios, the presets and
    those attacks."""
    return report_files(
        ds,
        result,
        sets=sets,
        banner=banner,
        redact=redact,
        attacks=attacks,
        beside=beside,
        lang=lang,
        studies=studies,
    )[0]


def report_files(
    ds: Dataset,
    result: Result,
    *,
    sets: Sequence[str] | str | None = None,
    banner: str | None = None,
    redact: bool = False,
    attacks: AttackResult | None = None,
    beside: Beside | None = None,
    lang: str | None = None,
    studies: bool = True,
    price: Sequence[Any] | None = None,
) -> tuple[str, str | None]:
    """The report page (as :func:`report_html`) and, for a plan, ``scenarios.csv``: every
    scenario the page shows, required or not, with its figures."""
    beside = beside or Beside()
    tr = Tr(lang_of(lang, ds.config.language))
    if isinstance(result, Rollout):
        dataset_of(result, ds)
        fees = beside.fees
        if fees is None and studies and result.run.parameters is not None:
            fees = _fees(ds, result, "load")
        return rollout_page(ds, result, fees, banner=banner, redact=redact, tr=tr), None
    dataset_of(result, ds)
    # what the page shows and the plan's folder does not hold is computed, unless asked not
    # to (a plan made by hand has no rules to go by)
    known = studies and result.run.parameters is not None and bool(result.sites)
    if attacks is not None:
        attack_scenarios(ds, result, attacks, "--attack")  # checked before any study runs
    if attacks is None and known:
        attacks = worst_attacks(ds, result)
    fees = beside.fees
    if fees is None and known and result.assignments:
        fees = _fees(ds, result, "load", premium=False)  # shares only: no re-plans
    # the regrets: one re-plan per opened site and per nearest rejected candidate, when
    # the plan's own solve time says that takes under EXPLAIN_SECONDS
    probes = len(result.sites) + EXPLAIN_REJECTED
    cheap = (result.run.wall_seconds or 0.0) * probes < EXPLAIN_SECONDS
    if beside.explanation is None and known and cheap:
        beside = replace(
            beside, explanation=_explain(ds, result, rejected=EXPLAIN_REJECTED, workers=1)
        )
    v = view(
        ds,
        result,
        sets=sets,
        redact=redact,
        attacks=attacks,
        beside=beside,
        title="NISD plan report",
    )
    fees = fees if fees is not None and fees.source == "plan" else None
    return report_page(v, banner=banner, tr=tr, fees=fees, price=price), scenarios_csv(v, tr)


def worst_attacks(ds: Dataset, plan: Plan, top: int = 3) -> AttackResult:
    """The ``top`` worst attacks of one and of two targets (opened sites, backbone nodes,
    shared-risk groups of fibre) on ``plan``: what a report shows by default."""
    kinds = ("site", "node", "srlg")
    one = _attack(ds, plan, r=1, targets=kinds, top=top)
    two = _attack(ds, plan, r=2, targets=kinds, top=top)
    rows = [a for a in one.attacks + two.attacks if a.targets]
    return two.model_copy(update={"attacks": tuple(rows)})


def explore(ds: Dataset, plan: Plan, **kwargs: Any) -> folium.Map:
    """The plan as a folium map for notebooks (offline; every text escaped); see
    :func:`nisd.render.explore.explore`."""
    from nisd.render.explore import explore as _explore  # folium loads only here

    dataset_of(plan, ds)
    return _explore(ds, plan, **kwargs)


def compare_plans(plans: Sequence[tuple[str, Plan]]) -> Comparison:
    """Key figures and site changes of several plans, against the first."""
    if len(plans) < 2:
        raise InputError([Problem("plans", "give at least two plans to compare")])
    return compare(plans)


def compare_html(
    ds: Dataset, comparison: Comparison, *, banner: str | None = None, lang: str | None = None
) -> str:
    """The comparison as a page with an overlay map of the sites, in ``lang`` (default the
    dataset's language)."""
    return compare_page(ds, comparison, banner=banner, tr=Tr(lang_of(lang, ds.config.language)))


def compare_rollouts_html(
    named: Sequence[tuple[str, Rollout]],
    *,
    banner: str | None = None,
    lang: str | None = None,
    ds: Dataset | None = None,
) -> str:
    """Roll-outs year by year side by side, as a page, in ``lang`` (default the language
    of ``ds``, else English)."""
    tr = Tr(lang_of(lang, ds.config.language if ds is not None else "en"))
    return compare_rollout_page(compare_rollouts(named), named, banner=banner, tr=tr)


def compare_rollouts_table(rows: Sequence[YearComparison]) -> str:
    """Roll-outs year by year as text."""
    return compare_rollout_table(rows)


def compare_rollouts_csv(rows: Sequence[YearComparison]) -> str:
    """Roll-outs year by year as CSV."""
    return compare_rollout_csv(rows)


def crisis_words(ds: Dataset, plan: Plan) -> list[str]:
    """The plan's crisis results in words (the worst scenario of each class), then what a
    robust plan was proved to survive."""
    classes = list(ds.config.criticality.levels)
    names = {s.site_id: s.name for s in ds.sites}
    return crisis_summary(plan.scenarios, classes, names) + war_summary(
        plan.run.war, classes, names
    )
