"""Everything a person reads, drawn from ``bench.results`` alone: never torch.

* ``doc``: the document model (sections, tables, cell formatting); ``markdown`` and ``html`` render it.
* ``figures`` and ``example_grid``: the figures, each returned with the data it shows.
* ``run_report``: a run's tables, figures, report.md/html and summary.md.
* ``leaderboard``: models ranked across runs; ``gate``: baselines and ``bench check``.
"""
