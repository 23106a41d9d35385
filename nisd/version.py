"""nisd's version, on the lowest floor so that any module may record it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nisd")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
