"""nisd: planning a national system of secure government datacenters.

nisd chooses which candidate sites to build, of which type, serving which
demand, so that the system stays up when sites, fibre routes, regions or a
whole power zone are lost.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nisd")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0+unknown"

from nisd import api
from nisd.api import *  # noqa: F403

__all__ = ["__version__", *api.__all__]
