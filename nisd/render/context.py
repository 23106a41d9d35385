"""From a ``plan.json`` to what a page shows: its dataset, crisis scenarios and payload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nisd.io import default_data_dir, load_dataset
from nisd.render import check_plan_dataset, plan_sets, read_plan_doc, read_regrets
from nisd.render.payload import build_payload
from nisd.topology import build_graph
from nisd.topology.scenarios import parse_sets, scenario_sets


def plan_data_dir(doc: dict[str, Any], override: Path | None) -> Path:
    """``--data`` when given, else the directory the plan was made from, else the default."""
    return override or Path((doc.get("run") or {}).get("data_dir") or default_data_dir())


def plan_payload(
    plan_path: Path, data_dir: Path | None, sets: str | None, title: str, redact: bool
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The plan document, the page payload (with crisis view and regrets), and the sets used."""
    doc = read_plan_doc(plan_path)
    data = plan_data_dir(doc, data_dir)
    ds = load_dataset(data)
    chosen = parse_sets(sets) if sets else plan_sets(doc)
    check_plan_dataset(doc, ds, plan_path)
    opened = [s["site_id"] for s in doc["sites"]]
    scen = scenario_sets(ds, build_graph(ds), chosen, opened)
    payload = build_payload(
        ds,
        doc,
        scen,
        title=f"{title}: {ds.config.name}",
        redact=redact,
        regrets=read_regrets(plan_path),
    )
    return doc, payload, chosen
