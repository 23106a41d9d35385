"""Do two result files (plans, roll-outs or attack lists) give the same figures?

Compares every figure and choice of two ``plan.json``, ``rollout.json`` or ``nisd attack
--out`` files, leaving out what depends on the run (times, versions, paths, the model's
size) and the keys the newer file adds. Numbers agree within 5·10⁻⁷ (shares of load were
written to six decimals before the records, to nine since). Prints the differences,
exits 1 when there are any.
Used to show that a change of the code leaves the results as they were::

    python scripts/same_results.py old/plan.json new/plan.json
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

RUN_ONLY = {"run", "seconds", "solves", "plan", "kind", "schema", "method", "search"}


TOL = 5e-7  # the files before the records wrote served shares to six decimals, now nine


def diff(a: Any, b: Any, path: str, out: list[str], tol: float = TOL) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in RUN_ONLY and path.count(".") == 0:
                continue
            if k not in b:
                # a key the new file lost is a difference unless it held nothing
                if a[k] not in (None, {}, [], "", False, 0):
                    out.append(f"{path}.{k}: only in the old file")
                continue
            if k not in a:
                continue  # a key the new schema adds
            diff(a[k], b[k], f"{path}.{k}", out, tol)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items against {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            diff(x, y, f"{path}[{i}]", out, tol)
    elif isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        if not math.isclose(a, b, rel_tol=1e-9, abs_tol=tol):
            out.append(f"{path}: {a} against {b}")
    elif a != b:
        out.append(f"{path}: {a!r} against {b!r}")


def differences(old: Path, new: Path) -> list[str]:
    a = json.loads(Path(old).read_text(encoding="utf-8"))
    b = json.loads(Path(new).read_text(encoding="utf-8"))
    out: list[str] = []
    diff(a, b, "", out)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    found = differences(Path(argv[0]), Path(argv[1]))
    for line in found:
        print(line)
    print(f"{len(found)} difference(s)" if found else "same figures and choices")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
