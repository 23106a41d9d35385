"""What a sweep leaves behind: tables, the Pareto plot, and an HTML index of the plans."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from nisd.files import csv_text, write_atomic
from nisd.render.html import page


def write_tables(df: pd.DataFrame, out: Path) -> list[Path]:
    rows = df.astype(object).where(df.notna(), None).itertuples(index=False)
    paths = [write_atomic(out / "table.csv", csv_text(list(df.columns), rows))]
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return paths
    tmp = out / ".table.parquet.tmp"
    df.to_parquet(tmp, index=False)
    tmp.replace(out / "table.parquet")
    paths.append(out / "table.parquet")
    return paths


def pareto_plot(df: pd.DataFrame, out: Path) -> list[Path]:
    """Cost against mean latency, coloured by worst-case share served; Pareto points ringed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = df[df.status.isin(["optimal", "feasible"])]
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    if len(ok):
        sc = ax.scatter(
            ok.cost_msek,
            ok.mean_latency_ms,
            c=ok.worst_case_share_served,
            cmap="viridis",
            vmin=min(0.8, float(ok.worst_case_share_served.min())),
            vmax=1.0,
            s=60,
            edgecolors="none",
        )
        front = ok[ok.pareto]
        ax.scatter(
            front.cost_msek,
            front.mean_latency_ms,
            s=160,
            facecolors="none",
            edgecolors="#d62828",
            linewidths=1.6,
            label="Pareto front",
        )
        fig.colorbar(sc, ax=ax, label="worst-case share of load served")
        ax.legend(loc="upper right")
    ax.set_xlabel("annual cost (MSEK)")
    ax.set_ylabel("mean primary latency (ms)")
    ax.set_title("Sweep: cost, latency and crisis readiness")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths = []
    for ext in ("png", "svg"):
        tmp = out / f".pareto.{ext}.tmp"
        fig.savefig(tmp, format=ext)
        tmp.replace(out / f"pareto.{ext}")
        paths.append(out / f"pareto.{ext}")
    plt.close(fig)
    return paths


def index_page(df: pd.DataFrame, out: Path, title: str) -> Path:
    svg = (out / "pareto.svg").read_text(encoding="utf-8") if (out / "pareto.svg").exists() else ""
    svg = re.sub(r"^.*?(<svg)", r"\1", svg, count=1, flags=re.S)
    cols = [c for c in df.columns if c not in ("opened",)]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in [*cols, "map"])
    rows = []
    for r in df.to_dict("records"):
        cells = "".join(f"<td>{html.escape('' if pd.isna(r[c]) else str(r[c]))}</td>" for c in cols)
        link = (
            f'<a href="points/{html.escape(r["point"])}/plan.html">map</a>'
            if (out / "points" / r["point"] / "plan.html").exists()
            else ""
        )
        rows.append(f"<tr>{cells}<td>{link}</td></tr>")
    body = (
        f'<div class="report" style="padding:12px 20px"><h1>{html.escape(title)}</h1>'
        f"<p>{len(df)} points; Pareto front ringed in red (lower cost, higher worst-case "
        f"share served, lower mean latency).</p>{svg}"
        '<table class="data" style="border-collapse:collapse;font-size:12px">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    return write_atomic(out / "index.html", page(title, body, with_map=False))
