"""Exports for papers and other leaderboards: LaTeX and CSV tables, RobustBench entries.

Modules:

* ``paper``: Paper tables: a run's at-a-glance and defences tables as booktabs LaTeX (pandas' ``Styler.to_latex``) or as CSV.
* ``robustbench``: RobustBench entries: one ``model_info/<dataset>/<threat>/<Name>.json`` per model, with RobustBench's field names.
"""
