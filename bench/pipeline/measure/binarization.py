"""The binarization test (Zimmermann, Brendel, Tramèr, Carlini, NeurIPS 2022): an attack unit test.

For one correctly classified input x, the model's last linear layer is replaced by a binary
readout on its features (the input of that layer), trained so that x and ``n_inner`` random
points of the eps-ball around it are class 0 and one *boundary point*, also inside the ball,
is class 1. An adversarial example within eps is then guaranteed to exist (the boundary
point). The attack under test runs on the binarized model with its own settings and view;
the test counts the samples where it found a class-1 point within eps. Samples whose
readout could not separate the points are *infeasible* and left out, as in the paper.

Where bench departs from the paper (see docs/flags.md, "binarization-test"):

* fewer inner points (``n_inner``, default 200, not 999), so that the test runs on a CPU;
* inner points are uniform in the eps-ball (clipped to [0, 1]); the boundary point is a random
  vertex of the Linf ball, or a random direction at radius eps for L2;
* the readout's output is rescaled so that its margin at x equals the original model's top-2
  logit gap at x: the binarized model keeps the logit scale of the model under test. Without
  this, a fresh readout would undo exactly the scale that masks a distilled network's gradients,
  and the test could not see a naive attack fail on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from bench.attacks.base import Attack, CraftingModel
from bench.attacks.ops import lp_norms
from bench.attacks.views import make_view
from bench.catalogue.attacks import ATTACKS
from bench.errors import SpecError
from bench.fsutil import atomic_write_text
from bench.pipeline.measure.remeasure import open_stored_run
from bench.results.audit import ATTACK_TESTS, BINARIZATION_PASS
from bench.results.families import family_of
from bench.results.flags import grade
from bench.results.records import within_budget
from bench.results.run_folder import RunFolder
from bench.spec.plan import attack_plan
from bench.spec.schema import AttackSpec, SuiteSpec, view_name

log = logging.getLogger(__name__)

N_INNER = 200
READOUT_STEPS = 300


def last_linear(model: nn.Module) -> nn.Linear:
    """The model's last ``nn.Linear`` (its readout), or ValueError when it has none."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("the binarization test needs a model whose last layer is an nn.Linear")
    return linears[-1]


class Binarized(nn.Module):
    """The model with its readout replaced by a binary one: logits (-z/2, z/2), z = scale * (w . h + b)."""

    def __init__(self, model: nn.Module, weight: Tensor, bias: Tensor, scale: float) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)
        self.scale = scale
        self.training = model.training

    def forward(self, x: Tensor) -> Tensor:
        z = self.scale * (features(self.model, x) @ self.weight + self.bias)
        return torch.stack([-z / 2, z / 2], 1)


def features(model: nn.Module, x: Tensor) -> Tensor:
    """The input of the model's last linear layer for ``x`` (the model's own forward pass runs in full)."""
    got: list[Tensor] = []
    handle = last_linear(model).register_forward_hook(lambda _m, inp, _out: got.append(inp[0]))
    try:
        model(x)
    finally:
        handle.remove()
    return got[0].flatten(1)


def ball_points(x: Tensor, eps: float, norm: str, n_inner: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """``n_inner`` uniform points of the eps-ball around ``x`` (one input) and one boundary point, all in [0, 1]."""
    shape = (n_inner, *x.shape[1:])
    if norm == "linf":
        inner = x + (torch.rand(shape, generator=gen) * 2 - 1) * eps
        boundary = x + eps * (torch.randint(0, 2, x.shape, generator=gen) * 2 - 1)
    else:
        d = x[0].numel()
        direction = torch.randn(shape, generator=gen)
        direction = direction / direction.flatten(1).norm(dim=1).view(-1, *[1] * (x.dim() - 1))
        radius = torch.rand(n_inner, generator=gen) ** (1 / d) * eps
        inner = x + direction * radius.view(-1, *[1] * (x.dim() - 1))
        b = torch.randn(x.shape, generator=gen)
        boundary = x + eps * b / b.norm()
    return inner.clamp(0, 1), boundary.clamp(0, 1)


def fit_readout(h_inner: Tensor, h_boundary: Tensor, steps: int = READOUT_STEPS) -> tuple[Tensor, Tensor, bool]:
    """A linear readout with inner features < 0 and the boundary feature > 0; whether it separates them."""
    feats = torch.cat([h_inner, h_boundary]).detach()
    mean, std = feats.mean(0), feats.std(0).clamp_min(1e-6)
    z = (feats - mean) / std
    target = torch.zeros(len(z))
    target[-1] = 1.0
    w = torch.zeros(z.shape[1], requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=0.05)
    # The one boundary point weighs as much as all inner points together.
    weight = torch.where(target > 0, torch.tensor(float(len(z) - 1)), torch.tensor(1.0))
    with torch.enable_grad():
        for _ in range(steps):
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(z @ w + b, target, weight=weight)
            loss.backward()
            opt.step()
    with torch.no_grad():
        out = z @ w
        ok = bool(out[:-1].max() < out[-1])
        # The threshold halfway between the highest inner point and the boundary point: the largest margin on both
        # sides that keeps every inner point class 0, so the guaranteed example is as easy to find as it can be.
        b = -(out[:-1].max() + out[-1]) / 2
        # Fold the standardisation into the readout: (h - mean) / std . w + b = h . (w / std) + (b - mean . w / std).
        weight_h = w / std
        bias_h = b - (mean * weight_h).sum()
    return weight_h.detach(), bias_h.detach(), ok


@dataclass(frozen=True)
class TestResult:
    """One attack on one model's binarized versions."""

    n_samples: int
    n_feasible: int
    n_found: int

    @property
    def rate(self) -> float:
        """Share of feasible samples where the attack found the guaranteed adversarial example."""
        return self.n_found / self.n_feasible if self.n_feasible else float("nan")


def binarization_test(
    model: nn.Module,
    attack_cls: type[Attack],
    spec: AttackSpec,
    norm: str,
    eps: float,
    x: Tensor,
    y: Tensor,
    seed: int,
    n_inner: int = N_INNER,
) -> TestResult:
    """Run ``spec``'s attack on the binarized model of every correctly classified input of (x, y)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    n_feasible = n_found = n = 0
    for i in range(len(x)):
        xi = x[i : i + 1]
        with torch.no_grad():
            logits = model(xi)
            if int(logits.argmax(1)) != int(y[i]):
                continue
            n += 1
            top2 = logits.topk(2, dim=1).values[0]
            gap = float(top2[0] - top2[1])
            inner, boundary = ball_points(xi, eps, norm, n_inner, gen)
            h_inner = features(model, torch.cat([xi, inner]))
            h_boundary = features(model, boundary)
        weight, bias, ok = fit_readout(h_inner, h_boundary)
        if not ok:
            continue
        with torch.no_grad():
            z_clean = float(features(model, xi)[0] @ weight + bias)
        if z_clean >= 0:
            continue
        n_feasible += 1
        binarized = Binarized(model, weight, bias, max(gap, 1e-6) / abs(z_clean)).eval()
        crafter = CraftingModel(view=make_view(binarized, spec.view), n_classes=2, input_shape=tuple(x.shape[1:]), device=x.device)
        attack = attack_cls(spec.params, norm, seed + i, batch_size=1)
        out = attack(crafter, xi, torch.zeros(1, dtype=torch.long), eps if attack.kind == "fixed_eps" else None)
        with torch.no_grad():
            adv_class = int(binarized(out.x_adv).argmax(1))
        size = float(lp_norms(out.x_adv - xi)[norm][0])
        n_found += int(adv_class == 1 and bool(within_budget(size, eps)))
    return TestResult(n, n_feasible, n_found)


def test_budget(spec: AttackSpec) -> float | None:
    """The budget the test runs an attack at: its largest finite eps, or None when it has none."""
    finite = [e for e in spec.eps if np.isfinite(e)]
    return max(finite) if finite else None


ROWS = ["model", "attack", "use", "view", "norm", "eps", "n_samples", "n_feasible", "n_found", "rate", "verdict", "note"]


def run_attack_tests(
    run_dir: Path,
    attack_ids: tuple[str, ...] = (),
    n_samples: int = 20,
    data_dir: str | None = None,
    store_root: Path | None = None,
    device: str = "auto",
    n_inner: int = N_INNER,
) -> pd.DataFrame:
    """The binarization test of every gradient attack (or ``attack_ids``) on every model of a finished run.

    Models come from the model store under the keys the run used (a model missing there is
    trained again, exactly as ``bench run`` would); writes ``attack_tests.csv`` in the run
    folder and returns it.
    """
    folder = RunFolder(run_dir)
    spec = SuiteSpec.model_validate(folder.require_manifest("the binarization test needs the run's spec")["spec"])
    known = {a.id for a in spec.attacks}
    unknown = [a for a in attack_ids if a not in known]
    if unknown:
        raise SpecError(f"--attack: no attack {', '.join(unknown)} in this run (it has {', '.join(sorted(known))})")
    run = open_stored_run(run_dir, "the binarization test needs the run's spec", data_dir, store_root, device, train_missing=True)
    ws, data, models, dev = run.ws, run.data, run.models, run.ws.device
    rows = []
    for planned in attack_plan(spec):
        a = spec.attacks[planned.attack]
        family = family_of(a.use)
        cls = ATTACKS.get(a.use)
        norm = cls.resolved_norm(a)
        eps = test_budget(a)
        gradient = family.role in ("single-step", "iterative", "minimum-norm") and not family.gradient_free
        selected = a.id in attack_ids if attack_ids else gradient
        if not selected or planned.source or norm not in ("linf", "l2") or eps is None:
            continue
        # The model as the run attacked it: behind its defence. (A BPDA or EOT view does not reach through the
        # binarized readout's wrapper, so on a defended model such an attack is tested as the naive one.)
        module = ws.module(models[planned.model], data)
        n = min(n_samples, len(data.y_eval))
        x, y = data.x_eval[:n].to(dev), data.y_eval[:n].to(dev)
        log.info("binarization test: %s on %s (%s eps %g, %d samples)", a.id, planned.model, norm, eps, n)
        note = ""
        try:
            result = binarization_test(module, cls, a, norm, eps, x, y, seed=spec.seed, n_inner=n_inner)
        except Exception as exc:  # noqa: BLE001 - an attack that cannot run on a two-class model is reported, not fatal
            # AutoAttack's APGD-T and FAB-T need more than two classes, for one.
            note = f"could not run on the two-class model: {type(exc).__name__}: {exc}"
            log.warning("binarization test of %s on %s: %s", a.id, planned.model, note)
            result = TestResult(0, 0, 0)
        verdict = grade(result.rate, BINARIZATION_PASS, BINARIZATION_PASS, higher_is_bad=False) if result.n_feasible else "–"
        values = [planned.model, a.id, a.use, view_name(a.view), norm, eps, result.n_samples, result.n_feasible, result.n_found]
        rows.append(dict(zip(ROWS, [*values, result.rate, verdict, note], strict=True)))
    frame = pd.DataFrame(rows, columns=ROWS)
    atomic_write_text(folder.path / ATTACK_TESTS, frame.to_csv(index=False, float_format="%.6g"))
    return frame
