"""War: the worst attack on the baseline plan, and the plan robust to any two site losses.

Part 1, the ``top`` worst attacks of r targets (opened sites, backbone nodes and
shared-risk groups of fibre, each costing 1) on the baseline plan with the default method
(``nisd attack``: every attack scored in batches), timed ``--repeat`` times (min and
median). Peers in the same run: the interdiction programme (up to ``--milp-up-to``
targets; checked to give the same attacks under the same islands rule), and every attack
through the served-load evaluator one by one (timed on a sample, extrapolated).

Part 2, robust plans, each planned ``--repeat`` times: ``scenarios/war.toml`` (robust to
any two site losses, critical load in full) and the Swedish default with no listed crises,
robust to any one site loss (critical and high load in full): wall time, attack searches,
attacks added, and each iteration's planning and search time.

Usage: ``python benchmarks/war.py [--cases 2:5,3:1,3:5] [--repeat 3] [--json FILE]
[--skip-plan]``
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
from pathlib import Path
from typing import Any

from nisd.io import default_data_dir, load_dataset
from nisd.io.scenario import load_plan_config
from nisd.optimise import from_dataset, optimise
from nisd.optimise.interdict import attack_scenario
from nisd.optimise.war import attack, plan_data
from nisd.topology import build_graph
from nisd.topology.resilience import evaluate

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("site", "node", "srlg")


def _plan(
    ds: Any, name: str | None, overrides: dict[str, Any] | None = None
) -> tuple[dict[str, str], dict[str, list[str]], float, Any]:
    cfg = load_plan_config(ROOT / "scenarios" / name if name else None, overrides)
    t = time.perf_counter()
    p = optimise(ds, from_dataset(ds, cfg))
    assign = {d: list(v) for d, v in p.assignments.items()}
    return dict(p.sites), assign, time.perf_counter() - t, p


def _count(n: int, r: int) -> int:
    return sum(math.comb(n, k) for k in range(r + 1))


def worst_attack(args: argparse.Namespace, ds: Any) -> list[dict[str, Any]]:
    sites, assign, secs, plan = _plan(ds, "baseline.toml")
    islands = plan.islands
    print(f"baseline plan: {len(sites)} sites, planned in {secs:.1f} s; islands skipped: {islands}")
    g = build_graph(ds)
    pd_ = plan_data(ds, g, sites, assign, KINDS)
    n = len(pd_.targets)
    print(
        f"\nworst attacks on the baseline plan; targets: {n} "
        "(opened sites, backbone nodes, shared-risk groups)"
    )
    head = (
        f"{'r':>2}{'top':>4}{'attacks':>10}{'default min':>12}{'median':>8}{'how':>10}"
        f"{'milp s':>8}{'same':>6}{'one-by-one s':>14}{'x faster':>9}  worst attack"
    )
    print(head)
    out = []
    rng = random.Random(0)
    for r, top in args.cases:
        times, res = [], None
        for _ in range(args.repeat):
            t = time.perf_counter()
            res = attack(ds, g, sites, assign, budget=r, kinds=KINDS, top=top, islands=islands)
            times.append(time.perf_counter() - t)
        assert res is not None and res.worst is not None
        total = _count(n, r)
        milp_s: float | None = None
        same = ""
        if r <= args.milp_up_to:
            # the interdiction programme does not model islands: compare it with the
            # listing under the same rule (islands served)
            t = time.perf_counter()
            milp = attack(ds, g, sites, assign, budget=r, kinds=KINDS, top=top, method="milp")
            milp_s = time.perf_counter() - t
            listed = attack(ds, g, sites, assign, budget=r, kinds=KINDS, top=top)
            same = (
                "yes"
                if [a.targets for a in milp.attacks] == [a.targets for a in listed.attacks]
                else "NO"
            )
        # the peer: every attack through the served-load evaluator, one by one (timed on a
        # sample of attacks of size r)
        sample = [tuple(sorted(rng.sample(pd_.targets, r))) for _ in range(args.sample)]
        scen = [attack_scenario(list(s)) for s in sample]
        t = time.perf_counter()
        evaluate(ds, g, sites, scen, assignments=assign, check_two_routes=False, islands=islands)
        one_by_one = (time.perf_counter() - t) / len(sample) * total
        med = statistics.median(times)
        w = res.worst.to_json()
        print(
            f"{r:>2}{top:>4}{total:>10,}{min(times):>12.2f}{med:>8.2f}{res.found_by:>10}"
            f"{'' if milp_s is None else f'{milp_s:.1f}':>8}{same:>6}{one_by_one:>14.0f}"
            f"{one_by_one / med:>9.0f}  {' + '.join(w['targets'])}"
        )
        out.append(
            {
                "r": r,
                "top": top,
                "targets": n,
                "attacks": total,
                "default_seconds": times,
                "default_method": res.found_by,
                "milp_seconds": milp_s,
                "milp_same_attacks": same or None,
                "one_by_one_seconds_estimated": one_by_one,
                "worst": w["targets"],
                "served_by_class": w["served_by_class"],
            }
        )
    return out


ROBUST: dict[str, tuple[str | None, dict[str, Any]]] = {
    # the war scenario: listed war crises and any two site losses, critical load in full
    "war.toml": ("war.toml", {}),
    # no listed crises at all: any one site loss, critical and high load in full (the
    # attacks must be found and added while planning)
    "any 1 site, no list": (
        None,
        {"k": 2, "war": {"attacks": 1, "serve": {"critical": 1.0, "high": 1.0}}},
    ),
}


def robust(args: argparse.Namespace, ds: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for case, (name, over) in ROBUST.items():
        print(f"\nrobust plan: {case}")
        runs = []
        p: Any = None
        for _ in range(args.repeat):
            _s, _a, secs, p = _plan(ds, name, over)
            runs.append(secs)
        war = p.to_json()["run"]["war"]
        added = sum(1 for it in war["iterations"] if it["attack"])
        print(
            f"status {p.status}, cost {p.value:g} MSEK/yr; wall min "
            f"{min(runs):.1f} s, median {statistics.median(runs):.1f} s; "
            f"{len(war['iterations'])} attack search(es), {added} attack(s) added"
        )
        print(f"{'it':>3}{'plan obj':>10}{'bound':>10}{'plan s':>9}{'search s':>10}  attack added")
        for it in war["iterations"]:
            print(
                f"{it['iteration']:>3}{it['plan_objective']:>10.2f}{it['plan_bound']:>10.2f}"
                f"{it['plan_seconds']:>9.1f}{it['attack_search_seconds']:>10.2f}  "
                f"{' + '.join(it['attack'] or ['none: certificate'])}"
            )
        worst = war["worst_attack"]
        print(
            f"worst attack on the final plan: {' + '.join(worst['targets'])} "
            f"(critical {worst['served_by_class'].get('critical', 0):.1%}, "
            f"all {worst['demand_served_share']:.1%})"
        )
        out[case] = {
            "status": p.status,
            "cost_msek": p.value,
            "wall_seconds": runs,
            "iterations": war["iterations"],
            "certificate": war["certificate"],
            "worst_attack": worst,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--cases",
        type=lambda s: [tuple(int(v) for v in x.split(":")) for x in s.split(",")],
        default=[(2, 5), (3, 1), (3, 5)],
        help="R:TOP,... (default 2:5,3:1,3:5)",
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--milp-up-to", type=int, default=2, help="time the MILP up to this r")
    ap.add_argument("--sample", type=int, default=500)
    ap.add_argument("--skip-plan", action="store_true", help="skip part 2 (the robust plan)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    ds = load_dataset(default_data_dir())
    result: dict[str, Any] = {"worst_attack": worst_attack(args, ds)}
    if not args.skip_plan:
        result["robust_plan"] = robust(args, ds)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
