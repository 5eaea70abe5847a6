"""A worked bench plug-in package: one architecture, one dataset and one attack.

Installed (``pip install -e examples/bench-example``), its entry points put the keys
``example-gated-mlp``, ``example-stripes`` and ``example.bim`` into ``bench ls``. Not
installed, a suite can name ``bench_example.plugin`` under ``plugins:`` instead, with
``src/`` on ``PYTHONPATH``. See docs/plugins.md in bench.
"""

__version__ = "0.1.0"
