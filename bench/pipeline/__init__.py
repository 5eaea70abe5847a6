"""The work: data, models, training, cells and where they execute. Every module here may import torch.

The runner plans a suite as cells and hands them to an executor; each cell writes
its outputs atomically under the run folder or the model store. The pipeline writes
records and the manifest; it never draws a report (that is ``bench.reporting``,
called by the ``bench run`` command).

Modules:

* ``runner``: Plans a suite as cells, executes those not done yet, and collects what happened.
* ``data/``: Data: datasets as float tensors in [0, 1] with seeded subsets and fingerprints, and the loaders that read files.
* ``models/``: Models: architectures, programs without code, defences before a network, the model store, and the checks before a run.
* ``training/``: Training: where a model is trained. ``fit`` runs one ``loop`` with a ``plain`` or an ``adversarial`` loss.
* ``cells/``: Cells: the small frozen values a run is made of, their keys, and their execution.
* ``measure/``: Measurements on a model: gradient-masking diagnostics, costs, and the binarization test of an attack.
* ``executors/``: Executors: where a run's cells execute. The cells, their order and their records do not change.
"""
