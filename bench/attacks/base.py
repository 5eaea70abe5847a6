"""The attack contract.

``Attack.__call__`` is the only entry point and is final. It owns eval mode,
seeding, batching, sanity checks of the backend's output, projection onto the
eps-ball and [0,1], and timing. Backends implement ``generate`` only, on one
batch. Success is measured by the pipeline on the deployed model, never here.

This module imports no torch at import time (the tensor work lives in
``bench.attacks.ops``), so the registry can hand out attack classes and their
``Params`` to ``bench validate`` without loading torch.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, final

from bench.spec.schema import AttackSpec, StrictModel

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn

log = logging.getLogger(__name__)


class AttackError(RuntimeError):
    """An attack produced unusable output (wrong shape, NaN, ...)."""


class AttackParams(StrictModel):
    """Base of every attack's parameters: frozen, strict, and able to estimate its own cost.

    Each field's ``description`` is what `bench describe` and `bench ls attacks --params`
    print; ``synonyms`` maps the names other libraries use to this attack's own.
    """

    list_fields: ClassVar[bool] = True

    def cost(self) -> int:
        """Rough forward+backward passes per sample and budget, for `bench validate`'s cost estimate."""
        return 1


class NoParams(AttackParams):
    """For attacks without parameters."""


@dataclass
class CraftingModel:
    """The model an attack differentiates or queries, seen through a view.

    For a white-box attack it is the attacked model itself; for a transfer attack
    it is the *source* model the examples are crafted on. Expensive wrappers
    (ART's classifier) are built once per crafting model and shared by its attacks.
    """

    view: nn.Module
    n_classes: int
    input_shape: tuple[int, int, int]
    device: torch.device
    _cache: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, build: Any) -> Any:
        """Build an expensive wrapper once per crafting model, e.g. ART's classifier."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]


@dataclass(frozen=True)
class AttackOutput:
    """Adversarial inputs plus what the harness had to correct."""

    x_adv: Tensor
    projected: Tensor  # bool per sample: the harness moved the backend's output
    seconds: float
    # What the backend chose to record per sample (``Attack.record``), concatenated over batches: its
    # loss trace, which sub-attack broke each sample, ... Small, optional, never used to judge success.
    details: dict[str, Any] = field(default_factory=dict)


class Attack(ABC):
    """Base class. Subclasses set the class attributes and implement ``generate``."""

    kind: ClassVar[Literal["fixed_eps", "min_norm"]] = "fixed_eps"
    norms: ClassVar[tuple[str, ...]] = ("linf",)
    default_tag: ClassVar[Literal["naive", "adaptive"]] = "naive"
    description: ClassVar[str] = ""
    Params: ClassVar[type[AttackParams]] = NoParams
    # Past ~250 MNIST-sized inputs a batch's activations outgrow the CPU's cache: on this project's
    # 2-core machine (32 MiB L3) PGD-40 ran 2x faster per sample at 128 than at 500, and no faster at 64
    # (benchmarks/attack_batch.py). Attacks with per-sample early exits may prefer smaller ones. An attack
    # built without a batch size takes its class's default, as a suite that names none does (``resolved_batch_size``).
    default_batch_size: ClassVar[int] = 128

    def __init__(self, params: dict[str, Any] | AttackParams, norm: str, seed: int, batch_size: int | None = None) -> None:
        self.params: Any = params if isinstance(params, AttackParams) else self.Params.model_validate(params)
        self.norm = norm
        self.seed = seed
        self.batch_size = self.default_batch_size if batch_size is None else batch_size
        self._details: dict[str, list[Any]] = {}

    @classmethod
    def resolved_norm(cls, spec: AttackSpec) -> str:
        """The norm an attack of this class runs at for ``spec``: the spec's own, else the first the class supports."""
        return spec.norm or cls.norms[0]

    @classmethod
    def resolved_batch_size(cls, spec: AttackSpec) -> int:
        """The batch size an attack of this class runs with for ``spec``: the spec's own, else the class's default."""
        return spec.batch_size or cls.default_batch_size

    def record(self, name: str, values: Any) -> None:
        """Keep a per-sample array (first axis: the samples of the current batch) under ``name``.

        A backend calls it inside ``generate`` for what it wants reported beside its output (a
        loss trace, the sub-attack that broke each sample); ``__call__`` concatenates the batches
        into ``AttackOutput.details``. Every batch must record the same names.
        """
        import numpy as np

        if hasattr(values, "detach"):
            values = values.detach().cpu().numpy()
        self._details.setdefault(name, []).append(np.asarray(values))

    @abstractmethod
    def generate(self, model: CraftingModel, x: Tensor, y: Tensor, eps: float | None) -> Tensor:
        """Return adversarial inputs for one batch. Backends implement only this."""

    @final
    def __call__(
        self, model: CraftingModel, x: Tensor, y: Tensor, eps: float | None = None, *, desc: str = "", quiet: bool = True
    ) -> AttackOutput:
        """Run on all of ``x`` in batches, then check and project the result."""
        import torch
        from tqdm.auto import tqdm

        from bench.attacks.ops import project, seed_everything

        name = type(self).__name__
        if self.kind == "fixed_eps" and eps is None:
            raise ValueError(f"{name} needs an eps")
        if x.numel() and (x.min() < 0 or x.max() > 1 or not torch.isfinite(x).all()):
            raise AttackError("inputs must be finite and in [0, 1]")
        if self.kind == "fixed_eps" and eps == 0:
            # A zero budget admits only the input itself; backends differ in how they fail on it.
            return AttackOutput(x_adv=x.clone(), projected=torch.zeros(len(x), dtype=torch.bool, device=x.device), seconds=0.0)
        module = model.view
        # Every submodule's own flag: a view wrapper and the model inside it may disagree.
        modes = [(m, m.training) for m in module.modules()]
        module.eval()
        seed_everything(self.seed)
        self._details = {}
        start = time.perf_counter()
        chunks = []
        try:
            starts = range(0, len(x), self.batch_size)
            # Counted in samples, and only when there is more than one batch: a single batch would show 0/1 until done.
            with tqdm(total=len(x), desc=desc or name, unit="sample", disable=quiet or len(starts) < 2, leave=False) as bar:
                for i in starts:
                    xb, yb = x[i : i + self.batch_size], y[i : i + self.batch_size]
                    chunks.append(self._checked(self.generate(model, xb, yb, eps), xb))
                    bar.update(len(xb))
        finally:
            for m, mode in modes:
                m.training = mode
        seconds = time.perf_counter() - start
        x_adv = torch.cat(chunks) if chunks else x.clone()
        x_adv, moved = project(x, x_adv, self.norm, eps if self.kind == "fixed_eps" else None)
        if moved.any():
            log.info("%s: projected %d of %d outputs onto the eps-ball/[0,1]", name, int(moved.sum()), len(x))
        details = self._collect_details(len(x))
        return AttackOutput(x_adv=x_adv.detach(), projected=moved, seconds=seconds, details=details)

    def _collect_details(self, n: int) -> dict[str, Any]:
        import numpy as np

        out = {}
        for name, parts in self._details.items():
            arr = np.concatenate(parts) if parts else np.zeros(0)
            if len(arr) != n:
                raise AttackError(f"{type(self).__name__} recorded {len(arr)} values of {name!r} for {n} samples")
            out[name] = arr
        self._details = {}
        return out

    @staticmethod
    def _checked(out: Any, xb: Tensor) -> Tensor:
        """A backend's output as a finite tensor of ``xb``'s shape, dtype and device, or ``AttackError``."""
        import numpy as np
        import torch

        if isinstance(out, np.ndarray):
            out = torch.from_numpy(out)
        if not isinstance(out, torch.Tensor):
            raise AttackError(f"backend returned {type(out).__name__}, not a tensor")
        if tuple(out.shape) != tuple(xb.shape):
            raise AttackError(f"backend returned shape {tuple(out.shape)}, expected {tuple(xb.shape)}")
        out = out.to(device=xb.device, dtype=xb.dtype)
        if not torch.isfinite(out).all():
            raise AttackError("backend returned NaN or inf")
        return out.detach()
