"""The steering group's report: in Swedish by default on Swedish data (English on request),
with the decision first and its headline worst case taken over every scenario the page
shows (required, presets, the worst attacks of one and two targets), no English phrase
left in the Swedish page, numbers formatted by the language, every scenario in a CSV."""

from __future__ import annotations

import csv
import html
import io
import re
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import nisd
from nisd.cli import cli
from nisd.render.i18n import Tr, catalogue
from nisd.render.report import report_page
from tests.test_render import ARGS, CHROMIUM, NASTY, Page

ROOT = Path(__file__).resolve().parent.parent

# words that give an English sentence away (data names are taken out first)
ENGLISH = re.compile(
    r"\b(the|of|and|is|are|served|load|after|worst|attack|required|sites?|scenarios?\s+shown|"
    r"cost|costs|fee|agency|power zone|county|not computed|outside)\b",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[nisd.Dataset, nisd.Plan, Path]:
    ds = nisd.load()
    plan = nisd.plan(ds, "baseline")
    out = tmp_path_factory.mktemp("report") / "plan"
    out.mkdir()
    plan.save(out)
    return ds, plan, out / "plan.json"


@pytest.fixture(scope="module")
def pages(
    baseline: tuple[nisd.Dataset, nisd.Plan, Path],
) -> dict[str, tuple[str, str, Tr, nisd.PlanView]]:
    """The report in both languages, drawn as nisd report draws it, with the translator
    and the view it used."""
    ds, plan, _ = baseline
    attacks = nisd.api.pages.worst_attacks(ds, plan)
    fees = nisd.fees(ds, plan, "load")
    out = {}
    for lang in ("sv", "en"):
        tr = Tr(lang)  # type: ignore[arg-type]
        view = nisd.api.view(ds, plan, attacks=attacks)
        page = report_page(view, tr=tr, fees=fees)
        out[lang] = (page, nisd.api.pages.scenarios_csv(view, tr), tr, view)
    return out


def visible(page: str, appendix: bool = False) -> str:
    """The page's text as a reader sees it (no scripts, styles or, unless asked, the
    appendix's folded tables)."""
    body = page[page.index('<div class="report">') :]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    if not appendix:
        body = re.sub(r"<details>.*?</details>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " | ", body))


def test_the_swedish_page_is_swedish(
    pages: dict[str, tuple[str, str, Tr, nisd.PlanView]], baseline: Any
) -> None:
    page, _, tr, view = pages["sv"]
    assert '<html lang="sv">' in page
    assert tr.missing == set()  # every message the page asked for is in the catalogue
    text = visible(page)
    assert "320,25 mnkr/år" in text
    assert re.search(r"\b\d+,\d\xa0%", text)  # Swedish percentages (a no-break space)
    assert not re.search(r"\b\d+\.\d+ ?%", text)
    # take out what the data names: agencies, sites, counties, nodes, hazards, presets
    ds = baseline[0]
    names = {s.name for s in ds.sites} | {n.name for n in ds.nodes}
    names |= {d.name.split(":")[0] for d in ds.demand} | {h.name for h in ds.hazards}
    names |= {r.scenario for r in view.rows} | {s.county for s in view.data.sites}
    names |= {ds.config.name, "Länsstyrelserna"} | {
        r.payer for r in nisd.fees(ds, baseline[1]).rows
    }
    names |= {"nisd attack", "nisd explain"}  # command names
    for n in sorted(names, key=len, reverse=True):
        text = text.replace(n, " ")
    leftover = ENGLISH.findall(text)
    assert leftover == [], f"English left in the Swedish page: {sorted(set(leftover))}"


def test_the_english_page_on_request(pages: dict[str, tuple[str, str, Tr, nisd.PlanView]]) -> None:
    page, _, _, _ = pages["en"]
    assert '<html lang="en">' in page
    text = visible(page)
    assert "The decision" in text and "320.25 MSEK/year" in text


def test_every_message_is_translated() -> None:
    """scripts/catalogue.py --check: the catalogue holds every message the code shows."""
    mod = runpy.run_path(str(ROOT / "scripts" / "catalogue.py"))
    cat = catalogue("sv")
    for msg in mod["messages"]():
        m = cat.get(msg)
        assert m is not None and m.string and all(m.string), msg


def test_the_headline_is_the_worst_of_everything_shown(
    pages: dict[str, tuple[str, str, Tr, nisd.PlanView]],
) -> None:
    page, _, _, view = pages["en"]
    kinds = {r.kind for r in view.rows}
    assert {"attack", "preset"} <= kinds  # the presets and attacks are there by default
    worst = min(view.rows, key=lambda r: (r.demand_served_share, r.scenario))
    required = view.rows[: view.required]
    assert worst.demand_served_share <= min(r.demand_served_share for r in required)
    text = visible(page)
    head = re.search(
        r"Worst case of all (\d+) scenarios shown: (.*?): ([0-9.]+)% of the load", text
    )
    assert head is not None
    assert int(head.group(1)) == len(view.rows)
    assert float(head.group(3)) == pytest.approx(100 * worst.demand_served_share, abs=0.05)
    # and its lines name the required worst, the presets' and the attacks'
    for label in (
        f"Required ({view.required} scenarios)",
        "Outside the requirements, the dataset's crisis presets",
        "Outside the requirements, the worst attack on one target",
        "Outside the requirements, the worst attack on two targets",
    ):
        assert label in text
    assert "not computed" not in text.split("Opened sites")[0]


def test_no_program_text_outside_the_appendix(
    pages: dict[str, tuple[str, str, Tr, nisd.PlanView]],
) -> None:
    for lang in ("sv", "en"):
        text = visible(pages[lang][0])
        assert '{"' not in text and "null" not in text and "true" not in text
        assert '{"' in visible(pages[lang][0], appendix=True)  # the raw parameters are there


def test_fees_and_assumptions_are_in_words(
    pages: dict[str, tuple[str, str, Tr, nisd.PlanView]], baseline: Any
) -> None:
    page, _, _, _ = pages["sv"]
    text = visible(page)
    assert "Vad varje myndighet betalar" in text and "Polismyndigheten" in text
    assert "Minst 200 km mellan en användares primära plats och reservplats" in text
    assert "Statskontoret" in text


def test_scenarios_csv_holds_every_row(
    pages: dict[str, tuple[str, str, Tr, nisd.PlanView]],
) -> None:
    _, text, _, view = pages["sv"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(view.rows)
    assert sum(r["required"] == "True" for r in rows) == view.required
    for r, row in zip(rows, view.rows, strict=True):
        assert float(r["served_share"]) == pytest.approx(row.demand_served_share)


def test_the_report_command_writes_both_files(
    tmp_path: Path, baseline: tuple[nisd.Dataset, nisd.Plan, Path]
) -> None:
    out = tmp_path / "r" / "report.html"
    res = CliRunner().invoke(cli, ["report", str(baseline[2]), "--out", str(out), "--quick"])
    assert res.exit_code == 0, res.output
    assert '<html lang="sv">' in out.read_text(encoding="utf-8")
    assert (tmp_path / "r" / "report.scenarios.csv").is_file()
    res = CliRunner().invoke(cli, ["report", str(baseline[2]), "--out", str(out), "--lang", "de"])
    assert res.exit_code == 2 and "'de' is not one of" in res.output


def test_swedish_numbers_by_babel() -> None:
    sv, en = Tr("sv"), Tr("en")
    assert sv.num(315.75) == "315,75" and en.num(315.75) == "315.75"
    assert sv.pct(0.826) == "82,6\xa0%" and en.pct(0.826) == "82.6%"
    assert sv.num(12345.5, 1) == "12\xa0345,5"
    assert sv.msek(1.5) == "1,50 mnkr/år"
    assert sv.n("{n} attack", "{n} attacks", 2) == "2 angrepp"


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_report_in_a_browser(
    browser: Any,
    tmp_path: Path,
    lang: str,
    pages: dict[str, tuple[str, str, Tr, nisd.PlanView]],
) -> None:
    path = tmp_path / f"report-{lang}.html"
    path.write_text(pages[lang][0], encoding="utf-8")
    pg = Page(browser, path)
    assert pg.page.evaluate("document.documentElement.lang") == lang
    layers = pg.page.inner_text(".leaflet-control-layers")
    assert ("Län" in layers) if lang == "sv" else ("Counties" in layers)
    kpis = pg.page.inner_text("#kpis")
    assert ("mnkr/år" in kpis) if lang == "sv" else ("MSEK/year" in kpis)
    assert pg.errors == [] and pg.outside() == [] and pg.dialogs == []
    pg.page.close()


def test_names_stay_inert_in_the_swedish_page(
    browser: Any, tmp_path: Path, data_copy: Path
) -> None:
    from tests.helpers import read_rows, write_rows

    rows = read_rows(data_copy / "sites.csv")
    for n, row in enumerate(rows[:5]):
        row["name"] = NASTY[n % len(NASTY)]
    write_rows(data_copy / "sites.csv", rows)
    out = tmp_path / "p"
    res = CliRunner().invoke(cli, ["plan", "--data", str(data_copy), "--out", str(out)])
    assert res.exit_code == 0, res.output
    page = tmp_path / "r.html"
    res = CliRunner().invoke(cli, ["report", str(out / "plan.json"), "--out", str(page)])
    assert res.exit_code == 0, res.output
    pg = Page(browser, page)
    assert pg.page.evaluate("window.__pwned === undefined")
    assert pg.errors == [] and pg.outside() == [] and pg.dialogs == []
    pg.page.close()


def test_the_report_prints_to_a4_without_clipped_tables(
    browser: Any, tmp_path: Path, pages: dict[str, tuple[str, str, Tr, nisd.PlanView]]
) -> None:
    path = tmp_path / "report.html"
    path.write_text(pages["sv"][0], encoding="utf-8")
    pg = Page(browser, path)
    pg.page.set_viewport_size({"width": 718, "height": 1000})  # A4 less 12 mm margins
    pg.page.emulate_media(media="print")
    wide = pg.page.evaluate(
        """() => [...document.querySelectorAll('table.data, .report svg')]
             .filter(t => t.getBoundingClientRect().right >
                          document.documentElement.clientWidth + 1)
             .map(t => t.outerHTML.slice(0, 80))"""
    )
    assert wide == []
    pdf = pg.page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    pg.page.close()


def test_the_rollout_report_in_swedish_has_the_budget_and_fees_per_year(tmp_path: Path) -> None:
    from nisd.io import load_dataset
    from nisd.io.synthetic import write_country
    from nisd.render.rollout import rollout_page
    from tests.helpers import tiny_rollout_config

    ds = load_dataset(write_country(tmp_path, 6, 4, seed=5))
    cfg = tiny_rollout_config(first_year=2029, onboarding_default=2031)
    ro = nisd.rollout(ds, cfg)
    fees = nisd.fees(ds, ro, "load")
    tr = Tr("sv")
    page = rollout_page(ds, ro, fees, tr=tr)
    assert tr.missing == set()
    assert '<html lang="sv">' in page
    text = visible(page)
    assert "Varje myndighets avgift per år (mnkr" in text and "avgiftsintäkt" in text
    assert "Not computed" not in text and "Ej beräknat" not in text
    # the API computes the fees when none lie beside the roll-out
    html_page, csv_text = nisd.api.report_files(ds, ro, lang="sv")
    assert csv_text is None and "Varje myndighets avgift per år" in html_page


def test_the_comparison_pages_in_swedish(baseline: tuple[nisd.Dataset, nisd.Plan, Path]) -> None:
    from nisd.render.compare import compare_page
    from nisd.render.compare_rollouts import compare_rollout_page, compare_rollouts

    ds, plan, _ = baseline
    other = nisd.plan(ds, "heightened-alert")
    tr = Tr("sv")
    page = compare_page(ds, nisd.compare_plans([("a", plan), ("b", other)]), tr=tr)
    assert tr.missing == set() and '<html lang="sv">' in page
    text = visible(page)
    assert "Nyckeltal" in text and "320,25" in text
    ro = nisd.Rollout.read(ROOT / "tests" / "data" / "golden" / "rollout-2032.json")
    page = compare_rollout_page(
        compare_rollouts([("a", ro), ("b", ro)]), [("a", ro), ("b", ro)], tr=tr
    )
    assert tr.missing == set() and "År för år" in page


def test_the_price_of_resilience(baseline: tuple[nisd.Dataset, nisd.Plan, Path]) -> None:
    ds, plan, _ = baseline
    rungs = (
        ("peace (baseline)", "baseline", {}),
        ("peace, three copies (k = 3)", "baseline", {"k": 3}),
    )
    rows = nisd.api.price_of_resilience(ds, rungs)
    assert [r.rung for r in rows] == ["peace (baseline)", "peace, three copies (k = 3)"]
    assert rows[0].cost_msek == pytest.approx(plan.kpis.cost_msek)
    # a third copy of every service costs more, never less
    assert rows[1].cost_msek is not None and rows[1].cost_msek >= rows[0].cost_msek
    # the yardstick, measured again: the presets and the worst attacks on the plan
    v = nisd.api.view(ds, plan, attacks=nisd.api.pages.worst_attacks(ds, plan))
    yard = [r for r in v.outside if r.kind in ("preset", "attack")]
    assert rows[0].worst_share == pytest.approx(min(r.demand_served_share for r in yard))
    tr = Tr("sv")
    page = report_page(v, tr=tr, price=rows)
    assert tr.missing == set()
    text = visible(page)
    assert "Vad motståndskraften kostar" in text and "fred, tre kopior (k = 3)" in text
