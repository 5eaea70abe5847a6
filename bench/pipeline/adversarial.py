"""Adversarial training's inner attack: the inputs each training step learns from.

``train.adversarial`` replaces every mini-batch by adversarial examples crafted on the
model being trained (``bench.pipeline.training.fit`` calls ``perturb`` once per step):

* ``fgsm-rs`` (Wong, Rice and Kolter 2020, "Fast is better than free"): a uniform random
  start in the eps-ball, one signed-gradient step of 1.25*eps, projected back onto the
  ball and the [0, 1] box.
* ``pgd`` (Madry et al. 2018): ``steps`` signed steps of ``step_size`` (default 2.5*eps/steps),
  from a uniform random start unless ``random_start: false``, projected after every step.

Under ``norm: l2`` the step follows the gradient divided by its L2 norm and the start is
uniform in the L2 ball.

**Mode.** The papers' code differs here (Madry's network has no dropout; Wong's MNIST net
neither, and their CIFAR code attacks in train mode). bench fixes one choice: the attack
runs on the model in **eval mode** (dropout off), so it attacks the same function the
evaluation attacks; ``fit`` switches back to train mode for the update. The attack takes
gradients with respect to the input only and leaves the weights' ``.grad`` untouched.

**Determinism.** Random starts draw from the ``torch.Generator`` that ``fit`` passes in,
seeded by the model's seed, so adversarial training is as reproducible as plain training
and leaves the shuffling and dropout streams alone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.spec.schema import AdversarialSpec


def _flat_norm(t: Tensor) -> Tensor:
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def random_start(x: Tensor, spec: AdversarialSpec, gen: torch.Generator) -> Tensor:
    """A uniform point of the eps-ball around each input (drawn on the CPU, so the stream is device-independent)."""
    if spec.norm == "linf":
        delta = (torch.rand(x.shape, generator=gen) * 2 - 1) * spec.eps
    else:
        direction = torch.randn(x.shape, generator=gen)
        direction = direction / _flat_norm(direction)
        d = x[0].numel()
        radius = torch.rand((len(x),) + (1,) * (x.dim() - 1), generator=gen) ** (1.0 / d) * spec.eps
        delta = direction * radius
    return delta.to(x.device)


def _project(x: Tensor, delta: Tensor, spec: AdversarialSpec) -> Tensor:
    """``delta`` clipped to the eps-ball and so that ``x + delta`` stays in [0, 1]."""
    if spec.norm == "linf":
        delta = delta.clamp(-spec.eps, spec.eps)
    else:
        delta = delta * (spec.eps / _flat_norm(delta)).clamp(max=1.0)
    return (x + delta).clamp(0.0, 1.0) - x


def perturb(model: nn.Module, x: Tensor, y: Tensor, spec: AdversarialSpec, gen: torch.Generator) -> Tensor:
    """Adversarial versions of ``x`` (labels ``y``) against ``model`` in eval mode; restores the model's mode."""
    was_training = model.training
    model.eval()
    start = spec.method == "fgsm-rs" or spec.random_start
    delta = _project(x, random_start(x, spec, gen), spec) if start else torch.zeros_like(x)
    for _ in range(spec.n_steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model(x + delta), y)
        (grad,) = torch.autograd.grad(loss, delta)
        step = grad.sign() if spec.norm == "linf" else grad / _flat_norm(grad)
        delta = _project(x, delta.detach() + spec.alpha * step, spec)
    model.train(was_training)
    return (x + delta).detach()
