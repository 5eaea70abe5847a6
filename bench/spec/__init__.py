"""The suite spec: what to run, as frozen values.

This ``__init__`` imports nothing, so importing ``bench.spec.schema`` stays cheap.

Modules:

* ``schema``: The suite spec's vocabulary: frozen, validated pydantic models (a leaf: pydantic only).
* ``load``: YAML -> overrides -> validation -> cross-checks against the registries -> sweep expansion.
* ``sweep``: Sweeps: a suite's ``temperatures`` and ``seeds`` expand into plain models.
* ``plan``: The plan of a suite: which cells it has, in which order, and roughly what they cost.
"""
