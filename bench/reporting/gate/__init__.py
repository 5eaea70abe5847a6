"""The robustness regression gate: baseline files, the comparison ``bench check`` makes, and how it prints.

Modules:

* ``compare``: The robustness regression gate: baseline files and the comparison ``bench check`` makes.
* ``output``: What ``bench check`` prints: the comparison as a text table, a GitHub job summary, JUnit XML and hints.
"""
