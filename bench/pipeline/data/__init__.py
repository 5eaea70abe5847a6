"""Data: datasets as float tensors in [0, 1] with seeded subsets and fingerprints, and the loaders that read files.

Modules:

* ``bundle``: Datasets as float tensors in [0, 1], with deterministic subsets and fingerprints.
* ``arrays``: Data without code: the ``arrays`` dataset reads ``x_train, y_train, x_test, y_test`` from one ``.npz`` file.
* ``cifar10``: CIFAR-10 in torchvision's ``cifar-10-batches-py`` layout, md5-checked, read without running pickled code.
"""
