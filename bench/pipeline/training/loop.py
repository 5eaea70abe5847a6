"""The training loop every model shares: seeded shuffling and augmentation, the optimizer and its schedule.

Recipe: Adam (or SGD) with a cosine or one-cycle learning-rate schedule stepped once
per step. Plain SGD does not train at T=100 on this machine (REFERENCE.md); Adam is
invariant to the 1/T scale of the gradients that high temperature causes, so it needs
no T^2 loss rescaling. Augmentation (``train.augment``: random crops of the zero-padded image,
horizontal flips) draws from its own seeded generator, so it is deterministic and
leaves the shuffling of an unaugmented run exactly as it was. What a step minimises
is the caller's ``BatchLoss``: plain (``plain``) or on adversarial inputs (``adversarial``).

Speed, at fp32: a network with convolutions trains in channels-last layout (oneDNN's NHWC
kernels: a third less CPU per step for the Papernot net here) and is handed back in the
default layout, so its checkpoint is as before; Adam runs fused; the running loss and
accuracy stay on the device until an epoch ends, so a step never waits for the host.
``train.precision: bf16`` autocasts each step's forward pass to bfloat16 (AMX or a GPU run it at
two to three times fp32's rate); the weights, Adam's state and the checkpoint stay fp32.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from bench.spec.schema import AugmentSpec, TrainSpec

log = logging.getLogger(__name__)

BatchLoss = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]
"""(a mini-batch of inputs on the model's device, its indices into the training set) -> (the loss, how many it got right,
as a 0-d tensor on the device)."""


def optimizer(model: nn.Module, params: TrainSpec) -> torch.optim.Optimizer:
    if params.optimizer == "adam":
        # The fused kernel: one pass over each parameter instead of a dozen element-wise ops (same update, fp32).
        return torch.optim.Adam(model.parameters(), lr=params.lr, fused=True)
    return torch.optim.SGD(model.parameters(), lr=params.lr, momentum=params.momentum, nesterov=params.momentum > 0)


def scheduler(opt: torch.optim.Optimizer, params: TrainSpec, total_steps: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The learning-rate schedule over all ``total_steps`` optimizer steps, stepped once per step.

    ``cyclic`` is Wong, Rice and Kolter's one cycle: linear from 0 to ``lr`` over the first
    40% of the steps, then linear back to 0; each step uses the rate at its end, so the first
    step already moves.
    """
    if params.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    if params.schedule == "cyclic":
        peak = 0.4 * total_steps

        def factor(step: int) -> float:
            t = step + 1
            return t / peak if t <= peak else max(0.0, (total_steps - t) / (total_steps - peak))

        return torch.optim.lr_scheduler.LambdaLR(opt, factor)
    return None


def augment_batch(x: Tensor, spec: AugmentSpec, gen: torch.Generator) -> Tensor:
    """Per sample: a random crop of ``x``'s size from ``x`` zero-padded by ``crop_padding``, then a random flip."""
    n, c, h, w = x.shape
    p = spec.crop_padding
    if p:
        padded = F.pad(x, (p, p, p, p))
        rows = torch.randint(0, 2 * p + 1, (n, 1), generator=gen) + torch.arange(h)
        cols = torch.randint(0, 2 * p + 1, (n, 1), generator=gen) + torch.arange(w)
        x = padded[
            torch.arange(n)[:, None, None, None],
            torch.arange(c)[None, :, None, None],
            rows[:, None, :, None],
            cols[:, None, None, :],
        ]
    if spec.flip:
        flip = torch.rand(n, generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
    return x


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX), as oneDNN sees it; False when torch cannot say."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a private op: gone or renamed in another torch
        return False


def memory_format(model: nn.Module, x: Tensor) -> torch.memory_format:
    """Channels-last for a network with 2-d convolutions on image batches, else the default layout."""
    conv = any(isinstance(m, nn.Conv2d) for m in model.modules())
    return torch.channels_last if conv and x.dim() == 4 else torch.contiguous_format


def run(model: nn.Module, x: Tensor, params: TrainSpec, seed: int, batch_loss: BatchLoss, desc: str, quiet: bool, level: int) -> nn.Module:
    """Train ``model`` in place on ``x`` for ``params.epochs``, minimising ``batch_loss``; log each epoch at ``level``."""
    fmt = memory_format(model, x)
    model.to(memory_format=fmt)
    try:
        return _run(model, x, params, seed, batch_loss, desc, quiet, level, fmt)
    finally:
        model.to(memory_format=torch.contiguous_format)


def _run(
    model: nn.Module,
    x: Tensor,
    params: TrainSpec,
    seed: int,
    batch_loss: BatchLoss,
    desc: str,
    quiet: bool,
    level: int,
    fmt: torch.memory_format,
) -> nn.Module:
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    aug_gen = torch.Generator().manual_seed(seed + 1) if params.augment else None
    torch.manual_seed(seed)  # dropout draws from the global RNG
    opt = optimizer(model, params)
    n = len(x)
    steps_per_epoch = (n + params.batch_size - 1) // params.batch_size
    sched = scheduler(opt, params, params.epochs * steps_per_epoch)
    bf16 = params.precision == "bf16"
    if bf16 and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"{desc}: train.precision bf16 needs a GPU with bfloat16 (compute capability 8.0 or newer); use fp32")
    if bf16 and device.type == "cpu" and not native_bf16():
        log.warning("%s: this CPU has no native bf16 (AVX512-BF16 or AMX): bf16 training is emulated, slower than fp32", desc)
    model.train()
    bar = tqdm(total=params.epochs * steps_per_epoch, desc=desc, unit="step", disable=quiet, leave=False)
    for epoch in range(params.epochs):
        start = time.perf_counter()
        total = torch.zeros((), dtype=torch.float64, device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, params.batch_size):
            idx = perm[i : i + params.batch_size]
            xb = x[idx]
            if params.augment is not None and aug_gen is not None:
                xb = augment_batch(xb, params.augment, aug_gen)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss, right = batch_loss(xb.to(device, non_blocking=True).contiguous(memory_format=fmt), idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += loss.detach().double() * len(idx)
            correct += right
            bar.update(1)
        seconds = time.perf_counter() - start
        log.log(
            level,
            "%s epoch %d/%d: loss %.4f, accuracy on its training inputs %.3f (%.1fs)",
            desc,
            epoch + 1,
            params.epochs,
            float(total) / n,
            int(correct) / n,
            seconds,
        )
    bar.close()
    model.eval()
    return model
