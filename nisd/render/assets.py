"""Leaflet, inlined: JavaScript and CSS from the ``xstatic-leaflet`` package, images as data URIs.

Nothing is fetched at run time; the map file carries everything it needs.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

from nisd.errors import NisdError


def _leaflet_dir() -> Path:
    try:
        import xstatic.pkg.leaflet as leaflet
    except ImportError:  # pragma: no cover - a core dependency
        raise NisdError("xstatic-leaflet is not installed; reinstall nisd") from None
    return Path(leaflet.BASE_DIR)


@cache
def leaflet_js() -> str:
    return (_leaflet_dir() / "leaflet.js").read_text(encoding="utf-8")


@cache
def leaflet_css() -> str:
    base = _leaflet_dir()
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(m: re.Match[str]) -> str:
        img = base / m.group(1)
        data = base64.b64encode(img.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)
    return css.replace("url(#default#VML)", "none")


def leaflet_version() -> str:
    import xstatic.pkg.leaflet as leaflet

    return str(leaflet.VERSION)
