"""Write the golden results the regression tests compare against (``tests/data/golden/``):
the baseline plan, the worst attacks of two sites on it, the war plan and the roll-out,
on the embedded Swedish data.

Run it only when a change of the figures is intended, and say why in the commit::

    python scripts/make_golden.py
"""

from __future__ import annotations

from pathlib import Path

import nisd

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "golden"


def main() -> None:
    ds = nisd.load()
    OUT.mkdir(parents=True, exist_ok=True)
    plan = nisd.plan(ds, "baseline")
    (OUT / "baseline-plan.json").write_text(nisd.records.dumps(plan.to_json()), encoding="utf-8")
    hit = nisd.attack(ds, plan, r=2)
    (OUT / "attack-r2.json").write_text(nisd.records.dumps(hit.to_json()), encoding="utf-8")
    war = nisd.plan(ds, "war")
    (OUT / "war-plan.json").write_text(nisd.records.dumps(war.to_json()), encoding="utf-8")
    ro = nisd.rollout(ds, "rollout-2032")
    (OUT / "rollout-2032.json").write_text(nisd.records.dumps(ro.to_json()), encoding="utf-8")
    for f in sorted(OUT.iterdir()):
        print(f"wrote {f}")


if __name__ == "__main__":
    main()
