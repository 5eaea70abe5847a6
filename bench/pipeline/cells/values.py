"""The cells a run is made of: small frozen values, each computed by ``bench.pipeline.cells.execute.execute``.

* ``TrainCell``: obtain one model (from the store, a checkpoint file, or training).
* ``EvalCell``: a trained model's clean predictions on the test split, and its masking diagnostics.
* ``AttackCell``: one attack on one model; its per-sample records shard.
* ``CostCell``: what one model costs (size, FLOPs, measured latency, training cost); a
  measurement rather than a deterministic result, see its docstring.

A cell holds what to compute and the content keys of its inputs: the slice of
the spec it needs, the weights digest of each model it uses, the fingerprints
of its data, its seed, the runtime (library versions, dtype, device type) and a
digest of the code that computes it; every key is computed in ``bench.pipeline.cells.keys``.
``bench.pipeline.cells.execute.execute(cell, workspace)`` computes one from that and the paths of a ``Workspace`` (data roots, model
store, run folder) alone, so it can run in this process, in a fresh one, or on
another machine, and give the same shard.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.fsutil import canonical_hash
from bench.pipeline.cells import keys
from bench.pipeline.cells.keys import Runtime
from bench.results.records import CLEAN, shard_name
from bench.spec.schema import AttackSpec, ModelSpec


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
    path: str | None = None  # the data file, for a dataset that reads one (arrays)


@dataclass(frozen=True)
class ModelRef:
    """A trained model as later cells see it: where to load it from and the digest its weights must have."""

    id: str
    arch: str | None  # None for an external model, whose network is in its file
    key: str  # the recipe's key: finds the model in the store
    weights: str  # sha256 of the weights (of the file, for an external model): keys every result computed from the model
    code: str  # digest of the architecture's code (of the loader, for an external model): edited code is another model
    checkpoint: str | None = None  # a user's weights or program file, loaded instead of the store
    external: str | None = None  # "torch.export" or "TorchScript" when ``checkpoint`` is a program
    # The input transformations before the network (``ModelSpec.defence_json``; "" for none). ``code`` then covers
    # them too (``bench.pipeline.cells.build.defended_ref``), so every key of a result on the defended model differs.
    defence: str = ""
    eval_draws: int = 1  # passes per judged prediction (their majority vote)
    defence_code: str = ""  # ``keys.defences_code()`` where the run was planned: a process whose steps differ refuses the model

    @property
    def judge_seed(self) -> int:
        """The seed of the draws a randomized model is judged with: fixed per weights and defence."""
        return int(canonical_hash([self.weights, self.defence])[:8], 16)


@dataclass(frozen=True)
class TrainCell:
    """Obtain one model: from the store when its recipe was trained before, else train (or load its checkpoint)."""

    model: ModelSpec
    data: DataRef
    seed: int
    runtime: Runtime
    code: str  # the architecture's and the training code's digest
    teacher: ModelRef | None = None

    @property
    def name(self) -> str:
        """How logs, failures and the manifest name this cell."""
        return f"train {self.model.id}"

    def key(self, checkpoint_sha: str | None = None) -> str:
        """The recipe's key in the model store (a Merkle chain through the teacher's weights)."""
        return keys.model_key(
            self.model,
            self.data.train_fingerprint,
            self.seed,
            self.teacher.weights if self.teacher else None,
            checkpoint_sha,
            self.runtime,
            self.code,
        )


@dataclass(frozen=True)
class EvalCell:
    """A model's clean predictions on the whole test split, and (if it is attacked) its diagnostics."""

    model: ModelRef
    data: DataRef
    diagnose: bool
    runtime: Runtime
    code: str  # the digest of clean prediction and the diagnostics

    @property
    def name(self) -> str:
        """How logs, failures and the manifest name this cell."""
        return f"evaluate {self.model.id}"

    @property
    def shard(self) -> str:
        """The clean records shard, relative to the run folder."""
        return f"records/{clean_shard_name(self)}"

    @property
    def diagnostics(self) -> str:
        """The diagnostics file, relative to the run folder."""
        key = keys.model_output_key(self.model.weights, self.model.code, self.data.eval_fingerprint, self.runtime, self.code)
        return f"diagnostics/{self.model.id}.{key[:16]}.csv"

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every file the cell writes; it is done when they all exist."""
        return (self.shard, self.diagnostics) if self.diagnose else (self.shard,)


class OneOutput:
    """A cell that writes one file, ``output``: it is done when that file exists."""

    output: str

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every file the cell writes; it is done when they all exist."""
        return (self.output,)


@dataclass(frozen=True)
class AttackCell(OneOutput):
    """One attack on one model; for a transfer attack, crafted on ``source`` and judged on ``model``."""

    attack: AttackSpec
    model: ModelRef
    data: DataRef
    seed: int
    runtime: Runtime
    code: str  # the digest of the attack's code and the attack cell's
    clean: str  # the model's clean shard (file name), which holds the clean predictions this cell judges against
    source: ModelRef | None = None

    @property
    def name(self) -> str:
        """How logs, failures and the manifest name this cell."""
        return f"{self.attack.id} on {self.model.id}"

    @property
    def key(self) -> str:
        """Hash of everything that determines the cell's records."""
        source = (self.source.weights, self.source.code) if self.source else None
        model = (self.model.weights, self.model.code)
        return keys.attack_key(self.attack, model, source, self.data.eval_fingerprint, self.seed, self.runtime, self.code, self.clean)

    @property
    def shard(self) -> str:
        """The records shard, relative to the run folder (its one output: examples and details are optional)."""
        return f"records/{shard_name(self.model.id, self.attack.id, self.key)}"

    output = shard


@dataclass(frozen=True)
class CostCell(OneOutput):
    """What one model costs: size, FLOPs and latency measured on it, and its (and its teachers') training cost.

    Unlike the other cells its result is not deterministic: latency is a measurement
    of this machine at this moment. The key says *what* was measured (the weights,
    the code, the runtime, the device and thread count, the measurement settings), so
    a run on another thread count or device measures again, and a re-run reuses the
    measurement it finds, which says when and where it was taken.
    """

    model: ModelRef
    teachers: tuple[ModelRef, ...]  # the chain of teachers, nearest first: their training is part of this model's cost
    data: DataRef
    runtime: Runtime
    code: str  # the digest of the measuring code
    device: str  # e.g. "cpu", "cuda:0"
    threads: int  # torch's intra-op threads in the process that plans the cell

    @property
    def name(self) -> str:
        """How logs, failures and the manifest name this cell."""
        return f"cost {self.model.id}"

    @property
    def key(self) -> str:
        """Hash of what is measured and how."""
        teachers = [(t.weights, t.code) for t in self.teachers]
        model = (self.model.weights, self.model.code)
        return keys.cost_key(model, teachers, self.data.test_fingerprint, self.runtime, self.code, self.device, self.threads)

    @property
    def output(self) -> str:
        """The cost file, relative to the run folder."""
        return f"costs/{self.model.id}.{self.key[:16]}.json"


Cell = TrainCell | EvalCell | AttackCell | CostCell


def clean_shard_name(cell: EvalCell) -> str:
    """The file name of a model's clean records: keyed by its weights and code, the test split, runtime and code."""
    m = cell.model
    return shard_name(m.id, CLEAN, keys.model_output_key(m.weights, m.code, cell.data.test_fingerprint, cell.runtime, cell.code))


def attack_seed(seed: int, attack_id: str) -> int:
    """A per-attack seed, so adding an attack does not change the others' randomness."""
    return int(canonical_hash([seed, attack_id])[:8], 16)
