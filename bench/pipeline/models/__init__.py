"""Models: architectures, programs without code, defences before a network, the model store, and the checks before a run.

Modules:

* ``networks``: Architectures. Every model maps inputs in [0,1] to logits.
* ``cifar``: CIFAR-10 architectures. Both take inputs in [0, 1] and normalise inside, so eps stays in pixel space.
* ``external``: Models without their code: programs saved with ``torch.export`` (.pt2) or TorchScript (.pt).
* ``defences``: Defences as declared input transformations: a model's ``defence:`` steps, run before its network at inference.
* ``store``: A content-addressed store for trained models, safe to share between processes.
* ``preflight``: Checks a run makes before it writes anything: every model file loads and fits the data.
"""
