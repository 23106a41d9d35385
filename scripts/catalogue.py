"""Keep the pages' message catalogues in step with the code.

Extracts every message the pages show (``tr("…")``, ``tr.n("…", "…", n)`` and ``N_("…")``
in ``nisd/render``, ``T("…")`` and ``F("…")`` in ``map.js``), keeps the translations each
catalogue already has, adds the new messages untranslated, drops those no longer used, and
lists what is left to translate. Exit 1 when anything is untranslated (``--check``
writes nothing)::

    python scripts/catalogue.py [--check]
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from nisd.render.html import map_messages
from nisd.render.i18n import LANGS, LOCALE_DIR, LOCALES

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"tr": None, "n": (1, 2), "N_": None}


def messages() -> list[str | tuple[str, str]]:
    """Every message of the pages, in a stable order."""
    found: dict[str | tuple[str, str], None] = {}
    method = [("**.py", "python")]
    for folder in ("render", "api"):
        for _file, _line, msg, _comments, _ctx in extract_from_dir(
            ROOT / "nisd" / folder, method_map=method, keywords=KEYWORDS
        ):
            if isinstance(msg, tuple):
                if msg[0] and msg[1]:
                    found[(msg[0], msg[1])] = None
            elif msg:
                found[msg] = None
    # messages inside f-strings, which the extractor does not read
    for path in sorted((ROOT / "nisd" / "render").glob("*.py")):
        if path.name == "i18n.py":  # its docstring's examples
            continue
        text = path.read_text(encoding="utf-8")
        for quote in ("'", '"'):
            pattern = rf"\btr\(\s*{quote}((?:[^{quote}\\\n]|\\.)+){quote}\s*[,)]"
            for m in re.findall(pattern, text):
                if "{" not in m or "}" in m:
                    found.setdefault(m, None)
    for m in map_messages():
        found.setdefault(m, None)
    return list(found)


def update(lang: str, check: bool) -> list[str]:
    """Bring ``lang``'s catalogue in step; the messages still untranslated."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "nisd.po"
    old = Catalog(locale=LOCALES[lang])  # type: ignore[index]
    if path.exists():
        with path.open("rb") as f:
            old = read_po(f, locale=LOCALES[lang])  # type: ignore[index]
    new = Catalog(
        locale=LOCALES[lang],  # type: ignore[index]
        project="nisd",
        header_comment="# nisd pages in this language (kept in step by scripts/catalogue.py)",
    )
    missing = []
    for msg in messages():
        have = old.get(msg)
        string = have.string if have is not None else ("", "") if isinstance(msg, tuple) else ""
        new.add(msg, string)
        if not (all(string) if isinstance(string, tuple) else string):
            missing.append(msg if isinstance(msg, str) else msg[0])
    if not check:
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        write_po(buf, new, width=0, omit_header=False, sort_output=False)
        path.write_bytes(buf.getvalue())
    return missing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if untranslated")
    args = ap.parse_args()
    bad = False
    for lang in LANGS:
        if lang == "en":
            continue
        missing = update(lang, args.check)
        for m in missing:
            print(f"{lang}: untranslated: {m!r}")
        bad = bad or bool(missing)
        print(f"{lang}: {len(messages())} messages, {len(missing)} untranslated")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
