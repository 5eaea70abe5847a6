"""The heavy packages: torch and the attack libraries, which the spec, results and reporting layers and the light commands never import."""

from __future__ import annotations

HEAVY = ("torch", "torchvision", "torchattacks", "art")
