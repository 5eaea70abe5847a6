"""Measurements on a model: gradient-masking diagnostics, costs, and the binarization test of an attack.

Modules:

* ``diagnostics``: Per-sample gradient-masking diagnostics computed on a model (the only checks that need it).
* ``costs``: What a model costs: its size, its compute per sample and its inference latency, measured on the model itself.
* ``binarization``: The binarization test (Zimmermann, Brendel, Tramèr, Carlini, NeurIPS 2022): an attack unit test.
* ``remeasure``: Measure a finished run's costs again (``bench costs``): stored models only, nothing trained, no record touched.
"""
