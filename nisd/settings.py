"""Settings models: ``dataset.toml`` and the strict base of every configuration.

Unknown keys are rejected with their name, so a misspelt setting never
silently falls back to a default. This module sits below everything else
(the dataset, the readers, the optimiser's scenario files all use it).
"""

from __future__ import annotations

from typing import Any, TypeVar

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


def validation_problems(file: str, exc: ValidationError) -> list[Problem]:
    """One :class:`~nisd.errors.Problem` per pydantic error, naming the key path."""
    out = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or None
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


class Strict(BaseModel):
    """Base for configuration models: frozen, unknown keys rejected, every number finite
    (NaN or infinity would switch a rule off: ``x < nan`` is always false)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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


class DatasetConfig(Strict):
    """The contents of ``dataset.toml``."""

    name: str
    country: str = ""
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
