"""The pages' language: one message catalogue per language, numbers formatted by babel.

English is the source language: a message's id is its English text, with ``{name}``
fields. Other languages have a gettext catalogue, ``nisd/locale/<lang>/LC_MESSAGES/
nisd.po``, read with babel when a page is drawn (no compiled files to keep in step).
Numbers, shares and money are formatted by babel for the language's locale (Swedish:
``315,75``, ``82,6 %``, a no-break space between thousands); nothing here formats a number
by hand.

A :class:`Tr` remembers the messages it did not find (``missing``): the tests draw every
page in Swedish and fail on any.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, cast

from babel.core import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from nisd.errors import InputError, Problem

Lang = Literal["sv", "en"]
LANGS: tuple[Lang, ...] = ("sv", "en")
LOCALES: dict[Lang, str] = {"sv": "sv_SE", "en": "en_GB"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@lru_cache(maxsize=4)
def catalogue(lang: str) -> Catalog:
    """The message catalogue of ``lang`` (read once)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "nisd.po"
    with path.open("rb") as f:
        return read_po(f, locale=LOCALES[cast(Lang, lang)])


def lang_of(value: str | None, default: str = "en", option: str = "--lang") -> Lang:
    """A page language from an option (None: ``default``, the dataset's).

    Raises
    ------
    InputError
        A language nisd has no catalogue for.
    """
    v = (value or default).strip().lower()
    if v not in LANGS:
        raise InputError([Problem(option, f"{v!r} is not one of {', '.join(LANGS)}")])
    return cast(Lang, v)


def N_(msgid: str) -> str:  # noqa: N802 (gettext's name for a marker)
    """Mark a message for the catalogue where it is defined and translated later."""
    return msgid


# hazard classes of the data, as pages name them
HAZARD_CLASSES = {
    "naval_base": N_("naval bases"),
    "military": N_("garrisons and command regiments"),
    "flood": N_("flood risk areas"),
    "dam_break": N_("dam-break corridors"),
    "chemical": N_("Seveso plants and refineries"),
    "nuclear": N_("nuclear power plants"),
    "nuclear_small": N_("smaller nuclear installations"),
    "airport": N_("airports"),
    "air_base": N_("military airfields"),
    "coast": N_("the coast"),
    "land_border": N_("the land border"),
}

# words that come from the model and the data's conventions, shown on pages
WORDS = (
    N_("critical"),
    N_("high"),
    N_("normal"),
    N_("core"),
    N_("regional"),
    N_("optimal"),
    N_("feasible"),
    N_("infeasible"),
    N_("cost"),
    N_("site"),
    N_("node"),
    N_("srlg"),
    N_("single-site"),
    N_("single-node"),
    N_("single-link"),
    N_("county"),
    N_("power-zone"),
    N_("presets"),
    N_("hazards"),
    N_("low"),
    N_("high"),
    N_("red"),
    N_("green"),
    N_("MSEK/year"),
    N_("ms"),
    N_("racks"),
    N_("km"),
    N_("and"),
    N_("n/a"),
    N_("yes"),
    N_("no"),
)


class Tr:
    """Messages and numbers in one language: ``tr("Cost")``, ``tr("{n} sites", n=3)``,
    ``tr.n("{n} site", "{n} sites", 3)``, ``tr.num(315.75)``, ``tr.pct(0.826)``."""

    def __init__(self, lang: Lang = "en") -> None:
        self.lang: Lang = lang
        self.locale = LOCALES[lang]
        self._cat: Catalog | None = catalogue(lang) if lang != "en" else None
        self.missing: set[str] = set()
        pattern = Locale.parse(self.locale).percent_formats[None].pattern
        self._pct = pattern.replace("#,##0", "#,##0.0", 1)

    def __call__(self, msgid: str, **fields: object) -> str:
        text = msgid
        if self._cat is not None and msgid:
            m = self._cat.get(msgid)
            if m is not None and isinstance(m.string, str) and m.string:
                text = m.string
            else:
                self.missing.add(msgid)
        return text.format(**fields) if fields else text

    def lookup(self, msgid: str) -> str | None:
        """The translation of ``msgid`` if the catalogue has one (English: itself); a miss
        is not recorded (for words that come from data)."""
        if self._cat is None:
            return msgid
        m = self._cat.get(msgid)
        return m.string if m is not None and isinstance(m.string, str) and m.string else None

    def n(self, singular: str, plural: str, count: int, **fields: object) -> str:
        """The singular or plural message for ``count`` (``{n}`` is the count)."""
        text = singular if count == 1 else plural
        if self._cat is not None:
            m = self._cat.get((singular, plural))
            if m is not None and isinstance(m.string, tuple) and all(m.string):
                forms = m.string
                text = forms[0] if count == 1 else forms[min(1, len(forms) - 1)]
            else:
                self.missing.add(singular)
        return text.format(n=count, **fields)

    def num(self, v: float | int | None, digits: int = 2) -> str:
        """A number with ``digits`` decimals (``n/a`` for None)."""
        if v is None:
            return self("n/a")
        fmt = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(v, format=fmt, locale=self.locale)

    def g(self, v: float | int | None) -> str:
        """A number with as many decimals as it has (up to three)."""
        if v is None:
            return self("n/a")
        return format_decimal(round(float(v), 3), format="#,##0.###", locale=self.locale)

    def pct(self, share: float | None) -> str:
        """A share as a percentage with one decimal (``82,6 %``)."""
        if share is None:
            return self("n/a")
        return format_percent(share, format=self._pct, locale=self.locale)

    def msek(self, v: float | None, per_year: bool = True) -> str:
        """Money in MSEK (``315,75 MSEK/år``)."""
        if v is None:
            return self("n/a")
        unit = self("MSEK/year") if per_year else "MSEK"
        return f"{self.num(v)} {unit}"

    def join(self, items: list[str]) -> str:
        """``a, b and c`` in the language."""
        if not items:
            return ""
        if len(items) == 1:
            return items[0]
        return ", ".join(items[:-1]) + " " + self("and") + " " + items[-1]


EN = Tr("en")

__all__ = ["EN", "LANGS", "N_", "WORDS", "Lang", "Tr", "catalogue", "lang_of"]
