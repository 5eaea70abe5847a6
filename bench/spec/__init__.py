"""The suite spec: what to run, as frozen values.

* ``schema``: the pydantic models (a leaf; imports only pydantic).
* ``load``: YAML -> ``--set`` overrides -> validation -> cross-checks against the registries -> sweeps.
* ``sweep``: the one id scheme for seed and temperature copies.
* ``plan``: the cells of a suite, their order and their cost estimate.

This ``__init__`` imports nothing, so importing ``bench.spec.schema`` stays cheap.
"""
