"""The attack registry: ``backend.name`` keys to lazily imported ``Attack`` classes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.registry import Registry

if TYPE_CHECKING:
    from bench.attacks.base import Attack

ATTACKS: Registry[type[Attack]] = Registry("attack")

for _key, _target in {
    "torchattacks.fgsm": "bench.attacks.torchattacks_backend:Fgsm",
    "torchattacks.pgd": "bench.attacks.torchattacks_backend:Pgd",
    "torchattacks.pgdl2": "bench.attacks.torchattacks_backend:PgdL2",
    "torchattacks.cw": "bench.attacks.torchattacks_backend:Cw",
    "torchattacks.deepfool": "bench.attacks.torchattacks_backend:DeepFool",
    "torchattacks.square": "bench.attacks.torchattacks_backend:Square",
    "art.fgsm": "bench.attacks.art_backend:Fgsm",
    "art.pgd": "bench.attacks.art_backend:Pgd",
    "art.jsma": "bench.attacks.art_backend:Jsma",
    "art.cw_l2": "bench.attacks.art_backend:CwL2",
    "art.deepfool": "bench.attacks.art_backend:DeepFool",
    "bench.cw_l2": "bench.attacks.cw:CarliniWagnerL2",
    "bench.pgd_margin": "bench.attacks.pgd_margin:PgdMargin",
}.items():
    ATTACKS.register(_key, _target)
