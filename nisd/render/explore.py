"""A plan as a folium map, for analysts' notebooks (``nisd.explore(ds, plan)``).

After geopandas' ``GeoDataFrame.explore()``: a ``folium.Map`` with layers for the
counties, the fibre, the opened sites, the candidates and the users, popups and
tooltips on each. Two things folium does not do by itself, done here:

* **closed networks**: folium's default scripts and styles come from CDNs; here
  they are replaced by Leaflet and jQuery from the installed ``xstatic`` packages,
  inlined as data URIs, and no tile layer is added unless ``tiles`` is given;
* **names are data**: folium writes popup and tooltip text into HTML inside
  JavaScript template literals, unescaped, and renders its output as a Jinja
  template; every text here is escaped for all three (``& < > " '``, the backtick,
  ``$``, backslash and the braces ``{ }`` as HTML entities), so a name like
  ``</script><img src=x onerror=…>`` or ``{{ 7*191 }}`` shows literally and runs
  nothing.

The self-contained, CSP-locked page of :mod:`nisd.render.html` stays the export
for steering groups.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nisd.dataset import Dataset
from nisd.records.plan import Plan
from nisd.render.assets import leaflet_css, leaflet_js
from nisd.render.html import tile_source
from nisd.render.payload import group_places

if TYPE_CHECKING:  # pragma: no cover
    import folium

TYPE_COLOURS = {"core": "#1f4e9c", "regional": "#2a9d8f"}
CRIT_COLOURS = {"critical": "#b5179e", "high": "#f4a261", "normal": "#8d99ae"}


def safe(text: Any) -> str:
    """Text for folium's HTML-in-template-literal slots: shown literally, never run.

    >>> safe("</script>`${x}`")
    '&lt;/script&gt;&#96;&#36;&#123;x&#125;&#96;'
    >>> safe("{{7*191}}")
    '&#123;&#123;7*191&#125;&#125;'
    """
    out = html.escape(str(text), quote=True)
    for ch, entity in (
        ("\\", "&#92;"),
        ("`", "&#96;"),
        ("$", "&#36;"),
        ("{", "&#123;"),
        ("}", "&#125;"),
    ):
        out = out.replace(ch, entity)
    return out


def _data_uri(text: str, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(text.encode('utf-8')).decode('ascii')}"


def _jquery_js() -> str:
    import xstatic.pkg.jquery as jq

    base = Path(jq.BASE_DIR)
    for name in ("jquery.min.js", "jquery.js"):
        if (base / name).is_file():
            return (base / name).read_text(encoding="utf-8")
    raise FileNotFoundError("jquery.js not found in xstatic-jquery")  # pragma: no cover


def _table(rows: list[tuple[str, Any]]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:8px'>{safe(k)}</th><td>{safe(v)}</td></tr>"
        for k, v in rows
        if v not in (None, "")
    )
    return f"<table>{cells}</table>"


def explore(
    ds: Dataset,
    plan: Plan,
    *,
    tiles: str | None = None,
    width: str = "100%",
    height: str = "600px",
) -> folium.Map:
    """A folium map of a plan document on its dataset.

    Parameters
    ----------
    ds : Dataset
    plan : Plan
    tiles : str, optional
        A tile URL template for unclassified use; none by default (the basemap
        is the dataset's own county polygons).

    Returns
    -------
    folium.Map
    """
    import folium

    lon0, lat0, lon1, lat1 = ds.config.bbox
    m = folium.Map(
        location=[(lat0 + lat1) / 2, (lon0 + lon1) / 2],
        zoom_start=5,
        tiles=None,
        width=width,
        height=height,
    )
    m.default_js = [
        ("leaflet", _data_uri(leaflet_js(), "text/javascript")),
        ("jquery", _data_uri(_jquery_js(), "text/javascript")),
    ]
    m.default_css = [("leaflet_css", _data_uri(leaflet_css(), "text/css"))]
    if tiles:
        tile_source(tiles)  # an https template of a plain host and path, or refused
        folium.TileLayer(tiles, attr="tiles", name="tiles").add_to(m)
    counties = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": safe(r.name)},
                "geometry": r.geometry.__geo_interface__,
            }
            for r in ds.regions
            if r.kind == "county"
        ],
    }
    if counties["features"]:
        folium.GeoJson(
            counties,
            name="Counties",
            style_function=lambda _f: {
                "color": "#6c757d",
                "weight": 0.8,
                "fillColor": "#f1f3f5",
                "fillOpacity": 1,
            },
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(m)
    pos = {s.site_id: (s.lat, s.lon) for s in ds.sites}
    pos |= {n.node_id: (n.lat, n.lon) for n in ds.nodes}
    pos |= {d.demand_id: (d.lat, d.lon) for d in ds.demand}
    fibre = folium.FeatureGroup(name="Fibre links")
    for lk in ds.links:
        if lk.a in pos and lk.b in pos:
            folium.PolyLine(
                [pos[lk.a], pos[lk.b]],
                color="#495057",
                weight=2,
                opacity=0.7,
                tooltip=safe(f"{lk.link_id} ({', '.join(lk.srlg)})"),
            ).add_to(fibre)
    fibre.add_to(m)
    opened = dict(plan.sites)
    use = plan.use_by_site
    assignments = plan.assignments
    users: dict[str, list[str]] = {}
    for did, seq in assignments.items():
        name = ds.demand_by_id[did].name if did in ds.demand_by_id else did
        for r, sid in enumerate(seq):
            users.setdefault(sid, []).append(f"{name} ({'primary' if r == 0 else 'backup'})")
    cand = folium.FeatureGroup(name="Candidates not chosen", show=False)
    sites = folium.FeatureGroup(name="Opened sites")
    for s in ds.sites:
        typ = opened.get(s.site_id)
        if typ is None:
            folium.CircleMarker(
                [s.lat, s.lon], radius=3, color="#6c757d", fill=True, tooltip=safe(s.name)
            ).add_to(cand)
            continue
        u = use.get(s.site_id)
        rows = [
            ("id", s.site_id),
            ("county", s.county),
            ("power zone", s.power_zone),
            ("type", typ),
            ("capacity", u.capacity if u else None),
            ("primary load", u.primary_load if u else None),
            ("busiest crisis", u.peak_scenario if u else None),
            ("serves", ", ".join(sorted(users.get(s.site_id, [])))),
        ]
        folium.CircleMarker(
            [s.lat, s.lon],
            radius=10 if typ == "core" else 8,
            color="#000",
            weight=2,
            fill=True,
            fill_color=TYPE_COLOURS.get(typ, "#264653"),
            fill_opacity=0.95,
            tooltip=safe(s.name),
            popup=folium.Popup(f"<h4>{safe(s.name)}</h4>{_table(rows)}", max_width=400),
        ).add_to(sites)
    sites.add_to(m)
    demand = folium.FeatureGroup(name="Users (demand)")

    def served_by(did: str) -> str:
        seq = assignments.get(did, ())
        return " → ".join(ds.site_by_id[s].name if s in ds.site_by_id else s for s in seq)

    # one marker per place, as on the self-contained map (see group_places)
    for place in group_places(ds, {d.demand_id: (d.lat, d.lon) for d in ds.demand}):
        here = [ds.demand_by_id[i] for i in place.users]
        load = place.load
        if len(here) == 1:
            d = here[0]
            title = safe(d.name)
            rows = [
                ("id", d.demand_id),
                ("load", f"{d.load:g} racks"),
                ("criticality", d.criticality),
                ("served by", served_by(d.demand_id)),
            ]
            tip = safe(d.name)
        else:
            title = safe(f"{len(here)} users here, {load:.2f} racks")
            rows = [
                (
                    d.name,
                    f"{d.load:.2f} racks, {d.criticality}; served by "
                    + (served_by(d.demand_id) or "nobody"),
                )
                for d in here
            ]
            tip = safe(f"{here[0].name} and {len(here) - 1} more")
        folium.CircleMarker(
            [place.lat, place.lon],
            radius=3 + load**0.5,
            color=CRIT_COLOURS.get(place.criticality, "#555"),
            weight=1,
            fill=True,
            fill_opacity=0.5,
            tooltip=tip,
            popup=folium.Popup(f"<h4>{title}</h4>{_table(rows)}", max_width=400),
        ).add_to(demand)
    demand.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[lat0, lon0], [lat1, lon1]])
    return m
