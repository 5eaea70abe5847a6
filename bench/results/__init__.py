"""Everything computed from a run folder's records: pandas and numpy only, never torch.

Modules:

* ``run_folder``: The one reader of a run folder: what a run folder is, what it holds, and which cells are done.
* ``records``: Per-sample records, and the per-sample diagnostics beside them: the source of truth for every table, figure and check.
* ``metrics``: Pure functions from per-sample records to tables (pandas DataFrames).
* ``families``: What each registered attack *is*, for the checks and the leaderboard: its family and its role.
* ``flags``: Sanity and gradient-masking verdicts: pure functions of records, summary and diagnostics.
* ``audit``: The audit checks: AutoAttack's cheap model checks, cross-backend consistency, and the indicators of attack failure.
* ``seeds``: Pure functions that group results across models: seed replicates and temperature sweeps.
* ``tables``: The tables of one run, computed from its records (and diagnostics): what summary.csv and friends hold.
* ``details``: What an attack recorded about itself, per sample: its loss trace, which sub-attack broke each sample, ...
* ``examples``: A few clean and adversarial inputs per attack cell, so reports can show what an attack did.
* ``costs``: What each model of a run costs, read from the run folder's ``costs/*.json`` (one file per model and measurement).
"""
