"""Helpers shared by the unit and the integration tests, imported as ``helpers.<module>`` (``pythonpath = ["tests"]`` in pyproject.toml)."""
