"""Maps in a real browser: Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from nisd.cli import cli
from tests.helpers import read_rows, write_rows

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
NASTY = [
    "</script><script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "`${window.__pwned=3}` \\ \" ' ${x}",
    "<svg onload=alert(4)>",
    "{{7*191}} {{ lipsum.__globals__ }}",  # folium renders its output as a Jinja template
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (.ci/run installs it): apt-get install chromium"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Page:
    """A page with every request, error and dialog recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1300, "height": 850})
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_selector("body[data-ready='1']", timeout=15_000)

    def outside(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file://", "data:"))]


def hand_plan(
    tmp_path: Path, data: Path, sites: dict[str, str], assignments: dict[str, list[str]]
) -> Path:
    doc = {
        "status": "optimal",
        "objective": {"name": "cost", "value": 1.0},
        "bound": 1.0,
        "gap": 0.0,
        "sites": [{"site_id": s, "type": t} for s, t in sites.items()],
        "assignments": assignments,
        "kpis": {"cost_msek": 1.0, "sites": len(sites)},
        "scenarios": [],
        "run": {"data_dir": str(data)},
    }
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def sweden_map(tmp_path_factory: pytest.TempPathFactory, default_dir: Path) -> Path:
    tmp = tmp_path_factory.mktemp("map")
    plan = hand_plan(
        tmp,
        default_dir,
        {"s-lulea": "core", "s-goteborg": "regional", "s-malmo": "regional", "s-umea": "regional"},
        {"d-forsakringskassan-01": ["s-umea", "s-goteborg"], "d-lst-25": ["s-lulea", "s-malmo"]},
    )
    out = tmp / "plan.html"
    res = CliRunner().invoke(
        cli,
        ["map", "--lang", "en", str(plan), "--out", str(out), "--banner", "BEGRÄNSAT HEMLIG <b>"],
    )
    assert res.exit_code == 0, res.output
    return out


def test_map_is_self_contained(sweden_map: Path) -> None:
    html = sweden_map.read_text(encoding="utf-8")
    import re

    # no element loads anything from elsewhere (strings inside Leaflet's code are inert;
    # the browser tests below record every request)
    html = re.sub(r"<script>.*?</script>", "", html, flags=re.S)
    assert not re.search(r"<(link|img|iframe|object|embed)\b", html, flags=re.I)
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?:", html, flags=re.I)
    assert "url(http" not in html
    import html as htmlmod

    assert "Content-Security-Policy" in html and "connect-src 'none'" in htmlmod.unescape(html)
    assert sweden_map.stat().st_size < 2_000_000


def test_map_loads_without_errors_or_requests(browser: Any, sweden_map: Path) -> None:
    pg = Page(browser, sweden_map)
    assert pg.errors == []
    assert pg.outside() == []
    assert pg.page.inner_text("#banner") == "BEGRÄNSAT HEMLIG <b>"
    assert "status" in pg.page.inner_text("#kpis")
    pg.page.close()


def test_layers_toggle(browser: Any, sweden_map: Path) -> None:
    pg = Page(browser, sweden_map)
    on = "nisdMap.map.hasLayer(nisdMap.overlays['Power zones'])"
    assert pg.page.evaluate(on) is False
    pg.page.get_by_label("Power zones").check()
    assert pg.page.evaluate(on) is True
    pg.page.get_by_label("Fibre links").uncheck()
    assert pg.page.evaluate("nisdMap.map.hasLayer(nisdMap.overlays['Fibre links'])") is False
    pg.page.close()


def test_popup_shows_swedish_name_on_click(browser: Any, sweden_map: Path) -> None:
    pg = Page(browser, sweden_map)
    xy = pg.page.evaluate("""() => {
        const m = nisdMap.sites['s-lulea'];
        const p = nisdMap.map.latLngToContainerPoint(m.getLatLng());
        const r = document.getElementById('map').getBoundingClientRect();
        return [p.x + r.left, p.y + r.top]; }""")
    pg.page.mouse.click(xy[0], xy[1])
    pg.page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    text = pg.page.inner_text(".leaflet-popup-content")
    assert "Luleå" in text and "Norrbottens län" in text and "core" in text
    pg.page.close()


def test_crisis_view(browser: Any, sweden_map: Path) -> None:
    pg = Page(browser, sweden_map)
    options = pg.page.eval_on_selector_all("#scenario option", "os => os.map(o => o.textContent)")
    assert any(o.startswith("power zone SE1") for o in options)
    label = next(o for o in options if o.startswith("preset stockholm-lost"))
    pg.page.select_option("#scenario", label=label)
    info = pg.page.inner_text("#scenario-info")
    assert "Stockholms län slås ut" in info and "served:" in info
    assert pg.errors == []
    pg.page.close()


def hostile_data(
    tmp_path: Path, default_dir: Path
) -> tuple[Path, list[dict[str, str]], list[dict[str, str]]]:
    """A copy of the default data whose first sites and users are named by NASTY."""
    data = tmp_path / "data"
    shutil.copytree(default_dir, data)
    rows = read_rows(data / "sites.csv")
    for r, bad in zip(rows, NASTY, strict=False):
        r["name"] = bad
    write_rows(data / "sites.csv", rows)
    drows = read_rows(data / "demand.csv")
    for r, bad in zip(drows, reversed(NASTY), strict=False):
        r["name"] = bad
    write_rows(data / "demand.csv", drows)
    return data, rows, drows


def test_injection_payloads_run_nothing(browser: Any, tmp_path: Path, default_dir: Path) -> None:
    data, rows, drows = hostile_data(tmp_path, default_dir)
    opened = {rows[0]["site_id"]: "core", rows[1]["site_id"]: "regional"}
    plan = hand_plan(
        tmp_path, data, opened, {drows[0]["demand_id"]: [rows[0]["site_id"], rows[1]["site_id"]]}
    )
    out = tmp_path / "evil.html"
    res = CliRunner().invoke(
        cli,
        [
            "map",
            "--lang",
            "en",
            str(plan),
            "--out",
            str(out),
            "--data",
            str(data),
            "--banner",
            NASTY[0],
        ],
    )
    assert res.exit_code == 0, res.output
    pg = Page(browser, out)
    assert pg.dialogs == []
    assert pg.page.evaluate("window.__pwned") is None
    assert pg.errors == []
    assert pg.outside() == []
    pg.page.evaluate(f"() => {{ nisdMap.sites[{json.dumps(rows[0]['site_id'])}].openPopup(); }}")
    assert NASTY[0] in pg.page.inner_text(".leaflet-popup-content")
    assert pg.page.inner_text("#banner") == NASTY[0]
    pg.page.close()


def test_redacted_map_hides_coordinates(tmp_path: Path, default_dir: Path) -> None:
    plan = hand_plan(tmp_path, default_dir, {"s-lulea": "core"}, {})
    out = tmp_path / "r.html"
    res = CliRunner().invoke(cli, ["map", "--lang", "en", str(plan), "--out", str(out), "--redact"])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "65.58415" not in html and "22.15465" not in html  # Luleå's coordinates


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (["nope.json"], "nope.json: not found"),
        (["--tiles", "http://tiles.example/{z}/{x}/{y}.png"], "must be an https:// URL"),
    ],
)
def test_map_cli_errors(tmp_path: Path, default_dir: Path, args: list[str], msg: str) -> None:
    if args[0] == "--tiles":
        args = [str(hand_plan(tmp_path, default_dir, {"s-lulea": "core"}, {})), *args]
    out = tmp_path / "m.html"
    res = CliRunner().invoke(cli, ["map", "--lang", "en", *args, "--out", str(out)])
    assert res.exit_code == 3 and msg in res.stderr
    assert not out.exists()


def test_report_renders(browser: Any, tmp_path: Path, default_dir: Path) -> None:
    plan = hand_plan(
        tmp_path,
        default_dir,
        {"s-lulea": "core", "s-goteborg": "regional"},
        {"d-forsakringskassan-01": ["s-lulea", "s-goteborg"]},
    )
    out = tmp_path / "report.html"
    res = CliRunner().invoke(cli, ["report", "--lang", "en", str(plan), "--out", str(out)])
    assert res.exit_code == 0, res.output
    pg = Page(browser, out)
    text = pg.page.inner_text("body")
    assert "Proposed: build 2 sites" in text and "Luleå (core)" in text
    assert "Crisis scenarios" in text and "Run record" in text
    assert pg.page.locator("svg[role=img]").count() == 1
    assert pg.errors == [] and pg.outside() == []
    pg.page.close()


def test_compare_formats(browser: Any, tmp_path: Path, default_dir: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    pa = hand_plan(a, default_dir, {"s-lulea": "core", "s-goteborg": "regional"}, {})
    pb = hand_plan(b, default_dir, {"s-lulea": "core", "s-malmo": "regional"}, {})
    res = CliRunner().invoke(cli, ["compare", str(pa), str(pb)])
    assert res.exit_code == 0, res.output
    assert "b: kept s-lulea; added s-malmo; removed s-goteborg" in res.output
    res = CliRunner().invoke(cli, ["compare", str(pa), str(pb), "--format", "json"])
    doc = json.loads(res.stdout)
    assert doc["sites"][0]["added"] == ["s-malmo"]
    res = CliRunner().invoke(cli, ["compare", str(pa), str(pb), "--format", "csv"])
    assert res.stdout.splitlines()[0] == "kpi,a,b,b − a"
    out = tmp_path / "c.html"
    res = CliRunner().invoke(
        cli, ["compare", str(pa), str(pb), "--format", "html", "--out", str(out), "--lang", "en"]
    )
    assert res.exit_code == 0, res.output
    pg = Page(browser, out)
    assert pg.errors == [] and pg.outside() == []
    assert pg.page.evaluate("Object.keys(nisdMap.overlays).sort()").count("Opened: added") == 1
    pg.page.close()
    # in the data's language (Swedish for the default)
    res = CliRunner().invoke(
        cli, ["compare", str(pa), str(pb), "--format", "html", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    pg = Page(browser, out)
    assert pg.errors == [] and pg.outside() == []
    assert pg.page.evaluate("document.documentElement.lang") == "sv"
    assert "Vald: tillkommande" in pg.page.evaluate("Object.keys(nisdMap.overlays)")
    assert "Jämförelse av planer" in pg.page.inner_text("h1")
    pg.page.close()
    res = CliRunner().invoke(cli, ["compare", str(pa)])
    assert res.exit_code == 2


def test_crisis_view_greys_lost_nodes_and_their_links(browser: Any, sweden_map: Path) -> None:
    pg = Page(browser, sweden_map)
    options = pg.page.eval_on_selector_all("#scenario option", "os => os.map(o => o.textContent)")
    label = next(o for o in options if o.startswith("preset stockholm-lost"))
    pg.page.select_option("#scenario", label=label)
    grey = pg.page.evaluate("nisdMap.nodes['n-stockholm'].options.color")
    assert grey == "#adb5bd"
    dashed = pg.page.evaluate("nisdMap.links['l-stockholm-visby-red'].options.dashArray")
    assert dashed == "2 6"
    pg.page.close()


def test_plan_with_map_and_tiles_opt_in(tmp_path: Path) -> None:
    import html as htmlmod

    from nisd.render.html import csp

    scen = tmp_path / "ee.toml"
    scen.write_text('k = 2\nseparation_km = 100\nhazards = "off"\n')
    out = tmp_path / "plan"
    res = CliRunner().invoke(
        cli,
        [
            "plan",
            str(scen),
            "--data",
            "tests/data/estonia",
            "--out",
            str(out),
            "--map",
            "--banner",
            "TJÄNSTEBRUK",
        ],
    )
    assert res.exit_code == 0, res.output
    page = (out / "plan.html").read_text(encoding="utf-8")
    assert "TJÄNSTEBRUK" in page and "Pärnu" in page
    policy = csp(["x"], "https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src data: https://*.tile.example.org" in policy
    assert "connect-src 'none'" in policy
    res = CliRunner().invoke(
        cli,
        [
            "map",
            "--lang",
            "en",
            str(out / "plan.json"),
            "--out",
            str(tmp_path / "t.html"),
            "--tiles",
            "https://tiles.example.org/{z}/{x}/{y}.png",
        ],
    )
    assert res.exit_code == 0, res.output
    t = htmlmod.unescape((tmp_path / "t.html").read_text(encoding="utf-8"))
    assert "img-src data: https://tiles.example.org" in t
    assert '"tiles": "https://tiles.example.org/{z}/{x}/{y}.png"' in t


def test_crisis_view_shows_full_sites_and_partly_served_users(
    browser: Any, tmp_path: Path, default_dir: Path
) -> None:
    """Losing Luleå sends all load (543 racks) to Malmö's 150: Malmö runs full, users lose
    service."""
    rows = read_rows(default_dir / "demand.csv")
    demand = [r["demand_id"] for r in rows]
    total = sum(float(r["load"]) for r in rows)
    assert total > 150
    plan = hand_plan(
        tmp_path,
        default_dir,
        {"s-lulea": "core", "s-malmo": "regional"},
        {d: ["s-lulea", "s-malmo"] for d in demand},
    )
    out = tmp_path / "plan.html"
    res = CliRunner().invoke(cli, ["map", "--lang", "en", str(plan), "--out", str(out)])
    assert res.exit_code == 0, res.output
    pg = Page(browser, out)
    labels = pg.page.eval_on_selector_all("#scenario option", "els => els.map(e => e.textContent)")
    pick = next(i for i, t in enumerate(labels) if t.startswith("site s-lulea"))
    # the option's share is capacity-true: at most Malmö's 150 racks of the load
    share = float(labels[pick].rsplit("(", 1)[1].split("%")[0])
    assert share <= 100 * 150 / total + 0.05
    pg.page.select_option("#scenario", index=pick)
    info = pg.page.inner_text("#scenario-info")
    assert "running full: 1 site(s)" in info
    malmo = pg.page.evaluate("nisdMap.sites['s-malmo'].options.color")
    assert malmo == "#d00000"
    colours = pg.page.evaluate(
        "Object.keys(nisdMap.demand).map(k => nisdMap.demand[k].options.color)"
    )
    assert "#d00000" in colours  # some users lose all service
    # no assignment line until a site is selected; then only that site's users
    assert pg.page.evaluate("nisdMap.selected.getLayers().length") == 0
    pg.page.evaluate("() => { nisdMap.sites['s-malmo'].fire('click'); return 0; }")
    assert pg.page.evaluate("nisdMap.selected.getLayers().length") == len(demand)
    assert pg.errors == [] and pg.outside() == []
    pg.page.close()


def test_users_of_one_place_share_one_marker_that_lists_them_all(
    browser: Any, tmp_path: Path, default_dir: Path
) -> None:
    """1,050 users of the default sit at 36 places (every agency's users of a county at its
    seat); stacked markers left all but the top one out of reach."""
    rows = read_rows(default_dir / "demand.csv")
    at: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in rows:
        at.setdefault((r["lat"], r["lon"]), []).append(r)
    here = max(at.values(), key=len)
    assert len(here) > 1
    plan = hand_plan(
        tmp_path,
        default_dir,
        {"s-lulea": "core", "s-malmo": "regional"},
        {r["demand_id"]: ["s-lulea", "s-malmo"] for r in rows},
    )
    out = tmp_path / "plan.html"
    res = CliRunner().invoke(cli, ["map", "--lang", "en", str(plan), "--out", str(out)])
    assert res.exit_code == 0, res.output
    pg = Page(browser, out)
    assert pg.page.evaluate("nisdMap.places.length") == len(at)
    ids = [r["demand_id"] for r in here]
    same = "ids => ids.every(i => nisdMap.demand[i] === nisdMap.demand[ids[0]])"
    assert pg.page.evaluate(same, ids)
    text = pg.page.evaluate(
        """ids => { const m = nisdMap.demand[ids[0]]; m.fire('click'); m.openPopup();
        return m.getPopup().getContent().textContent; }""",
        ids,
    )
    assert text.startswith(f"{len(ids)} users here")
    assert all(r["name"] in text for r in here)
    names = {r["site_id"]: r["name"] for r in read_rows(default_dir / "sites.csv")}
    assert f"served by {names['s-lulea']} → {names['s-malmo']}" in text  # names, not ids
    # selecting the place draws every one of its users' lines (primary and backup)
    assert pg.page.evaluate("nisdMap.selected.getLayers().length") == 2 * len(ids)
    load = sum(float(r["load"]) for r in here)
    radius = pg.page.evaluate("ids => nisdMap.demand[ids[0]].options.radius", ids)
    assert radius == pytest.approx(3 + load**0.5, rel=1e-6)
    assert pg.errors == [] and pg.outside() == []
    pg.page.close()


def test_explore_is_offline_and_inert(browser: Any, tmp_path: Path, default_dir: Path) -> None:
    """Plan.explore(): a folium map with no CDN, no request, no script error, names as text."""
    import nisd
    from nisd.render.explore import explore

    data, rows, drows = hostile_data(tmp_path, default_dir)
    ds = nisd.load(data)
    doc = json.loads(
        hand_plan(
            tmp_path,
            data,
            {rows[0]["site_id"]: "core", rows[1]["site_id"]: "regional"},
            {drows[0]["demand_id"]: [rows[0]["site_id"], rows[1]["site_id"]]},
        ).read_text(encoding="utf-8")
    )
    m = explore(ds, nisd.Plan.from_json(doc))
    page = m.get_root().render()
    assert "cdn" not in page.lower() and "https://" not in page
    out = tmp_path / "explore.html"
    out.write_text(page, encoding="utf-8")
    requests: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []
    pg = browser.new_page(viewport={"width": 1200, "height": 800})
    pg.on("request", lambda r: requests.append(r.url))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.goto(out.resolve().as_uri())
    pg.wait_for_selector(".leaflet-container", timeout=15_000)
    texts = pg.evaluate(
        """() => {
        const m = window[Object.keys(window).find(k => k.startsWith('map_'))];
        const out = [];
        m.eachLayer(l => {
          if (l.getPopup && l.getPopup()) {
            const c = l.getPopup().getContent();
            out.push(typeof c === 'string' ? 'RAW:' + c : c.textContent);
          }
        });
        return out;
      }"""
    )
    assert errors == [] and dialogs == []
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    assert pg.evaluate("window.__pwned") is None
    assert not any(t.startswith("RAW:") for t in texts)  # contents are DOM, built from text
    shown = "\n".join(texts)
    assert NASTY[0] in shown and NASTY[1] in shown  # site names, literally
    assert NASTY[3] in shown  # a user's name (demand popups)
    assert NASTY[4] in shown and "1337" not in page  # a template in a name stays text
    pg.close()


def test_crisis_view_shows_an_attack(browser: Any, tmp_path: Path, default_dir: Path) -> None:
    """An `nisd attack --out` file's worst attack is a crisis-view scenario: the sites it
    takes out are shown down, with the evaluator's share. (The point form of the data:
    the attack search over every user point of the services form takes a minute.)"""
    points = default_dir.parent / "points"
    if not points.is_dir():
        pytest.skip("data/points is not beside the default data (an installed wheel)")
    demand = [r["demand_id"] for r in read_rows(points / "demand.csv")]
    sites = {"s-lulea": "core", "s-malmo": "regional", "s-goteborg": "regional"}
    plan = hand_plan(
        tmp_path,
        points,
        sites,
        {d: ["s-lulea", "s-malmo", "s-goteborg"] for d in demand},
    )
    att = tmp_path / "attack.json"
    res = CliRunner().invoke(
        cli,
        ["attack", str(plan), "--data", str(points), "--r", "1", "--top", "1", "--out", str(att)],
    )
    assert res.exit_code == 0, res.output
    worst = json.loads(att.read_text(encoding="utf-8"))["worst"]
    assert worst["targets"] == ["site:s-lulea"]  # the core site carries the most
    out = tmp_path / "plan.html"
    res = CliRunner().invoke(
        cli,
        [
            "map",
            "--lang",
            "en",
            str(plan),
            "--data",
            str(points),
            "--attack",
            str(att),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    pg = Page(browser, out)
    labels = pg.page.eval_on_selector_all("#scenario option", "els => els.map(e => e.textContent)")
    pick = next(i for i, t in enumerate(labels) if t.startswith(worst["scenario"]))
    share = float(labels[pick].rsplit("(", 1)[1].split("%")[0])
    assert share == pytest.approx(100 * worst["demand_served_share"], abs=0.06)
    pg.page.select_option("#scenario", index=pick)
    info = pg.page.inner_text("#scenario-info")
    assert "an attacker takes out site:s-lulea" in info
    lulea = pg.page.evaluate("nisdMap.sites['s-lulea'].options.color")
    goteborg = pg.page.evaluate("nisdMap.sites['s-goteborg'].options.color")
    assert lulea == "#adb5bd" and goteborg != "#adb5bd"  # the attacked site is drawn down
    assert pg.errors == [] and pg.outside() == []
    pg.page.close()


@pytest.fixture(scope="module")
def tiny_rollout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A three-year roll-out of a small synthetic country, written as ``nisd rollout`` does."""
    from nisd.config import PlanConfig
    from nisd.io import load_dataset
    from nisd.io.synthetic import write_country
    from nisd.optimise.rollout import rollout

    tmp = tmp_path_factory.mktemp("rollout")
    ds = load_dataset(write_country(tmp / "data", 8, 5, seed=11))
    cfg = PlanConfig.model_validate(
        {
            "k": 2,
            "separation_km": 100.0,
            "hazards": "off",
            "crisis": {"sets": ["single-site"]},
            "rollout": {
                "first_year": 2030,
                "last_year": 2032,
                "lead_time_years": {"core": 2, "regional": 1},
                "capital_cost_msek": {"core": 300.0, "regional": 80.0},
                "onboarding_default": 2031,
            },
        }
    )
    return rollout(ds, cfg, {"data_dir": str(ds.path.resolve())}).save(tmp / "out")


def test_rollout_report_and_map_have_a_year_control(
    browser: Any, tiny_rollout: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    res = CliRunner().invoke(
        cli, ["report", "--lang", "en", str(tiny_rollout.parent), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert 'class="gantt"' in html and 'class="spending"' in html
    assert "Readiness per year" in html and "Fees" in html
    p = Page(browser, out)
    assert p.errors == [] and p.outside() == []
    doc = json.loads(tiny_rollout.read_text(encoding="utf-8"))
    assert p.page.evaluate("window.nisdMap.year()") == doc["years"][-1]["year"]
    for y in doc["years"]:
        p.page.evaluate(f"window.nisdMap.showYear({y['year']})")
        info = p.page.inner_text("#year-info")
        assert info.startswith(f"{y['year']}: {len(y['sites'])} site(s) in service")
        # sites not yet in service or being built are hidden
        for s in doc["sites"]:
            shown = p.page.evaluate(
                f"window.nisdMap.sites[{json.dumps(s['site_id'])}].options.opacity"
            )
            building = s["construction_from"] is not None and (
                s["construction_from"] <= y["year"] < s["in_service_from"]
            )
            assert (shown > 0) == (s["site_id"] in y["sites"] or building), (y["year"], s)
        lines = p.page.evaluate("window.nisdMap.lines.getLayers().length")
        assert lines == sum(len(v) for v in y["assignments"].values())
    # the map alone has the same control
    m = tmp_path / "map.html"
    res = CliRunner().invoke(cli, ["map", "--lang", "en", str(tiny_rollout), "--out", str(m)])
    assert res.exit_code == 0, res.output
    q = Page(browser, m)
    assert q.errors == [] and q.page.query_selector("#year") is not None


def test_compare_rollouts_year_by_year(tiny_rollout: Path, tmp_path: Path) -> None:
    import shutil

    other = tmp_path / "other"
    shutil.copytree(tiny_rollout.parent, other)
    res = CliRunner().invoke(
        cli, ["compare", str(tiny_rollout.parent), str(other), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert len(doc["years"]) == 6 and {r["added"] for r in doc["years"]} == {""}
    res = CliRunner().invoke(cli, ["compare", str(tiny_rollout.parent), str(tmp_path / "no")])
    assert res.exit_code == 3 and "not found" in res.output
    res = CliRunner().invoke(
        cli,
        [
            "compare",
            str(tiny_rollout.parent),
            str(other),
            "--format",
            "html",
            "--out",
            str(tmp_path / "c.html"),
            "--lang",
            "en",
        ],
    )
    assert res.exit_code == 0 and "Comparison of roll-outs" in (tmp_path / "c.html").read_text(
        "utf-8"
    )


def test_explore_draws_one_marker_per_place(tmp_path: Path, default_dir: Path) -> None:
    import folium

    import nisd
    from nisd.render.explore import explore

    rows = read_rows(default_dir / "demand.csv")
    places = {(float(r["lat"]), float(r["lon"])) for r in rows}
    assert len(places) < len(rows)
    plan = hand_plan(
        tmp_path,
        default_dir,
        {"s-lulea": "core", "s-malmo": "regional"},
        {r["demand_id"]: ["s-lulea", "s-malmo"] for r in rows},
    )
    ds = nisd.load(default_dir)
    m = explore(ds, nisd.read_plan(plan, ds))
    group = next(
        c
        for c in m._children.values()
        if isinstance(c, folium.FeatureGroup) and c.layer_name == "Users (demand)"
    )
    markers = [c for c in group._children.values() if isinstance(c, folium.CircleMarker)]
    assert {tuple(mk.location) for mk in markers} == places
    assert len(markers) == len(places)


def test_rollout_under_uncertainty_report_switches_branches(browser: Any, tmp_path: Path) -> None:
    """A roll-out over two futures: its report shows the shared first stage, what hedging
    is worth, each branch, and the switch shows one branch's sections at a time."""
    from nisd.io import load_dataset
    from nisd.io.synthetic import write_country
    from nisd.optimise.rollout import rollout
    from tests.helpers import tiny_rollout_config

    ds = load_dataset(write_country(tmp_path / "data", 5, 3, seed=3))
    cfg = tiny_rollout_config(
        first_year=2029,
        objective=["cost"],
        lead_time_years={"core": 2, "regional": 2},
        onboarding={"d2": 2031},
        uncertainty={
            "decision_year": 2031,
            "branches": [
                {"name": "as planned", "probability": 0.7},
                {
                    "name": "loads double",
                    "probability": 0.3,
                    "growth_per_year": 1.0,
                    "decline": ["d2"],
                },
            ],
        },
    )
    saved = rollout(ds, cfg, {"data_dir": str(ds.path.resolve())}).save(tmp_path / "ro")
    assert (saved.parent / "branches.csv").read_text(encoding="utf-8").count("\n") == 3
    out = tmp_path / "report.html"
    res = CliRunner().invoke(cli, ["report", "--lang", "en", str(saved.parent), "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "Futures" in html and "EVPI" in html and "VSS" in html
    p = Page(browser, out)
    assert p.errors == [] and p.outside() == []
    options = p.page.eval_on_selector_all("#branch option", "els => els.map(e => e.textContent)")
    assert options == ["as planned", "loads double"]

    def visible() -> list[bool]:
        return p.page.eval_on_selector_all("section.branch", "els => els.map(e => !e.hidden)")

    def on_map() -> tuple[str, str]:
        return (
            p.page.evaluate("window.nisdMap.branch()"),
            p.page.inner_text("#year-info").split(";")[0],
        )

    assert visible() == [True, False]
    assert on_map() == (
        "as planned",
        "2032: 2 site(s) in service, 0 being built, 3 user(s) on board",
    )
    p.page.select_option("#branch", "1")
    assert visible() == [False, True]
    # the map follows: the future where d2 declines has two users on board in 2032
    assert on_map() == (
        "loads double",
        "2032: 2 site(s) in service, 0 being built, 2 user(s) on board",
    )
    p.page.select_option("#branch", "0")
    assert visible() == [True, False]
    assert on_map()[0] == "as planned"
    assert p.page.query_selector("#map-branch") is None  # the report's control serves both
    # in Swedish too, and the map of the shown branch
    sv = tmp_path / "rapport.html"
    res = CliRunner().invoke(cli, ["report", "--lang", "sv", str(saved.parent), "--out", str(sv)])
    assert res.exit_code == 0 and "Framtider" in sv.read_text(encoding="utf-8")
    m = tmp_path / "map.html"
    res = CliRunner().invoke(cli, ["map", "--lang", "en", str(saved), "--out", str(m)])
    assert res.exit_code == 0, res.output
    # the map alone has its own control of the futures
    p = Page(browser, m)
    assert p.errors == [] and p.outside() == []
    options = p.page.eval_on_selector_all("#map-branch option", "els => els.map(e => e.value)")
    assert options == ["0", "1"]
    assert on_map()[0] == "as planned"
    p.page.select_option("#map-branch", "1")
    assert on_map() == (
        "loads double",
        "2032: 2 site(s) in service, 0 being built, 2 user(s) on board",
    )
    p.page.fill("#year", "0")
    p.page.dispatch_event("#year", "input")
    assert on_map()[1].startswith("2029: ")
    # nisd compare of the roll-out alone compares its futures
    res = CliRunner().invoke(cli, ["compare", str(saved.parent)])
    assert res.exit_code == 0, res.output
    assert "as planned" in res.output and "loads double" in res.output
    res = CliRunner().invoke(cli, ["compare", str(saved.parent), "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.output)["totals"].keys() == {
        "as planned",
        "loads double",
    }
