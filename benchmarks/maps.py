"""Map size and load time in headless Chromium for 100, 1,000 and 10,000 candidate sites.

Each case copies the Swedish default, replaces its candidate sites by N random
points over Sweden (seeded), opens 10 of them in a hand-made plan, renders the
map with its crisis view (single-site, county, power-zone, presets), and
opens it in Debian's Chromium through Playwright: time until the page is
ready, and until a pan has finished. Targets (from the maps issue): the
Swedish default under 2 MB; 10,000 sites under 15 MB and ready to pan within
3 s. ``--json FILE`` writes the records.

Usage: ``python benchmarks/maps.py [--sizes 100,1000,10000] [--json FILE]``
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from nisd.io import default_data_dir, load_dataset
from nisd.records import Plan
from nisd.render.context import plan_view
from nisd.render.html import map_page

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def make_dir(root: Path, n: int, seed: int = 11) -> Path:
    d = root / f"sites{n}"
    shutil.copytree(default_data_dir(), d)
    (d / "crisis_presets.toml").unlink()  # its presets name sites of the real dataset
    rng = np.random.default_rng(seed)
    lat = rng.uniform(55.5, 67.5, n)
    lon = rng.uniform(12.0, 23.0, n)
    with open(d / "sites.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["site_id", "name", "lat", "lon"])
        for i in range(n):
            w.writerow([f"s{i:05d}", f"Plats {i} – Åsele", f"{lat[i]:.5f}", f"{lon[i]:.5f}"])
    return d


def render(data: Path, opened: list[str]) -> tuple[str, float]:
    t = time.perf_counter()
    ds = load_dataset(data)
    plan = Plan.of_sites({s: "regional" for s in opened})
    view = plan_view(ds, plan, sets=["single-site", "county", "power-zone", "presets"], title="map")
    page = map_page(view.data.model_copy(update={"title": f"{len(ds.sites)} sites"}))
    return page, time.perf_counter() - t


def browse(path: Path) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = b.new_page(viewport={"width": 1400, "height": 900})
        t = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        ready = time.perf_counter() - t
        page.evaluate("""() => new Promise(r => { nisdMap.map.once('moveend', () =>
            requestAnimationFrame(() => r(true))); nisdMap.map.panBy([200, 100],
            {animate: false}); })""")
        panned = time.perf_counter() - t
        b.close()
    return ready, panned


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    records: list[dict[str, Any]] = []
    print(f"{'case':>14}{'size MB':>9}{'render s':>10}{'ready s':>9}{'panned s':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cases: list[tuple[str, Path, list[str]]] = [
            (
                "sweden",
                default_data_dir(),
                [
                    "s-lulea",
                    "s-umea",
                    "s-sundsvall",
                    "s-gavle",
                    "s-uppsala",
                    "s-orebro",
                    "s-linkoping",
                    "s-goteborg",
                    "s-vaxjo",
                    "s-malmo",
                ],
            )
        ]
        for n in [int(x) for x in args.sizes.split(",") if x]:
            cases.append((f"{n} sites", make_dir(root, n), [f"s{i:05d}" for i in range(10)]))
        for name, data, opened in cases:
            page, sec = render(data, opened)
            out = root / f"{name.replace(' ', '_')}.html"
            out.write_text(page, encoding="utf-8")
            ready, panned = browse(out)
            mb = out.stat().st_size / 1e6
            records.append(
                {
                    "case": name,
                    "size_mb": round(mb, 3),
                    "render_seconds": round(sec, 3),
                    "ready_seconds": round(ready, 3),
                    "panned_seconds": round(panned, 3),
                }
            )
            print(f"{name:>14}{mb:>9.2f}{sec:>10.2f}{ready:>9.2f}{panned:>10.2f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(records, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
