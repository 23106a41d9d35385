"""A failure scenario as the served-load evaluator saw it: the one row shape of every plan,
attack, map and report."""

from __future__ import annotations

from pydantic import Field

from nisd.records.base import Record


class ClassShare(Record):
    """The smallest share of one class served, and the scenario that leaves it."""

    share: float
    scenario: str


class ScenarioRow(Record):
    """One failure scenario as the served-load evaluator saw it (capacity-true).

    Shares are of the class's whole load (``served_by_class``, None for a class with
    no load) and of the load of the users still connected (``reachable_*``: what the
    plan's sites can change); ``cut_off`` users reach no surviving site (or, with
    ``crisis.islands = "skip"``, are on an island apart from the national network),
    ``islanded`` are on such an island whether skipped or not.
    """

    scenario: str
    kind: str = ""
    meaning: str = ""
    levels: dict[str, float] | None = None
    levels_met: bool | None = None
    demand_served_share: float
    served_by_class: dict[str, float | None] = Field(default_factory=dict)
    reachable_share: float | None = None
    reachable_by_class: dict[str, float | None] = Field(default_factory=dict)
    load_lost: float = 0.0
    unserved: tuple[str, ...] = ()
    partly_served: dict[str, float] = Field(default_factory=dict)
    cut_off: tuple[str, ...] = ()
    islanded: tuple[str, ...] = ()
    sites_down: tuple[str, ...] = ()
    site_load: dict[str, float] = Field(default_factory=dict)
    full_sites: tuple[str, ...] = ()

    def served(self, cls: str) -> float | None:
        """The share of class ``cls``'s load served (None: the class has no load)."""
        return self.served_by_class.get(cls)


class AttackRow(ScenarioRow):
    """One attack (its targets, as ``kind:id``, and its cost) and what it leaves served."""

    targets: tuple[str, ...]
    cost: float = 0.0
