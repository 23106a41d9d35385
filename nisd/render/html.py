"""Self-contained, offline, safe HTML pages for maps, reports and comparisons.

Safety by construction: data travels as JSON in a ``<script
type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, and the
page's own script turns every string into a DOM text node; nothing from the
data is ever parsed as HTML or JavaScript. A Content-Security-Policy allows
only the page's own inline scripts (by hash) and styles, and data: images; no
request can leave the file unless ``tiles`` opts into a tile server.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from nisd.errors import InputError, Problem
from nisd.render.assets import leaflet_css, leaflet_js
from nisd.render.i18n import EN, N_, Tr
from nisd.render.payload import MapData

PAGE_CSS = """
html, body { margin: 0; height: 100%; font-family: system-ui, "Segoe UI", Roboto, sans-serif; }
body.mappage { display: flex; flex-direction: column; }
#banner { background: #9d0208; color: #fff; text-align: center; font-weight: 700; padding: 4px; }
#wrap { display: flex; flex: 1; min-height: 0; }
#side { width: 330px; overflow: auto; padding: 10px 12px; border-right: 1px solid #ccc;
        font-size: 13px; box-sizing: border-box; }
#map { flex: 1; background: #dbe9f4; }
h1 { font-size: 18px; margin: 4px 0 8px; } h2 { font-size: 14px; margin: 14px 0 6px; }
table.popup { border-collapse: collapse; font-size: 12px; }
table.popup th { text-align: left; padding: 1px 8px 1px 0; color: #444; vertical-align: top; }
table.popup td { padding: 1px 0; }
.legend span.sw { display: inline-block; width: 12px; height: 12px; border-radius: 50%;
                  margin-right: 6px; vertical-align: middle; border: 1px solid #333; }
.leaflet-tooltip.label { background: rgba(255,255,255,0.85); border: 0; box-shadow: none;
                         font-weight: 600; padding: 0 3px; }
select { width: 100%; }
"""

LEGEND = (
    ("#1f4e9c", "", N_("opened: core site")),
    ("#2a9d8f", "", N_("opened: regional site")),
    ("#fff", "border-color:#6c757d", N_("candidate, not chosen")),
    ("#b5179e", "", N_("demand: critical (size: load)")),
    ("#f4a261", "", N_("demand: high")),
    ("#8d99ae", "", N_("demand: normal")),
    ("#d00000", "", N_("hazard and its buffer; loses all service in crisis")),
    ("#ff7b00", "", N_("partly served in crisis")),
    (None, "", N_("click a site or a user: its primary (──) and backup (- -) assignments")),
    (None, "", N_("fibre: red / green redundant paths; black dots: backbone nodes")),
    (None, "", N_("crisis view: grey = down, dotted = cut, red ring = site running full")),
)


def legend(tr: Tr = EN) -> str:
    """The map's legend in the page's language."""
    out = ['<div class="legend">']
    for colour, style, text in LEGEND:
        sw = (
            f'<span class="sw" style="background:{colour};{style}"></span>'
            if colour is not None
            else ""
        )
        out.append(f"<div>{sw}{html.escape(tr(text))}</div>")
    return "".join(out) + "</div>"


@lru_cache(maxsize=1)
def map_messages() -> tuple[str, ...]:
    """Every message map.js shows (its ``T("…")`` and ``F("…")`` calls and its layers)."""
    src = map_script()
    found = set(re.findall(r'\b[TF]\("((?:[^"\\]|\\.)*)"', src))
    found |= set(re.findall(r'\[\["([A-Z][^"]*)", [a-zA-Z]+\]', src))
    found |= set(re.findall(r'\["([A-Z][^"]*)", [a-zA-Z]+Layer\]', src))
    return tuple(sorted(found))


def map_words(
    tr: Tr, data: MapData | None = None, meanings: dict[str, str] | None = None
) -> dict[str, str]:
    """The words a map page shows, in ``tr``'s language (English needs none): map.js's
    messages, and the data's classes, site types, statuses and scenario meanings."""
    if tr.lang == "en":
        return {}
    out = {m: tr(m) for m in map_messages()}
    dynamic = ["MSEK/year", "ms", "optimal", "feasible", "cost", "red", "green"]
    if data is not None:
        dynamic += [*data.classes, *data.types, *(h.hazard_class for h in data.hazards)]
    for w in dynamic:
        t = tr.lookup(w)
        if t is not None:
            out[w] = t
    out.update(meanings or {})
    return out


def json_for_script(obj: Any) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, allow_nan=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


_TILE_HOST = re.compile(r"^(\{s\}\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:[0-9]{1,5})?$")
_TILE_PATH = re.compile(r"^[A-Za-z0-9/_.~{}@-]*$")


def tile_source(tiles: str) -> str:
    """The one origin a page may load map tiles from: ``https://host`` of a tile URL
    template (``https://{s}.host/{z}/{x}/{y}.png`` allows ``https://*.host``).

    Raises
    ------
    InputError
        Not an https URL template of a plain host and path (a value that could widen the
        page's Content-Security-Policy is refused, never written into it).
    """
    parts = urlsplit(tiles)
    if (
        parts.scheme != "https"
        or not _TILE_HOST.match(parts.netloc)
        or not _TILE_PATH.match(parts.path)
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise InputError(
            [
                Problem(
                    "tiles",
                    "must be an https:// URL template of a host and a path, such as "
                    "https://{s}.tiles.example.se/{z}/{x}/{y}.png",
                )
            ]
        )
    host = parts.netloc
    if host.startswith("{s}."):
        host = "*." + host.removeprefix("{s}.")
    return f"https://{host}"


def csp(scripts: list[str], tiles: str | None = None) -> str:
    img = "data:"
    if tiles:
        img += " " + tile_source(tiles)
    return (
        "default-src 'none'; script-src "
        + " ".join(_hash(s) for s in scripts)
        + "; style-src 'unsafe-inline'; img-src "
        + img
        + "; connect-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-src 'none'; object-src 'none'"
    )


def map_script() -> str:
    return resources.files("nisd.render").joinpath("map.js").read_text(encoding="utf-8")


def page(
    title: str,
    body: str,
    *,
    payload: MapData | None = None,
    banner: str | None = None,
    tiles: str | None = None,
    with_map: bool = True,
    lang: str = "en",
    words: dict[str, str] | None = None,
    extra_scripts: Sequence[str] = (),
) -> str:
    """A complete HTML document; ``body`` is trusted markup built by nisd itself;
    ``extra_scripts`` are nisd's own inline scripts (allowed by their hashes)."""
    scripts = [leaflet_js(), map_script()] if with_map else []
    scripts += list(extra_scripts)
    data = ""
    if payload is not None:
        doc = payload.model_copy(update={"tiles": tiles}).to_json()
        if words:
            doc["words"] = words
        data = f'<script type="application/json" id="nisd-data">{json_for_script(doc)}</script>'
    ban = f'<div id="banner">{html.escape(banner)}</div>' if banner else ""
    css = (leaflet_css() if with_map else "") + PAGE_CSS
    script_tags = "".join(f"<script>{s}</script>" for s in scripts)
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp(scripts, tiles))}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{css}</style></head>"
        + ('<body class="mappage">' if with_map else "<body>")
        + f"{ban}{body}{data}{script_tags}</body></html>\n"
    )


def map_body(title: str, subtitle: str = "", tr: Tr = EN) -> str:
    esc = html.escape
    return (
        '<div id="wrap"><div id="side">'
        f"<h1>{esc(title)}</h1>"
        + (f"<p>{esc(subtitle)}</p>" if subtitle else "")
        + f'<h2>{esc(tr("Key figures"))}</h2><div id="kpis"></div>'
        f'<h2>{esc(tr("Crisis view"))}</h2><select id="scenario" '
        f'aria-label="{esc(tr("crisis scenario"))}"></select>'
        '<div id="scenario-info"></div>'
        f"<h2>{esc(tr('Legend'))}</h2>{legend(tr)}</div>"
        f'<div id="map" role="region" aria-label="{esc(tr("map"))}"></div></div>'
    )


def map_page(
    payload: MapData,
    *,
    banner: str | None = None,
    tiles: str | None = None,
    subtitle: str = "",
    tr: Tr = EN,
    words: dict[str, str] | None = None,
) -> str:
    """The plan map as one self-contained HTML document, in ``tr``'s language."""
    return page(
        payload.title,
        map_body(payload.title, subtitle, tr),
        payload=payload,
        banner=banner,
        tiles=tiles,
        lang=tr.lang,
        words=words if words is not None else map_words(tr, payload),
    )
