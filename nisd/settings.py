"""Settings models: ``dataset.toml`` and the strict base of every configuration.

Unknown keys are rejected with their name, so a misspelt setting never
silently falls back to a default. This module sits below everything else
(the dataset, the readers, the optimiser's scenario files all use it).
"""

from __future__ import annotations

import re
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pyproj import CRS
from pyproj.exceptions import CRSError

from nisd.errors import Problem

M = TypeVar("M", bound=BaseModel)
_TYPE_TAG = re.compile(r"^(float|int|str|bool|list\[.*\]|dict\[.*\]|tuple\[.*\])$")


# Unicode's bidirectional controls reorder the text around them on a page (a name ending
# in U+202E showed the cost 85.91 as "19.58"); other control characters (tabs and line
# breaks included) have no place in a name, an id or a label either
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def control_characters(text: str) -> str | None:
    """Why ``text`` cannot be a name or label (a control character in it), or None."""
    bad = _CONTROL.search(text)
    if bad is None:
        return None
    return (
        f"contains the control character U+{ord(bad.group()):04X}, which would change how "
        "the text around it shows on a page"
    )


def check_texts(value: Any) -> Any:
    """``value`` when no text in it (keys included) holds a control character.

    Raises
    ------
    ValueError
    """
    if isinstance(value, str):
        why = control_characters(value)
        if why:
            raise ValueError(why)
    elif isinstance(value, dict):
        for k, v in value.items():
            check_texts(k)
            check_texts(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            check_texts(v)
    return value


def validation_problems(file: str, exc: ValidationError) -> list[Problem]:
    """One :class:`~nisd.errors.Problem` per pydantic error, naming the key path."""
    out = []
    errors = exc.errors()
    # a value of a union type (a number, or a table by year) is reported once per member
    # type; the member tags leave the key, and "not a table" goes when the number is wrong
    keys = [".".join(str(p) for p in e["loc"] if not _TYPE_TAG.match(str(p))) for e in errors]
    wrong_value = {k for k, e in zip(keys, errors, strict=True) if not e["type"].endswith("_type")}
    for key_text, err in zip(keys, errors, strict=True):
        if err["type"].endswith("_type") and any(
            w == key_text or w.startswith(key_text + ".") for w in wrong_value
        ):
            continue
        key = key_text or None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{key}'"
        elif err["type"] == "missing":
            msg = f"required key '{key}' is missing"
        elif err["type"] == "finite_number":
            msg = f"{key} must be a finite number (not NaN or infinity)"
        out.append(Problem(file, msg, column=key, unit="key"))
    return out


def parse_model(
    model: type[M], data: dict[str, Any], file: str, problems: list[Problem]
) -> M | None:
    """Validate ``data`` as ``model``; on failure append problems and return ``None``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(validation_problems(file, exc))
        return None


def non_negative(v: dict[str, float]) -> dict[str, float]:
    """A table of money by key, every value at least 0 (the key named otherwise)."""
    for k, c in v.items():
        if c < 0:
            raise ValueError(f"{k} = {c:g} must not be negative")
    return v


class Strict(BaseModel):
    """Base for configuration models: frozen, unknown keys rejected, every number finite
    (NaN or infinity would switch a rule off: ``x < nan`` is always false)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _texts(cls, v: Any) -> Any:
        return check_texts(v)


class NetworkSettings(Strict):
    """How fibre lengths and latency are derived."""

    route_factor: float = Field(1.3, ge=1.0, le=5.0)
    propagation_us_per_km: float = Field(4.9, gt=0)
    hop_delay_ms: float = Field(0.05, ge=0)
    access_links: int = Field(2, ge=1, le=10)
    access_max_km: float = Field(400.0, gt=0)


class LatencyClass(Strict):
    """One-way latency bounds in ms for a class of demand."""

    primary_ms: float = Field(gt=0)
    backup_ms: float = Field(gt=0)
    crisis_ms: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> LatencyClass:
        if self.backup_ms < self.primary_ms:
            raise ValueError("backup_ms must not be smaller than primary_ms")
        return self


class Criticality(Strict):
    """Criticality levels, most critical first."""

    levels: tuple[str, ...] = ("critical", "high", "normal")

    @field_validator("levels")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v or len(set(v)) != len(v):
            raise ValueError("levels must be a non-empty list without repeats")
        return v


class DemandSettings(Strict):
    default_latency_class: str | None = None


class TcoSettings(Strict):
    """Cost lines beyond the buildings, for a total cost of ownership (each a labelled
    assumption or a figure with its ``source``): staff per site (by site type), hardware
    and its operation per rack of load, network per site; MSEK a year."""

    staff_msek_per_site: dict[str, float] = Field(default_factory=dict)
    hardware_msek_per_rack: float = Field(0.0, ge=0)
    network_msek_per_site: float = Field(0.0, ge=0)
    source: str = ""

    @field_validator("staff_msek_per_site")
    @classmethod
    def _staff(cls, v: dict[str, float]) -> dict[str, float]:
        return non_negative(v)


class DatasetConfig(Strict):
    """The contents of ``dataset.toml``."""

    name: str
    country: str = ""
    # the language of the pages drawn from this data (nisd report --lang overrides it)
    language: Literal["sv", "en"] = "en"
    bbox: tuple[float, float, float, float]
    crs: str
    network: NetworkSettings = NetworkSettings()
    latency_classes: dict[str, LatencyClass] = Field(
        default_factory=lambda: {
            "standard": LatencyClass(primary_ms=10.0, backup_ms=20.0, crisis_ms=25.0)
        }
    )
    criticality: Criticality = Criticality()
    demand: DemandSettings = DemandSettings()
    tco: TcoSettings | None = None

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, v: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        lon0, lat0, lon1, lat1 = v
        if not (-180 <= lon0 < lon1 <= 180 and -90 <= lat0 < lat1 <= 90):
            raise ValueError("bbox must be [lon_min, lat_min, lon_max, lat_max] in degrees")
        return v

    @field_validator("crs")
    @classmethod
    def _crs(cls, v: str) -> str:
        try:
            crs = CRS.from_user_input(v)
        except CRSError as exc:
            raise ValueError(f"unknown CRS {v!r}: {exc}") from None
        if not crs.is_projected:
            raise ValueError(f"{v} is not a projected (metric) CRS; e.g. EPSG:3006 for Sweden")
        return v

    @model_validator(mode="after")
    def _default_class(self) -> DatasetConfig:
        d = self.demand.default_latency_class
        if d is not None and d not in self.latency_classes:
            raise ValueError(
                f"demand.default_latency_class {d!r} is not in latency_classes "
                f"({', '.join(self.latency_classes)})"
            )
        return self

    @property
    def default_latency_class(self) -> str:
        return self.demand.default_latency_class or next(iter(self.latency_classes))
