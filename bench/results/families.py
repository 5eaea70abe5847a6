"""What each registered attack *is*, for the checks and the leaderboard: its family and its role.

Records name an attack by its registry key (``use``). The masking checks need
to know which attacks are single-step, iterative, gradient-free, or expected to
reach 100% without a budget; the leaderboard groups attacks of one family
across backends (``art.cw_l2`` and ``bench.cw_l2`` are both ``cw``). One table
answers both, and a test checks that every registry key has a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["single-step", "iterative", "gradient-free", "minimum-norm", "other"]
TRANSFER = "transfer"


@dataclass(frozen=True)
class Family:
    """An attack's family (a leaderboard column) and its role in the sanity checks."""

    name: str
    role: Role
    # Unbounded, it should break ~every sample (C&W, DeepFool); JSMA caps the pixels it changes, so it need not.
    reaches_all: bool = False
    # Never sees a gradient (a minimum-norm decision-based attack has role minimum-norm and this flag).
    gradient_free: bool = False


FAMILIES: dict[str, Family] = {
    "torchattacks.fgsm": Family("fgsm", "single-step"),
    "art.fgsm": Family("fgsm", "single-step"),
    "torchattacks.pgd": Family("pgd", "iterative"),
    "torchattacks.pgdl2": Family("pgd", "iterative"),
    "art.pgd": Family("pgd", "iterative"),
    "bench.pgd_margin": Family("pgd_margin", "iterative"),
    "torchattacks.square": Family("square", "gradient-free", gradient_free=True),
    "torchattacks.cw": Family("cw", "minimum-norm", reaches_all=True),
    "art.cw_l2": Family("cw", "minimum-norm", reaches_all=True),
    "bench.cw_l2": Family("cw", "minimum-norm", reaches_all=True),
    "torchattacks.deepfool": Family("deepfool", "minimum-norm", reaches_all=True),
    "art.deepfool": Family("deepfool", "minimum-norm", reaches_all=True),
    "art.jsma": Family("jsma", "minimum-norm"),
    # AutoAttack: the cascade and its parts. APGD is iterative; Square and HopSkipJump never see a gradient.
    "aa.standard": Family("autoattack", "iterative"),
    # For randomized models: APGD-CE and APGD-DLR with EOT; its own column, as it is not the standard version.
    "aa.rand": Family("autoattack-rand", "iterative"),
    "aa.apgd-ce": Family("apgd", "iterative"),
    "aa.apgd-dlr": Family("apgd", "iterative"),
    "aa.square": Family("square", "gradient-free", gradient_free=True),
    # A re-implementation at 10 steps: its own column, so that it is never read as AutoAttack.
    "torchattacks.autoattack": Family("autoattack-torchattacks", "iterative"),
    # Decision-based: minimises the norm from labels alone; a reduced budget need not reach every sample.
    "art.hop_skip_jump": Family("hop_skip_jump", "minimum-norm", gradient_free=True),
}


def family_of(use: str) -> Family:
    """The family of a registry key.

    An unlisted key (a plug-in's or a test's attack) takes the family of a listed
    key with the same name after the backend (``mylib.pgd`` is a ``pgd``); any other
    is a family of its own with role ``other``, which no sanity check relies on.
    """
    if use in FAMILIES:
        return FAMILIES[use]
    name = use.split(".", 1)[-1]
    same = [fam for key, fam in FAMILIES.items() if key.split(".", 1)[-1] == name]
    return same[0] if same else Family(name, "other")


def family_name(use: str, source: str = "") -> str:
    """The leaderboard column of an attack: its family, or ``transfer`` when it was crafted on another model."""
    return TRANSFER if source else family_of(use).name
