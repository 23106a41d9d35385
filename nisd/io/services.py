"""Demand as services used across the country: a data directory where each agency's load
is one workload whose users are spread over the counties.

In the default data an agency is one demand point at its head office, and citizens are
extra "population points". Here, as the agencies' services really are used:

* each agency's workload (its load, criticality, latency class, protection) is one
  workload with a user point in every county, at the county's population point, carrying
  the county's share of the country's population times the agency's load; the points of
  one workload share their primary and backup sites (the ``workload`` column, the model's
  ``workload`` family), so latency bounds apply from every county to the hosting sites,
  and a crisis removes the users inside the hit area while the rest must keep being
  served from the surviving copy, within capacity;
* the population points are dropped: citizens' use is part of the agencies' load,
  counted once (the default counts it twice: 445 of 844 racks);
* the county boards stay where they are (their users are in their county).

Everything else (sites, fibre, hazards, regions, types, settings) is the source
directory's. ``scripts/build_sweden.py --demand services`` writes ``data/services``.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from nisd.io import load_dataset, write_settings

COLUMNS = (
    "demand_id",
    "name",
    "kind",
    "lat",
    "lon",
    "county_code",
    "load",
    "criticality",
    "latency_class",
    "protection",
    "workload",
)


def services_rows(src: Path) -> list[dict[str, object]]:
    """The demand rows of the services form of the data directory ``src``."""
    ds = load_dataset(src)
    pops = [d for d in ds.demand if d.kind == "population"]
    total = sum(p.load for p in pops)
    if not pops or total <= 0:
        raise ValueError(f"{src}: no population points to spread the agencies' users over")
    county = {r.region_id: r.name for r in ds.regions if r.kind == "county"}
    rows: list[dict[str, object]] = []
    for d in ds.demand:
        if d.kind == "population":
            continue
        base = {
            "kind": d.kind,
            "criticality": d.criticality,
            "latency_class": d.latency_class,
            "protection": d.protection,
        }
        if d.kind != "agency":
            rows.append(
                {
                    **base,
                    "demand_id": d.demand_id,
                    "name": d.name,
                    "lat": d.lat,
                    "lon": d.lon,
                    "county_code": d.county_code or "",
                    "load": d.load,
                    "workload": "",
                }
            )
            continue
        for p in pops:
            code = p.county_code or ""
            rows.append(
                {
                    **base,
                    "demand_id": f"{d.demand_id}-{code}",
                    "name": f"{d.name}: users in {county.get(code, code)}",
                    "lat": p.lat,
                    "lon": p.lon,
                    "county_code": code,
                    "load": round(d.load * p.load / total, 6),
                    "workload": d.demand_id,
                }
            )
    return rows


def write_services(src: Path, out: Path) -> Path:
    """Write the services form of ``src`` to ``out`` (created; its files replaced)."""
    src, out = Path(src), Path(out)
    rows = services_rows(src)
    out.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file() and f.name not in (
            "demand.csv",
            "dataset.toml",
            "crisis_presets.toml",
            "SOURCES.md",
        ):
            shutil.copyfile(f, out / f.name)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (out / "demand.csv").write_text(buf.getvalue(), encoding="utf-8")
    # Gotland's isolation cuts off its users: the agencies' users there instead of citizens
    gotland = sorted(str(r["demand_id"]) for r in rows if r["county_code"] == "09")
    presets = (src / "crisis_presets.toml").read_text(encoding="utf-8")
    presets = presets.replace('"d-pop-09"', ", ".join(f'"{g}"' for g in gotland if g != "d-lst-09"))
    (out / "crisis_presets.toml").write_text(presets, encoding="utf-8")
    write_settings(
        src,
        out,
        "Sweden: services used across the country",
        "# nisd dataset: Sweden, each agency's workload used from every county, written by\n"
        "# scripts/build_sweden.py --demand services; settings as the default.",
    )
    (out / "SOURCES.md").write_text(
        "# Sources: Sweden, services used across the country\n\n"
        "Written by `scripts/build_sweden.py --demand services` from `data/sites` "
        "(`nisd/io/services.py`). Sites, fibre, hazards, regions, site types and settings "
        "are the default's: see `data/sites/SOURCES.md` for every source and assumption.\n\n"
        "`demand.csv`: each agency of the default is one workload (column `workload`) with "
        "a user point in every county, at the default's population point for that county, "
        "carrying the county's share of the population (the default's population loads, "
        "GeoNames places of 1,000 or more) times the agency's load. The population points "
        "are dropped: citizens' use is part of the agencies' load, counted once. The county "
        "boards are as in the default. The `gotland-cut-off` preset isolates the agencies' "
        "Gotland users instead of the Gotland population point.\n",
        encoding="utf-8",
    )
    return out
