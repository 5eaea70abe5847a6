"""The attack registry: ``backend.name`` keys to lazily imported ``Attack`` classes.

Adding an attack:

1. Subclass ``bench.attacks.base.Attack`` and implement ``generate(model, x, y, eps)``
   for one batch: return adversarial inputs of ``x``'s shape. Do nothing else: the
   final ``Attack.__call__`` owns eval mode, seeding, batching, output checks,
   projection onto the eps-ball and [0, 1], and timing, and the pipeline judges
   success on the deployed model.
2. Declare what it is with class attributes: ``kind`` (``fixed_eps`` runs once per
   eps; ``min_norm`` runs once and counts at every eps its norm fits), ``norms``,
   ``default_tag`` (``naive`` or ``adaptive``), ``description``, and ``Params``, a
   subclass of ``AttackParams`` whose fields are the attack's parameters and whose
   ``cost()`` estimates passes per sample. Give the class a name unique in bench:
   logs print it.
3. Register it below as ``"backend.name": "module:Class"`` and give the key a
   family in ``bench.results.families``, so the masking checks and the leaderboard
   know what it is. Keep torch out of the module's import-time code (import it
   inside ``generate``), so that listing and validating stay torch-free.
4. ``tests/contract/test_attack_contract.py`` runs every registered attack through
   the contract (shape, bounds, mode restored, determinism); it must pass.

An attack from another package (a plug-in) does steps 1 and 2 in its own code and
declares an entry point in the group ``bench.attacks`` (``"mylib.name" = "module:Class"``),
or a suite lists a module that calls ``ATTACKS.register`` under ``plugins:``. Its family
comes from its name after the backend (``mylib.pgd`` is a ``pgd``), else it is a family
of its own. The contract test runs on it with ``--attack mylib.name``; see docs/plugins.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.registry import Registry

if TYPE_CHECKING:
    from bench.attacks.base import Attack

ATTACKS: Registry[type[Attack]] = Registry("attack", group="bench.attacks")

for _key, _target in {
    "torchattacks.fgsm": "bench.attacks.torchattacks_backend:TorchattacksFgsm",
    "torchattacks.pgd": "bench.attacks.torchattacks_backend:TorchattacksPgd",
    "torchattacks.pgdl2": "bench.attacks.torchattacks_backend:TorchattacksPgdL2",
    "torchattacks.cw": "bench.attacks.torchattacks_backend:TorchattacksCw",
    "torchattacks.deepfool": "bench.attacks.torchattacks_backend:TorchattacksDeepFool",
    "torchattacks.square": "bench.attacks.torchattacks_backend:TorchattacksSquare",
    "torchattacks.autoattack": "bench.attacks.torchattacks_backend:TorchattacksAutoAttack",
    "art.fgsm": "bench.attacks.art_backend:ArtFgsm",
    "art.pgd": "bench.attacks.art_backend:ArtPgd",
    "art.jsma": "bench.attacks.art_backend:ArtJsma",
    "art.cw_l2": "bench.attacks.art_backend:ArtCwL2",
    "art.deepfool": "bench.attacks.art_backend:ArtDeepFool",
    "art.hop_skip_jump": "bench.attacks.art_backend:ArtHopSkipJump",
    "aa.standard": "bench.attacks.autoattack:AutoAttackStandard",
    "aa.rand": "bench.attacks.autoattack:AutoAttackRand",
    "aa.apgd-ce": "bench.attacks.autoattack:ApgdCe",
    "aa.apgd-dlr": "bench.attacks.autoattack:ApgdDlr",
    "aa.square": "bench.attacks.autoattack:AaSquare",
    "bench.cw_l2": "bench.attacks.cw:CarliniWagnerL2",
    "bench.pgd_margin": "bench.attacks.pgd_margin:PgdMargin",
}.items():
    ATTACKS.register(_key, _target)
