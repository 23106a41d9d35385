"""The column schema of every input table, read from ``schema.csv``.

The schema is data, not code: ``schema.csv`` beside this module lists each
column's table, type, whether it is required, its default, unit, check and
meaning. The loader validates against it and the documentation is built
from it, so the two cannot drift apart.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

DTYPES = ("str", "float", "int", "bool", "list")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of one input table."""

    table: str
    column: str
    dtype: str
    required: bool
    default: str
    unit: str
    check: str
    description: str


@cache
def schema() -> dict[str, dict[str, ColumnSpec]]:
    """All tables' columns, ``{table: {column: spec}}``, in file order."""
    text = resources.files("nisd.io").joinpath("schema.csv").read_text(encoding="utf-8")
    out: dict[str, dict[str, ColumnSpec]] = {}
    for row in csv.DictReader(text.splitlines()):
        spec = ColumnSpec(
            table=row["table"],
            column=row["column"],
            dtype=row["dtype"],
            required=row["required"] == "yes",
            default=row["default"],
            unit=row["unit"],
            check=row["check"],
            description=row["description"],
        )
        if spec.dtype not in DTYPES:  # pragma: no cover - guards schema.csv edits
            raise ValueError(f"schema.csv: unknown dtype {spec.dtype!r} for {spec.column}")
        out.setdefault(spec.table, {})[spec.column] = spec
    return out


def table_schema(table: str) -> dict[str, ColumnSpec]:
    """The columns of ``table`` (``sites``, ``demand``, ``nodes``, ...)."""
    return schema()[table]


def markdown() -> str:
    """The schema as Markdown tables, one per input table."""
    parts = []
    for table, cols in schema().items():
        parts.append(f"### {table}\n")
        parts.append("| column | type | required | default | unit | meaning |")
        parts.append("|---|---|---|---|---|---|")
        for c in cols.values():
            req = "yes" if c.required else "no"
            parts.append(
                f"| `{c.column}` | {c.dtype} | {req} | {c.default} | {c.unit} | {c.description} |"
            )
        parts.append("")
    return "\n".join(parts)
