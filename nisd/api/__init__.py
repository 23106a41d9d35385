"""The one door to nisd: every command of the CLI is one call here, and so is the Python
library.

>>> import nisd
>>> ds = nisd.load()                       # the embedded Swedish dataset
>>> len(ds.sites)
74
>>> bigger = nisd.scale_demand(ds, 1.1)   # a variant in memory, with its own input hash
>>> bigger.input_hash != ds.input_hash
True

``nisd.plan(ds, "baseline", p=6)`` solves a scenario of the library (or a file, or a
:class:`~nisd.config.PlanConfig`) with overrides validated exactly like the file; it
returns a typed, immutable :class:`~nisd.records.Plan`, whose JSON form is
``plan.json``. ``nisd.read_plan(path)`` reads one and ``nisd.dataset_of(plan)`` the
dataset it names; ``nisd.resilience(ds, plan, sets=[...])`` evaluates it under failure
scenarios; ``nisd.attack(ds, plan, r=2)`` finds the worst attacks exactly (and
``fortify=True`` the cheapest sites to harden against them); ``nisd.sensitivity`` and
``nisd.explain`` re-plan it; ``nisd.sweep`` solves a grid of variants; a
:class:`Workers` keeps worker processes warm from one study to the next.
``nisd.explore(ds, plan)`` returns a folium map for notebooks; ``nisd.map_html`` and
``nisd.report_html`` the self-contained pages. ``nisd.rollout(ds, "rollout-2032")``
plans Program 2032 year by year, and ``nisd.fees(ds, plan_or_rollout)`` says what each
agency pays.
"""

from nisd.api.data import (
    add_site,
    drop_link,
    drop_workload,
    load,
    read_plan,
    read_rollout,
    scale_demand,
    summary,
    topology,
    write_text,
)
from nisd.api.evaluate import (
    DEFAULT_RUNGS,
    SETS_HELP,
    attack,
    count,
    fees,
    ladder,
    opened_types,
    parse_sets,
    resilience,
    rungs,
)
from nisd.api.pages import (
    Comparison,
    PlanView,
    YearComparison,
    compare_html,
    compare_plans,
    compare_rollouts,
    compare_rollouts_csv,
    compare_rollouts_html,
    compare_rollouts_table,
    crisis_words,
    explore,
    map_html,
    report_files,
    report_html,
    view,
)
from nisd.api.price import PriceRow, price_of_resilience
from nisd.api.solve import alternatives, check_scenario, config, plan, plan_value, rollout
from nisd.api.studies import (
    Workers,
    count_points,
    explain,
    sensitivity,
    serve_workers,
    stop_workers,
    sweep,
    sweep_outputs,
)
from nisd.dataset import Dataset
from nisd.io.results import (
    Beside,
    dataset_of,
    datasets_of,
    read_attacks,
    read_beside,
    read_result,
    result_path,
)
from nisd.records import (
    AttackResult,
    Explanation,
    Fees,
    Kpis,
    Plan,
    Rollout,
    ScenarioRow,
    Sensitivity,
    Status,
)
from nisd.study.security import credentials_dir
from nisd.study.sweep import parse_vary

__all__ = [
    "DEFAULT_RUNGS",
    "SETS_HELP",
    "AttackResult",
    "Beside",
    "Comparison",
    "Dataset",
    "Explanation",
    "Fees",
    "Kpis",
    "Plan",
    "PlanView",
    "PriceRow",
    "Rollout",
    "ScenarioRow",
    "Sensitivity",
    "Status",
    "Workers",
    "YearComparison",
    "add_site",
    "alternatives",
    "attack",
    "check_scenario",
    "compare_html",
    "compare_plans",
    "compare_rollouts",
    "compare_rollouts_csv",
    "compare_rollouts_html",
    "compare_rollouts_table",
    "config",
    "count",
    "count_points",
    "credentials_dir",
    "crisis_words",
    "dataset_of",
    "datasets_of",
    "drop_link",
    "drop_workload",
    "explain",
    "explore",
    "fees",
    "ladder",
    "load",
    "map_html",
    "opened_types",
    "parse_sets",
    "parse_vary",
    "plan",
    "plan_value",
    "price_of_resilience",
    "read_attacks",
    "read_beside",
    "read_plan",
    "read_result",
    "read_rollout",
    "report_files",
    "report_html",
    "resilience",
    "result_path",
    "rollout",
    "rungs",
    "scale_demand",
    "sensitivity",
    "serve_workers",
    "stop_workers",
    "summary",
    "sweep",
    "sweep_outputs",
    "topology",
    "view",
    "write_text",
]
