"""nisd: planning a national system of secure government datacenters.

nisd chooses which candidate sites to build, of which type, serving which
demand, so that the system stays up when sites, fibre routes, regions or a
whole power zone are lost.
"""

from nisd import api
from nisd.api import *  # noqa: F403
from nisd.version import __version__

__all__ = ["__version__", *api.__all__]
