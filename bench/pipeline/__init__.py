"""The work: data, models, training, the model store, diagnostics, provenance, cells and the runner.

The registries of datasets (``datasets``) and architectures (``architectures``) are
torch-free catalogs that the spec checks keys against; every other module here
may import torch. The pipeline writes records and the manifest; it never draws
a report (that is ``bench.reporting``, called by the ``bench run`` command).
"""
