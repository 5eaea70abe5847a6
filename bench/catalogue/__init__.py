"""The catalogues: torch-free maps from the keys a suite names to the code behind them.

A catalogue says what the spec needs to know before anything is built (which
attacks, architectures and datasets exist, and their static facts), so validating
a suite or listing keys imports no torch. The code itself is imported on first use.

Modules:

* ``attacks``: The attack registry: ``backend.name`` keys to lazily imported ``Attack`` classes.
* ``architectures``: The architecture registry: torch-free cards that point lazily at ``nn.Module`` classes.
* ``datasets``: The dataset registry: loaders that return raw arrays (numpy only, no torch).
"""
