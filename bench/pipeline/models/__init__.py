"""Models: the architectures, programs without code, the content-addressed model store, and the checks before a run.

Modules:

* ``networks``: Architectures. Every model maps inputs in [0,1] to logits.
* ``cifar``: CIFAR-10 architectures. Both take inputs in [0, 1] and normalise inside, so eps stays in pixel space.
* ``external``: Models without their code: programs saved with ``torch.export`` (.pt2) or TorchScript (.pt).
* ``store``: A content-addressed store for trained models, safe to share between processes.
* ``preflight``: Checks a run makes before it writes anything: every model file loads and fits the data.
"""
