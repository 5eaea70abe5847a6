"""Unit tests, one file per bench module, named after it, so a reader finds a module's tests by name.

* ``test_<module>.py`` tests the module of that name in ``bench.layout.PACKAGES``: ``test_flags.py`` tests
  ``bench.results.flags``, ``test_keys.py`` tests ``bench.pipeline.cells.keys``.
* A name that two modules (or a module and a package) share takes the name of the package it is in:
  ``test_results_costs.py``, ``test_measure_costs.py``, ``test_leaderboard_costs.py`` and ``test_report_costs.py``;
  ``test_results_audit.py``; ``test_results_examples.py`` and ``test_figures_examples.py``;
  ``test_catalogue_attacks.py`` (``bench.attacks`` is a package); ``test_commands_leaderboard.py``
  (``bench.reporting.leaderboard`` is a package);
  ``test_models_defences.py`` and ``test_report_defences.py``.
* So does a name a file in tests/integration already has: the test folders are not packages, so pytest imports
  every test file under its bare name, and two files of one name clash (``test_executors_dask.py``, beside
  tests/integration/test_dask.py).
* A package's own ``__init__`` is tested in ``test_<package>.py`` (``test_executors.py``).
* A test that reaches several modules lives in the file of the one it is about; one that runs the whole
  pipeline lives in tests/integration. ``test_layers.py`` checks bench's import graph, not one module.
* Code that several test files share is in tests/helpers, imported as ``helpers.<module>``; fixtures that
  several folders share are in tests/conftest.py.
"""
