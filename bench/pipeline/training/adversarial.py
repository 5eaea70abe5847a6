"""Adversarial training (``train.adversarial``): its training loop and its inner attack.

``bench.pipeline.training.fit`` is what the train cell calls for every model. A model without
``train.adversarial`` never reaches this module, so its result, and its cache key (which
covers the loop and the plain loss, not this module), are exactly those of plain training.
An adversarially trained model runs the same loop (optimizer, schedule, shuffling,
augmentation) on ``batch_loss``: every mini-batch is replaced by adversarial examples
crafted on the model being trained (``perturb``), optionally mixed with the clean loss:

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
evaluation attacks; ``perturb`` switches back to train mode for the update. The attack takes
gradients with respect to the input only and leaves the weights' ``.grad`` untouched.

**Determinism.** Random starts draw from a ``torch.Generator`` of their own, seeded by
the model's seed, so adversarial training is as reproducible as plain training and
leaves the shuffling, augmentation and dropout streams as they are.

**Cost.** Each step costs ``AdversarialSpec.cost()`` forward-backward passes (2 for
fgsm-rs, 1 + steps for pgd); the progress bar's label says so, and an info line per
epoch gives the loss, the accuracy on the training attack's inputs (a sudden jump
towards 100% is catastrophic overfitting's sign, Wong et al. Sec. 5) and the seconds.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.pipeline.training.loop import BatchLoss
from bench.spec.schema import AdversarialSpec, TrainSpec

log = logging.getLogger(__name__)


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


def batch_loss(model: nn.Module, y: Tensor, params: TrainSpec, adv: AdversarialSpec, seed: int) -> BatchLoss:
    """(1-w) CE(adversarial) + w CE(clean) at ``params.temperature``, on inputs ``perturb`` crafts against ``model``."""
    adv_gen = torch.Generator().manual_seed(seed + 2)

    def loss(xb: Tensor, idx: Tensor) -> tuple[Tensor, Tensor]:
        yb = y[idx].to(xb.device)
        x_adv = perturb(model, xb, yb, adv, adv_gen)
        # .float(): the loss in fp32 when the forward passes run in bf16 (train.precision), a no-op otherwise.
        logits = model(x_adv).float() / params.temperature
        value = F.cross_entropy(logits, yb)
        if adv.clean_weight > 0:
            clean = model(xb).float() / params.temperature
            value = (1 - adv.clean_weight) * value + adv.clean_weight * F.cross_entropy(clean, yb)
        return value, (logits.argmax(1) == yb).sum()

    return loss
