"""bench: an adversarial-robustness benchmark harness with gradient-masking verdicts."""

__version__ = "0.1.0"
