"""The cells a run is made of: small frozen values, each computed by ``bench.pipeline.work.execute``.

* ``TrainCell``: obtain one model (from the store, a checkpoint file, or training).
* ``EvalCell``: a trained model's clean predictions on the test split, and its masking diagnostics.
* ``AttackCell``: one attack on one model; its per-sample records shard.

A cell holds what to compute and the content keys of its inputs: the slice of
the spec it needs, the weights digest of each model it uses, the fingerprints
of its data and its seed. ``bench.pipeline.work.execute(cell, workspace)``
computes one from that and the paths of a ``Workspace`` (data roots, model
store, run folder) alone, so it can run in this process, in a fresh one, or on
another machine, and give the same shard.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.attacks import ATTACKS
from bench.fsutil import canonical_hash
from bench.results.records import CLEAN, shard_name
from bench.spec.schema import AttackSpec, ModelSpec

if TYPE_CHECKING:
    from torch import Tensor

# Bump when training or attack code changes what a cached artifact would contain.
TRAIN_VERSION = 1
ATTACK_VERSION = 1
DIAG_VERSION = 1


@dataclass(frozen=True)
class DataRef:
    """Which data a cell uses, and the fingerprints the loaded data must have."""

    name: str
    seed: int
    train_size: int | None
    eval_size: int
    train_fingerprint: str
    eval_fingerprint: str
    test_fingerprint: str


@dataclass(frozen=True)
class ModelRef:
    """A trained model as later cells see it: where to load it from and the digest its weights must have."""

    id: str
    arch: str
    key: str  # the recipe's key: finds the model in the store
    weights: str  # sha256 of the weights: keys every result computed from the model
    checkpoint: str | None = None  # a user's weights file, loaded instead of the store


@dataclass(frozen=True)
class TrainCell:
    """Obtain one model: from the store when its recipe was trained before, else train (or load its checkpoint)."""

    model: ModelSpec
    data: DataRef
    seed: int
    teacher: ModelRef | None = None

    @property
    def name(self) -> str:
        """How logs, failures and the manifest name this cell."""
        return f"train {self.model.id}"


@dataclass(frozen=True)
class EvalCell:
    """A model's clean predictions on the whole test split, and (if it is attacked) its diagnostics."""

    model: ModelRef
    data: DataRef
    diagnose: bool

    @property
    def name(self) -> str:
        """How logs, failures and the manifest name this cell."""
        return f"evaluate {self.model.id}"

    @property
    def shard(self) -> str:
        """The clean records shard, relative to the run folder."""
        return f"records/{clean_shard_name(self.model, self.data)}"

    @property
    def diagnostics(self) -> str:
        """The diagnostics file, relative to the run folder."""
        key = canonical_hash([self.model.weights, self.data.eval_fingerprint, DIAG_VERSION])
        return f"diagnostics/{self.model.id}.{key[:16]}.csv"

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every file the cell writes; it is done when they all exist."""
        return (self.shard, self.diagnostics) if self.diagnose else (self.shard,)


@dataclass(frozen=True)
class AttackCell:
    """One attack on one model; for a transfer attack, crafted on ``source`` and judged on ``model``."""

    attack: AttackSpec
    model: ModelRef
    data: DataRef
    seed: int
    source: ModelRef | None = None

    @property
    def name(self) -> str:
        """How logs, failures and the manifest name this cell."""
        return f"{self.attack.id} on {self.model.id}"

    @property
    def key(self) -> str:
        """Hash of everything that determines the cell's records."""
        return canonical_hash(
            {
                "attack": self.attack.model_dump(mode="json", exclude={"id", "models"}),
                "model": self.model.weights,
                "source": self.source.weights if self.source else None,
                "data": self.data.eval_fingerprint,
                "seed": self.seed,
                "version": ATTACK_VERSION,
                "code": ATTACKS.get(self.attack.use).version,
            }
        )

    @property
    def shard(self) -> str:
        """The records shard, relative to the run folder."""
        return f"records/{shard_name(self.model.id, self.attack.id, self.key)}"

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every file the cell must write (its examples are optional); it is done when they all exist."""
        return (self.shard,)


Cell = TrainCell | EvalCell | AttackCell


def clean_shard_name(model: ModelRef, data: DataRef) -> str:
    """The file name of a model's clean records: keyed by its weights and the test split."""
    return shard_name(model.id, CLEAN, canonical_hash([model.weights, data.test_fingerprint]))


def model_key(spec: ModelSpec, train_fingerprint: str, seed: int, teacher_weights: str | None, checkpoint_sha: str | None) -> str:
    """Hash of the recipe that determines a model (a Merkle chain through its teacher's weights)."""
    return canonical_hash(
        {
            "arch": spec.arch,
            "kind": spec.kind,
            "train": spec.train.model_dump(mode="json"),
            "data": train_fingerprint,
            "seed": seed,
            "teacher": teacher_weights,
            "checkpoint": checkpoint_sha,
            "version": TRAIN_VERSION,
        }
    )


def weights_digest(state: dict[str, Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes.

    Retraining the same recipe on another thread count or torch version gives other
    weights, so results are keyed by this, never by the recipe alone.
    """
    import torch

    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def attack_seed(seed: int, attack_id: str) -> int:
    """A per-attack seed, so adding an attack does not change the others' randomness."""
    return int(canonical_hash([seed, attack_id])[:8], 16)
