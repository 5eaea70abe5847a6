"""The browsable leaderboard site: static pages from run folders and RobustBench entries, offline, torch-free.

Modules:

* ``build``: ``build_site``: a static site from run folders and RobustBench entries, written to one folder that needs nothing else.
* ``runs``: The run folders a site shows: each run's leaderboard data, its manifest, where its files go, and its models' claims.
* ``index``: The site's index: one sortable, filterable table per comparable group, then the reported rows, notes and runs.
* ``model``: A model's page: where it stands, what it claims, how it was built and attacked, every check, and where it came from.
* ``reported``: RobustBench entries read as reported rows: numbers a site lists beside bench's own, never ranks with them.
* ``pages``: The site's page shell and the few HTML pieces every page uses; every string that reaches a page is escaped here.
* ``assets``: The site's stylesheet and its one script, inlined into every page: nothing is fetched, so file:// works offline.
"""
