"""The run report: a run's tables, figures, report.md, report.html and summary.md, answer first.

Modules:

* ``run_report``: A run's tables, figures and reports, drawn from its run folder's records alone.
* ``defences``: The answer first: the report's "At a glance" and "Defences" sections, and the defences figure.
* ``claims``: Claimed vs measured: what a defence's paper reports (``ModelSpec.claimed``) beside bench's own number.
* ``audit``: The audit part of a run report: AutoAttack's breakdown, the failure indicators, the binarization test, loss traces.
* ``costs``: What each model costs, in the report: the Cost section's table and the accuracy-vs-size figure.
"""
