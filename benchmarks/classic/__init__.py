"""Classic location models (p-median, p-center, uncapacitated facility location) on a cost
matrix, and readers of Beasley's OR-Library instances: what ``benchmarks/orlib.py`` times
nisd's solver layer with, against the instances' known optima and against spopt.

They live beside the benchmarks, not in the package: ``nisd plan`` never calls them. The
tests import them from here to check the solver layer against known optima.
"""
