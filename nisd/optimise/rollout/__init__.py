"""Program 2032 over time: the multi-period placement model (a roll-out), in stages:
the years (:mod:`.years`), the model (:mod:`.model`), solving in rounds (:mod:`.solve`),
the links between years checked from the plans alone (:mod:`.check`), why none exists
(:mod:`.explain`), and the record (:mod:`.pipeline`)."""

from nisd.optimise.rollout.pipeline import rollout

__all__ = ["rollout"]
