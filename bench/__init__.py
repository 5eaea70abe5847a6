"""bench: an adversarial-robustness benchmark harness with gradient-masking verdicts.

The layers, arrows one way (``tests/unit/test_layers.py`` states the same, with no exceptions):
the utilities and catalogues <- ``spec`` <- ``pipeline`` -> ``results`` <- ``reporting``;
``pipeline`` -> ``attacks`` -> ``spec.schema``; ``commands`` use them all.

Modules:

* ``__main__``: ``python -m bench``.
* ``cli``: The ``bench`` command group; each subcommand lives in ``bench.commands``.
* ``errors``: Domain errors. The CLI turns every ``BenchError`` into a one-line message.
* ``registry``: A registry maps ``backend.name`` keys to lazily imported objects, and knows where each came from.
* ``fsutil``: Atomic file writes and canonical hashing; torch-free, so light commands stay fast.
* ``layout``: The map of bench's modules: one list, from which every package docstring's map and the docs' layout page are drawn.
* ``catalogue/``: The catalogues: torch-free maps from the keys a suite names to the code behind them.
* ``spec/``: The suite spec: what to run, as frozen values.
* ``attacks/``: Attacks: the contract every attack passes through (``base``), one adapter per backend, bench's own attacks, and views.
* ``pipeline/``: The work: data, models, training, cells and where they execute. Every module here may import torch.
* ``results/``: Everything computed from a run folder's records: pandas and numpy only, never torch.
* ``reporting/``: Everything a person reads, drawn from ``bench.results`` alone: never torch.
* ``commands/``: One module per CLI subcommand, plus the shared error decorator.
"""

__version__ = "0.1.0"
