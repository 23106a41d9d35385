"""Datasets and result files: load, variants, summaries, reading plans and roll-outs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from nisd.dataset import Dataset, Site
from nisd.errors import InputError, Problem
from nisd.files import write_atomic
from nisd.io import default_data_dir, load_dataset
from nisd.io.results import (
    dataset_of,
)
from nisd.io.results import read_plan as _read_plan
from nisd.io.results import read_rollout as _read_rollout
from nisd.records import (
    Plan,
    Rollout,
)
from nisd.topology import build_graph
from nisd.topology.summary import TopologySummary, topology_summary
from nisd.topology.validate import DatasetSummary
from nisd.topology.validate import summary as _summary


def load(path: str | Path | None = None) -> Dataset:
    """A validated dataset: the embedded Swedish default (or ``$NISD_DATA``), or the
    data directory ``path``."""
    return load_dataset(Path(path) if path is not None else default_data_dir())


def _variant(ds: Dataset, change: dict[str, Any], **records: Any) -> Dataset:
    """``ds`` with ``records`` replaced; the input hash covers the change."""
    text = json.dumps(change, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(f"{ds.input_hash}\n{text}".encode()).hexdigest()
    files = {**ds.files, f"variant {len(ds.files)}: {text}": digest}
    return replace(ds, input_hash=digest, files=files, **records)


def scale_demand(ds: Dataset, factor: float, kinds: Sequence[str] | None = None) -> Dataset:
    """Every demand point's load (or only those of ``kinds``) times ``factor``."""
    if not 0 <= factor <= 1e3:
        raise InputError([Problem("scale_demand", f"factor {factor:g} is not between 0 and 1000")])
    demand = tuple(
        replace(d, load=d.load * factor) if kinds is None or d.kind in kinds else d
        for d in ds.demand
    )
    return _variant(
        ds,
        {"scale_demand": factor, "kinds": sorted(kinds) if kinds else None},
        demand=demand,
    )


def drop_link(ds: Dataset, link_id: str) -> Dataset:
    """``ds`` without the fibre link ``link_id``."""
    if link_id not in {lk.link_id for lk in ds.links}:
        raise InputError([Problem("drop_link", f"unknown link {link_id!r}")])
    links = tuple(lk for lk in ds.links if lk.link_id != link_id)
    return _variant(ds, {"drop_link": link_id}, links=links)


def drop_workload(ds: Dataset, workload_id: str) -> Dataset:
    """``ds`` without every user point of ``workload_id`` (an agency that does not join).

    Raises
    ------
    InputError
        An unknown workload, or one that other workloads depend on (``depends_on``).
    """
    rows = [d for d in ds.demand if d.workload_id == workload_id]
    if not rows:
        raise InputError([Problem("drop_workload", f"unknown workload {workload_id!r}")])
    users = sorted(
        {d.workload_id for d in ds.demand if workload_id in d.depends_on} - {workload_id}
    )
    if users:
        raise InputError(
            [
                Problem(
                    "drop_workload",
                    f"{workload_id!r} cannot be dropped: {len(users)} workload(s) depend on it "
                    f"({', '.join(users[:5])}{', ...' if len(users) > 5 else ''})",
                )
            ]
        )
    demand = tuple(d for d in ds.demand if d.workload_id != workload_id)
    return _variant(ds, {"drop_workload": workload_id}, demand=demand)


def add_site(
    ds: Dataset,
    site_id: str,
    name: str,
    lat: float,
    lon: float,
    **columns: Any,
) -> Dataset:
    """``ds`` with one more candidate site (columns as in ``sites.csv``, validated)."""
    problems: list[Problem] = []
    known = set(ds.site_ids) | set(ds.demand_ids) | set(ds.node_by_id)
    if not site_id or site_id != site_id.strip():
        problems.append(Problem("add_site", f"site id {site_id!r} is empty or padded"))
    elif site_id in known:
        problems.append(Problem("add_site", f"id {site_id!r} is already used"))
    lon0, lat0, lon1, lat1 = ds.config.bbox
    if not (lat0 <= lat <= lat1 and lon0 <= lon <= lon1):
        problems.append(
            Problem("add_site", f"({lat:g}, {lon:g}) is outside the dataset's bounding box")
        )
    allowed = {f.name for f in fields(Site)} - {"site_id", "name", "lat", "lon"}
    for key in sorted(set(columns) - allowed):
        problems.append(Problem("add_site", f"unknown column {key!r}"))
    types = tuple(columns.get("allowed_types", ("*",)))
    for t in types:
        if t != "*" and t not in ds.type_by_id:
            problems.append(Problem("add_site", f"unknown site type {t!r}"))
    if problems:
        raise InputError(problems)
    site = Site(site_id, name, float(lat), float(lon), **{**columns, "allowed_types": types})
    change = {"add_site": {"site_id": site_id, "name": name, "lat": lat, "lon": lon, **columns}}
    return _variant(ds, json.loads(json.dumps(change, default=str)), sites=(*ds.sites, site))


def summary(ds: Dataset) -> DatasetSummary:
    """What ``nisd validate`` prints: counts by county and power zone, backbone
    connectivity, demand that cannot reach any site, warnings."""
    return _summary(ds)


def topology(ds: Dataset) -> TopologySummary:
    """What ``nisd topology`` prints: the backbone's bridges, cut vertices, connectivity
    and latency extremes."""
    return topology_summary(ds, build_graph(ds))


def read_plan(path: str | Path, dataset: Dataset | None = None) -> Plan:
    """Read and check a ``plan.json`` (or the folder holding one), against ``dataset``
    when given."""
    p = _read_plan(path)
    if dataset is not None:
        dataset_of(p, dataset, str(path))
    return p


def read_rollout(path: str | Path, dataset: Dataset | None = None) -> Rollout:
    """Read and check a ``rollout.json`` (or the folder holding one)."""
    r = _read_rollout(path)
    if dataset is not None:
        dataset_of(r, dataset, str(path))
    return r


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to the file ``path`` atomically, readable as the umask says."""
    return write_atomic(path, text)
