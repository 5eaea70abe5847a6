"""Everything a person reads, drawn from ``bench.results`` alone: never torch.

``doc`` is the document model every report shares; ``markdown`` and ``html`` render it.

Modules:

* ``doc``: The document model shared by every report bench writes: sections, tables, figures and cell formatting.
* ``markdown``: Render a ``ReportDoc`` as GitHub-flavoured Markdown.
* ``html``: The run report as one self-contained HTML file: inline CSS, figures as base64 PNG data URIs.
* ``figures/``: Figures: drawn from DataFrames (never from files), each saved as PNG, SVG and PDF with the data it shows.
* ``report/``: The run report: a run's tables, figures, report.md, report.html and summary.md, answer first.
* ``leaderboard/``: The leaderboard: models ranked across run folders by per-sample worst-case robust accuracy, with their costs.
* ``gate/``: The robustness regression gate: baseline files, the comparison ``bench check`` makes, and how it prints.
* ``export/``: Exports for papers and other leaderboards: LaTeX and CSV tables, RobustBench entries.
* ``site/``: The browsable leaderboard site: static pages from run folders and RobustBench entries, offline, torch-free.
"""
