"""Maps, reports and comparisons for steering groups: offline, safe, self-contained HTML.

Every page is drawn from records (:mod:`nisd.records`) and the dataset; nothing here
reads a file.
"""
