"""Demand as services used across the country: each agency's load is one workload whose
users are spread over the counties.

In the point form of the data (``data/points``) an agency is one demand point at its
head office, and citizens are extra "population points". The default data
(``data/sites``) is the services form, as the agencies' services really are used:

* each agency's workload and each platform service's (kind ``platform``: its load,
  criticality, latency class, protection, payer and dependencies) is one workload with
  a user point in every county, at the county's population point, carrying
  the county's share of the country's population times the agency's load; the points of
  one workload share their primary and backup sites (the ``workload`` column, the model's
  ``workload`` family), so latency bounds apply from every county to the hosting sites,
  and a crisis removes the users inside the hit area while the rest must keep being
  served from the surviving copy, within capacity;
* the population points are dropped: citizens' use is part of the agencies' load,
  counted once (the point form counts it twice);
* the county boards stay where they are (their users are in their county; their joint
  IT is one workload by the ``workload`` column).

Sites, fibre, hazards and regions are the point form's. ``scripts/build_sweden.py``
writes both forms.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from nisd.io import load_dataset

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
    "payer",
    "depends_on",
    "load_basis",
)
SPREAD = ("agency", "platform")  # kinds whose users are across the whole country


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
            "payer": d.payer or "",
            "depends_on": ";".join(d.depends_on),
        }
        if d.kind not in SPREAD:
            rows.append(
                {
                    **base,
                    "demand_id": d.demand_id,
                    "name": d.name,
                    "lat": d.lat,
                    "lon": d.lon,
                    "county_code": d.county_code or "",
                    "load": d.load,
                    "workload": d.workload or "",
                    "load_basis": d.load_basis or "",
                }
            )
            continue
        for p in pops:
            code = p.county_code or ""
            # a population point's id and name say where it is (a county or a
            # municipality): "d-pop-01", "Invånare, Stockholms län (nära Stockholm)"
            where = p.demand_id.removeprefix("d-pop-")
            place = p.name.removeprefix("Invånare, ").split(" (")[0] or county.get(code, code)
            rows.append(
                {
                    **base,
                    "demand_id": f"{d.demand_id}-{where}",
                    "name": f"{d.name}: users in {place}",
                    "lat": p.lat,
                    "lon": p.lon,
                    "county_code": code,
                    "load": round(d.load * p.load / total, 6),
                    "workload": d.demand_id,
                    "load_basis": f"{d.load_basis}; share by population" if d.load_basis else "",
                }
            )
    return rows


GENERATED = ("sites.csv", "nodes.csv", "links.csv", "hazards.geojson", "regions.geojson")


def write_services(src: Path, out: Path) -> Path:
    """Write the services form of the point-form directory ``src`` into ``out``.

    ``out`` gets ``demand.csv`` (:func:`services_rows`) and copies of ``src``'s
    generated files (sites, fibre, hazards, regions); its settings (``dataset.toml``,
    ``site_types.csv``, ``crisis_presets.toml``, ``SOURCES.md``) are its own and are
    left as they are.
    """
    src, out = Path(src), Path(out)
    rows = services_rows(src)
    out.mkdir(parents=True, exist_ok=True)
    for name in GENERATED:
        if (src / name).is_file():
            shutil.copyfile(src / name, out / name)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (out / "demand.csv").write_text(buf.getvalue(), encoding="utf-8")
    return out
