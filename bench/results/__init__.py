"""Everything computed from a run folder's records: pandas and numpy only, never torch.

* ``run_folder``: the one reader of a run folder (manifest, records, diagnostics, flags, done cells).
* ``records``: the per-sample record schema, shards, reserved ids and the minimum-norm budget rule.
* ``metrics``: rates with Wilson intervals, the per-sample worst case, naive vs adaptive, common eps.
* ``families``: what each registered attack is (family, role) for the flags and the leaderboard.
* ``flags``: the sanity and gradient-masking verdicts (docs/flags.md); ``audit``: the audit checks; ``grading``: their
  rows and the one rule that grades a value against a check's thresholds.
* ``seeds``: aggregates across seed replicates; ``examples``: the optional example images.
"""
