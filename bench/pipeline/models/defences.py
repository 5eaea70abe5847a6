"""Defences as declared input transformations: a model's ``defence:`` steps, run before its network at inference.

A defended model is ``Defended(network, steps)``: the stored network of the undefended model
with the same spec, behind its steps. Its ``forward`` is the defence *as implemented*, which
is what a naive attack differentiates:

* torch steps are followed by autograd (median smoothing, noise, resizing and padding);
* a step autograd cannot follow (ART's numpy feature squeezing, a real JPEG round trip)
  passes back an exactly zero gradient, as such a model does in a hurried evaluation;
  without it a backend would fail outright instead of seeing no gradient.

An adaptive attack sees the same model through a view (``bench.attacks.views``): BPDA
runs each step forward and the identity backward, EOT averages over draws. The view
finds the steps through the two attributes ``network`` and ``defence``.

Randomized steps draw from torch's global generator when an attack runs them (every attack
seeds it, so its draws are reproducible). ``judge`` instead gives each step a seed per sample
and draw (``seeds``), derived from the sample's position in the test split: a sample gets the
same draws wherever it sits in a batch, so an adversarial input equal to its clean input gets
the same vote as the clean input did.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.spec.schema import DEFENCE_STEPS


class _ZeroGradient(torch.autograd.Function):
    """``out`` forward (computed outside autograd), an exactly zero gradient for ``x`` backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, out: Tensor) -> Tensor:
        return out.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return torch.zeros_like(grad), None


class Step(nn.Module):
    """One input transformation; ``randomized`` steps draw afresh on every pass.

    ``forward(x, seeds)``: with ``seeds`` (one int per input) a randomized step draws each
    input's randomness from its own generator seeded so; without, from torch's global one.
    """

    randomized: bool = False

    def forward(self, x: Tensor, seeds: Tensor | None = None) -> Tensor:
        raise NotImplementedError


def _generators(seeds: Tensor) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(int(s)) for s in seeds.tolist()]


class ArtStep(Step):
    """An ART preprocessor (numpy in, numpy out) as a step: exact forward, zero gradient (autograd cannot follow numpy)."""

    def __init__(self, preprocessor: Any) -> None:
        super().__init__()
        self.preprocessor = preprocessor

    def forward(self, x: Tensor, seeds: Tensor | None = None) -> Tensor:
        out, _ = self.preprocessor(x.detach().cpu().numpy())
        return _ZeroGradient.apply(x, torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32)).to(x.device))


class Median(Step):
    """Median over each size x size window, per channel: exactly ART's ``SpatialSmoothing`` (scipy's
    ``median_filter``): the window at pixel i spans i - size//2 .. i + (size-1)//2, edges are
    mirrored with the edge pixel repeated (scipy's "reflect"), and an even count takes the upper median.

    bench's own: ART's torch median (``SpatialSmoothingPyTorch``) needs kornia, which bench does not
    depend on, and its numpy one (scipy) has no gradient. This one is plain torch, so autograd
    follows it to the median pixel of each window, as a torch implementation of the defence would.
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: Tensor, seeds: Tensor | None = None) -> Tensor:
        k = self.size
        n, c, h, w = x.shape
        before, after = k // 2, (k - 1) // 2
        z = _symmetric_pad(_symmetric_pad(x.reshape(n * c, 1, h, w), before, after, -1), before, after, -2)
        windows = F.unfold(z, kernel_size=k)  # (n*c, k*k, h*w)
        return windows.sort(dim=1).values[:, (k * k) // 2].reshape(n, c, h, w)


def _symmetric_pad(x: Tensor, before: int, after: int, dim: int) -> Tensor:
    # numpy's "symmetric" (scipy's "reflect"): the edge value repeated, d c b a | a b c d; torch's F.pad has no such mode.
    parts = [x.narrow(dim, 0, before).flip(dim)] if before else []
    parts.append(x)
    if after:
        parts.append(x.narrow(dim, x.shape[dim] - after, after).flip(dim))
    return torch.cat(parts, dim)


class GaussianNoise(Step):
    """x + sigma * N(0, 1), fresh per pass and per value.

    bench's own: ART's GaussianAugmentation is a numpy training-time augmentation that draws
    from numpy's global generator, with no gradient. The result is not clipped to [0, 1]:
    clipping would zero the gradient of every clipped value and add a masking of its own.
    """

    randomized = True

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = sigma

    def forward(self, x: Tensor, seeds: Tensor | None = None) -> Tensor:
        if seeds is None:
            return x + self.sigma * torch.randn_like(x)
        noise = torch.stack([torch.randn(x.shape[1:], generator=g) for g in _generators(seeds)])
        return x + self.sigma * noise.to(device=x.device, dtype=x.dtype)


class RandomResizePad(Step):
    """Xie et al. 2018 for a fixed input size: each input is resized (bilinear) to a random side in
    [min_scale * side, side], then zero-padded at a random offset back to its size; fresh per pass.

    bench's own: ART has no such step. Autograd follows the resize and the pad.
    """

    randomized = True

    def __init__(self, min_scale: float) -> None:
        super().__init__()
        self.min_scale = min_scale

    def forward(self, x: Tensor, seeds: Tensor | None = None) -> Tensor:
        n, c, h, w = x.shape
        lo, hi = max(1, math.ceil(self.min_scale * min(h, w))), min(h, w)
        if seeds is None:
            sides = torch.randint(lo, hi + 1, (n,), device=x.device)
            unit = torch.rand(n, 2, device=x.device)  # where in the free margin the resized input lands
        else:
            gens = _generators(seeds)
            sides = torch.tensor([int(torch.randint(lo, hi + 1, (1,), generator=g)) for g in gens], device=x.device)
            unit = torch.stack([torch.rand(2, generator=g) for g in gens]).to(x.device)
        out = torch.zeros_like(x)
        for side in sides.unique().tolist():
            idx = (sides == side).nonzero().flatten()
            small = F.interpolate(x[idx], size=(side, side), mode="bilinear", align_corners=False)
            # Uniform over the h - side + 1 (w - side + 1) offsets.
            top = (unit[idx, 0] * (h - side + 1)).long().clamp(max=h - side)
            left = (unit[idx, 1] * (w - side + 1)).long().clamp(max=w - side)
            rows = (top[:, None] + torch.arange(side, device=x.device))[:, None, :, None]
            cols = (left[:, None] + torch.arange(side, device=x.device))[:, None, None, :]
            canvas = torch.zeros(len(idx), c, h, w, dtype=x.dtype, device=x.device)
            canvas = canvas.index_put(
                (
                    torch.arange(len(idx), device=x.device)[:, None, None, None],
                    torch.arange(c, device=x.device)[None, :, None, None],
                    rows,
                    cols,
                ),
                small,
            )
            out = out.index_copy(0, idx, canvas)
        return out


def build_step(params: dict[str, Any]) -> Step:
    """The step a ``defence:`` entry names (already validated by the spec schema)."""
    name = params["name"]
    if name == "bit-depth":
        from art.defences.preprocessor import FeatureSqueezing

        return ArtStep(FeatureSqueezing(clip_values=(0.0, 1.0), bit_depth=int(params["bits"])))
    if name == "jpeg":
        from art.defences.preprocessor import JpegCompression

        return ArtStep(JpegCompression(clip_values=(0.0, 1.0), quality=int(params["quality"]), channels_first=True))
    if name == "median":
        return Median(int(params["size"]))
    if name == "gaussian-noise":
        return GaussianNoise(float(params["sigma"]))
    if name == "random-resize-pad":
        return RandomResizePad(float(params["min_scale"]))
    raise ValueError(f"unknown defence step {name!r} (known: {', '.join(DEFENCE_STEPS)})")


class Defended(nn.Module):
    """A network behind its defence steps; ``forward`` is the defended model as implemented."""

    def __init__(self, network: nn.Module, steps: list[Step]) -> None:
        super().__init__()
        self.network = network
        self.defence = nn.ModuleList(steps)
        self.training = network.training

    def forward(self, x: Tensor, seeds: Tensor | None = None) -> Tensor:
        for i, step in enumerate(self.defence):
            # Each step its own stream: two noise steps must not draw the same noise.
            x = step(x, None if seeds is None else seeds + i * _STEP_STRIDE)
        return self.network(x)


_STEP_STRIDE = 1_000_003


def defend(network: nn.Module, defence: str) -> nn.Module:
    """``network`` behind the steps of ``defence`` (canonical JSON, ``ModelSpec.defence_json``); itself for none."""
    if not defence:
        return network
    return Defended(network, [build_step(p) for p in json.loads(defence)])


@dataclass(frozen=True)
class Judged:
    """A model's prediction per input (the majority vote of its draws) and the fraction of draws that were right."""

    pred: np.ndarray
    draws_correct: np.ndarray
    finite: bool  # every logit of every pass was finite


def judge(model: nn.Module, x: Tensor, labels: Tensor, draws: int, seed: int, positions: np.ndarray, batch_size: int = 1000) -> Judged:
    """The prediction that success and accuracy are judged on: the majority vote over ``draws`` passes.

    A defended model's randomized steps draw, for each input and pass, from a generator seeded by
    ``seed``, the pass and the input's ``positions`` (its index in the test split): the same input
    at the same position gets the same draws in every run and in any batch. Any other model draws
    from torch's global generator, forked and seeded with ``seed``, so the caller's stream is left
    as it was. Ties go to the class with the highest mean probability over the draws. One draw of a
    deterministic model is its plain argmax.
    """
    device = next(model.parameters()).device
    y = labels.cpu()
    pos = torch.as_tensor(np.asarray(positions), dtype=torch.int64)
    devices = [device] if device.type == "cuda" else []
    logits = []
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            for d in range(draws):
                parts = []
                for i in range(0, len(x), batch_size):
                    xb = x[i : i + batch_size].to(device)
                    if isinstance(model, Defended):
                        parts.append(model(xb, seeds=_draw_seeds(seed, d, pos[i : i + batch_size])))
                    else:
                        parts.append(model(xb))
                logits.append(torch.cat(parts).float().cpu() if parts else torch.empty(0, 0))
    finally:
        model.train(was_training)
    finite = all(bool(torch.isfinite(z).all()) for z in logits)
    preds = [z.argmax(1) for z in logits]
    if draws == 1 or not len(y):
        pred = preds[0] if len(y) else torch.zeros(0, dtype=torch.int64)
    else:
        counts = torch.zeros_like(logits[0], dtype=torch.float64)
        for p in preds:
            counts[torch.arange(len(y)), p] += 1
        # A tie goes to the class the draws found likeliest on average: below one vote, so it only breaks ties.
        mean_prob = torch.stack([torch.softmax(z.double(), 1) for z in logits]).mean(0)
        pred = (counts + 0.5 * mean_prob).argmax(1)
    correct = torch.stack([p == y for p in preds]).double().mean(0) if len(y) else torch.zeros(0, dtype=torch.float64)
    return Judged(pred.numpy(), correct.numpy(), finite)


def _draw_seeds(seed: int, draw: int, positions: Tensor) -> Tensor:
    # One seed per input and pass: distinct for every (seed, pass, position), as a 62-bit integer.
    base = (seed * 0x9E3779B1 + draw * 0x85EBCA77) % (1 << 62)
    return (positions * 0xC2B2AE3D + base) % (1 << 62)


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Torch's global generators (the CPU's, and the device's on a GPU) seeded with ``seed`` inside, restored after."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield
