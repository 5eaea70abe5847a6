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

Randomized steps draw from torch's global generator, which every attack seeds, so an
attack's draws are reproducible; ``judge`` draws under a fixed seed of its own.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.spec.schema import DEFENCE_STEPS, RANDOMIZED_STEPS


class _ZeroGradient(torch.autograd.Function):
    """``out`` forward (computed outside autograd), an exactly zero gradient for ``x`` backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, out: Tensor) -> Tensor:
        return out.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return torch.zeros_like(grad), None


class Step(nn.Module):
    """One input transformation; ``randomized`` steps draw afresh on every pass."""

    randomized: bool = False


class ArtStep(Step):
    """An ART preprocessor (numpy in, numpy out) as a step: exact forward, zero gradient (autograd cannot follow numpy)."""

    def __init__(self, preprocessor: Any) -> None:
        super().__init__()
        self.preprocessor = preprocessor

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.preprocessor(x.detach().cpu().numpy())
        return _ZeroGradient.apply(x, torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32)).to(x.device))


class Median(Step):
    """Median over each size x size window, per channel, the window's lower median for an even count.

    bench's own: ART's torch median (``SpatialSmoothingPyTorch``) needs kornia, which bench does not
    depend on, and its numpy one (scipy) has no gradient. This one is plain torch, so autograd
    follows it to the median pixel of each window, as a torch implementation of the defence would.
    Edges are mirrored (torch's "reflect", scipy's "mirror").
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: Tensor) -> Tensor:
        k = self.size
        n, c, h, w = x.shape
        padded = F.pad(x.reshape(n * c, 1, h, w), ((k - 1) // 2, k // 2, (k - 1) // 2, k // 2), mode="reflect")
        windows = F.unfold(padded, kernel_size=k)  # (n*c, k*k, h*w)
        return windows.median(dim=1).values.reshape(n, c, h, w)


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

    def forward(self, x: Tensor) -> Tensor:
        return x + self.sigma * torch.randn_like(x)


class RandomResizePad(Step):
    """Xie et al. 2018 for a fixed input size: each input is resized (bilinear) to a random side in
    [min_scale * side, side], then zero-padded at a random offset back to its size; fresh per pass.

    bench's own: ART has no such step. Autograd follows the resize and the pad.
    """

    randomized = True

    def __init__(self, min_scale: float) -> None:
        super().__init__()
        self.min_scale = min_scale

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        lo = max(1, math.ceil(self.min_scale * min(h, w)))
        sides = torch.randint(lo, min(h, w) + 1, (n,), device=x.device)
        out = torch.zeros_like(x)
        for side in sides.unique().tolist():
            idx = (sides == side).nonzero().flatten()
            small = F.interpolate(x[idx], size=(side, side), mode="bilinear", align_corners=False)
            top = torch.randint(0, h - side + 1, (len(idx),), device=x.device)
            left = torch.randint(0, w - side + 1, (len(idx),), device=x.device)
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

    def forward(self, x: Tensor) -> Tensor:
        for step in self.defence:
            x = step(x)
        return self.network(x)


def defend(network: nn.Module, defence: str) -> nn.Module:
    """``network`` behind the steps of ``defence`` (canonical JSON, ``ModelSpec.defence_json``); itself for none."""
    if not defence:
        return network
    return Defended(network, [build_step(p) for p in json.loads(defence)])


def is_randomized(defence: str) -> bool:
    """Whether a defence (canonical JSON) has a step that draws afresh on every pass."""
    return bool(defence) and any(p["name"] in RANDOMIZED_STEPS for p in json.loads(defence))


@dataclass(frozen=True)
class Judged:
    """A model's prediction per input (the majority vote of its draws) and the fraction of draws that were right."""

    pred: np.ndarray
    draws_correct: np.ndarray
    finite: bool  # every logit of every pass was finite


def judge(model: nn.Module, x: Tensor, labels: Tensor, draws: int, seed: int, batch_size: int = 1000) -> Judged:
    """The prediction that success and accuracy are judged on: the majority vote over ``draws`` passes.

    The passes draw under ``seed`` in a forked generator, so the same inputs get the same
    prediction in every run and the caller's random stream is left as it was. Ties go to
    the lowest class index. One draw of a deterministic model is its plain argmax.
    """
    from bench.pipeline.training.plain import predict_logits

    device = next(model.parameters()).device
    y = labels.cpu()
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        logits = [predict_logits(model, x, batch_size) for _ in range(draws)]
    finite = all(bool(torch.isfinite(z).all()) for z in logits)
    preds = [z.argmax(1).cpu() for z in logits]
    if draws == 1:
        pred = preds[0]
    else:
        n_classes = int(max(int(p.max()) for p in preds) + 1) if len(y) else 1
        counts = torch.zeros(len(y), n_classes, dtype=torch.int64)
        for p in preds:
            counts[torch.arange(len(y)), p] += 1
        pred = counts.argmax(1)
    correct = torch.stack([p == y for p in preds]).double().mean(0) if len(y) else torch.zeros(0, dtype=torch.float64)
    return Judged(pred.numpy(), correct.numpy(), finite)
