"""Cells: the small frozen values a run is made of, their keys, and their execution.

A cell holds what to compute and the content keys of its inputs. ``execute`` runs any
cell from that and a workspace's paths alone, so it runs the same in this process, in a
fresh one, or on another machine. Every cache key is computed in ``keys``.

Modules:

* ``values``: The cells a run is made of: small frozen values, each computed by ``bench.pipeline.cells.execute.execute``.
* ``keys``: Every cache key bench computes: of a trained model, a clean shard, diagnostics, an attack shard, a cost file, a Dask task.
* ``build``: How the cells of a run are built: the one place that fills in each cell's runtime and code digest.
* ``execute``: The one entry point that runs any cell (``execute``), after checking it was planned with this process's libraries and code.
* ``train``: The train cell: obtain one model from its checkpoint, a program file or the model store, or train it and store it.
* ``evaluate``: The evaluate cell: a model's clean records on the whole test split, and its gradient-masking diagnostics.
* ``attack``: The attack cell: one attack on one model, judged on the deployed model's own prediction; its per-sample records shard.
* ``cost``: The cost cell: what one model costs (size, FLOPs, latency measured here and now, its and its teachers' training).
* ``workspace``: Where cells run: the paths they need, plus in-process caches that never change a result.
* ``provenance``: What produced a run: versions, git commit, device, seeds and times.
"""
