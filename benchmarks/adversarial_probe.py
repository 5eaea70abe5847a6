"""Probe an adversarial-training recipe on the Papernot MNIST net: robust accuracy after every epoch.

Catastrophic overfitting (Wong, Rice and Kolter 2020) shows only over the epochs: robustness
to multi-step attacks climbs, then collapses within an epoch while the accuracy on the
training attack's own inputs keeps rising. A suite run sees only the last epoch, so this
script trains one recipe with bench's training attack (``bench.pipeline.training.adversarial.perturb``,
model in eval mode) and prints, after each epoch, one JSON line: the seconds, the accuracy on
the training attack's inputs, clean accuracy on the first 2,000 test images, and accuracy
under PGD-20 (step 0.025, one random start) with cross-entropy and with a clipped margin loss
at Linf 0.3 on the first 300 of the suite's 500 evaluation images (seed 0).

The lr follows ``schedule``: ``cyclic`` (0 up to lr at 40% of the steps, then back to 0) or
``cosine``, at the rate of each step's start; ``train.schedule`` uses the rate at its end, one
step later.

The numbers for fgsm-rs and PGD-3 in benchmarks/README.md ("Adversarial-training probes") come from these runs
(two at a time, 1 thread each):

  python benchmarks/adversarial_probe.py wong 1 5e-3 cyclic 0.375 10 100
  python benchmarks/adversarial_probe.py cyc1e3 1 1e-3 cyclic 0.375 10 100
  python benchmarks/adversarial_probe.py pgd3cyc 1 5e-3 cyclic 0.25 5 100 pgd 3
  python benchmarks/adversarial_probe.py pgd3cos 1 1e-3 cosine 0.25 5 128 pgd 3
  python benchmarks/adversarial_probe.py nfgsm 2 5e-3 cyclic 0.3 10 100 n-fgsm
  python benchmarks/adversarial_probe.py pgd3x7 1 5e-3 cyclic 0.25 7 100 pgd 3
  PROBE_EPS=0.35 python benchmarks/adversarial_probe.py pgd3e35 1 5e-3 cyclic 0.2917 5 100 pgd 3
  python benchmarks/adversarial_probe.py pgd2s20lr2 1 2e-3 cyclic 0.2 5 100 pgd 2
  python benchmarks/adversarial_probe.py pgd3s15lr2 1 2e-3 cyclic 0.15 5 100 pgd 3   # the suite's recipe

Arguments: name threads lr schedule step_size epochs batch_size [method [steps]].
``method`` is fgsm-rs or pgd (bench's own training attack) or n-fgsm (de Jorge et al. 2022,
"Make Some Noise": noise from [-2 eps, 2 eps], one signed step of step_size, no projection onto
the eps-ball; a candidate fix for fgsm-rs's overfitting, written here only, not in bench).
Environment: PROBE_EPS sets the training eps of pgd (default 0.3; evaluation stays at 0.3);
PROBE_AA=N runs the official AutoAttack (standard, Linf 0.3, seed 0) on the first N evaluation
images after the last epoch, as the defences suite does on its first 100.
Needs MNIST: export BENCH_DATA_DIR. Writes nothing but its output.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bench.pipeline.data.bundle import load_data
from bench.pipeline.models.networks import build_model
from bench.pipeline.training.adversarial import perturb
from bench.spec.schema import AdversarialSpec


def main() -> None:
    if len(sys.argv) < 8:
        sys.exit(__doc__)
    name, threads, lr_max, sched = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    alpha, epochs, bs = float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
    method = sys.argv[8] if len(sys.argv) > 8 else "fgsm-rs"
    steps = int(sys.argv[9]) if len(sys.argv) > 9 else 1
    if not os.environ.get("BENCH_DATA_DIR"):
        sys.exit("set BENCH_DATA_DIR to a folder holding MNIST/raw")
    torch.set_num_threads(threads)
    d = load_data("mnist", [Path(os.environ["BENCH_DATA_DIR"])], 0, None, 500)
    torch.manual_seed(0)
    m = build_model("papernot-mnist", d.shape, d.n_classes)
    if method == "fgsm-rs":
        adv = AdversarialSpec(method="fgsm-rs", eps=0.3, step_size=alpha)
    else:
        adv = AdversarialSpec(method="pgd", eps=float(os.environ.get("PROBE_EPS", "0.3")), steps=steps, step_size=alpha)
    opt = torch.optim.Adam(m.parameters(), lr=lr_max)
    n = len(d.x_train)
    total = epochs * math.ceil(n / bs)

    def lr_at(t: int) -> float:
        f = t / total
        if sched == "cyclic":
            return float(np.interp(f, [0, 0.4, 1], [0, lr_max, 0]))
        return lr_max * 0.5 * (1 + math.cos(math.pi * f))

    def pgd_eval(x: torch.Tensor, y: torch.Tensor, loss_kind: str, steps: int = 20, eps: float = 0.3, a: float = 0.025) -> float:
        m.eval()
        g = torch.Generator().manual_seed(5)
        delta = (x + (torch.rand(x.shape, generator=g) * 2 - 1) * eps).clamp(0, 1) - x
        for _ in range(steps):
            delta.requires_grad_(True)
            z = m(x + delta)
            if loss_kind == "ce":
                loss = F.cross_entropy(z, y)
            else:
                zy = z.gather(1, y[:, None])[:, 0]
                zo = z.masked_fill(F.one_hot(y, 10).bool(), -1e9).max(1).values
                loss = (zo - zy).clamp(max=1.0).sum()
            (grad,) = torch.autograd.grad(loss, delta)
            delta = ((delta.detach() + a * grad.sign()).clamp(-eps, eps) + x).clamp(0, 1) - x
        with torch.no_grad():
            return (m(x + delta).argmax(1) == y).float().mean().item()

    def nfgsm(x: torch.Tensor, y: torch.Tensor, eps: float = 0.3) -> torch.Tensor:
        # de Jorge et al. 2022: noise from [-2eps, 2eps], one signed step of alpha, no projection onto the eps-ball.
        m.eval()
        x0 = (x + (torch.rand(x.shape, generator=agen) * 2 - 1) * 2 * eps).clamp(0, 1).requires_grad_(True)
        (grad,) = torch.autograd.grad(F.cross_entropy(m(x0), y), x0)
        m.train()
        return (x0.detach() + alpha * grad.sign()).clamp(0, 1)

    gen, agen = torch.Generator().manual_seed(0), torch.Generator().manual_seed(2)
    xe, ye = d.x_eval[:300], d.y_eval[:300]
    t = 0
    for ep in range(epochs):
        t0, perm, correct = time.time(), torch.randperm(n, generator=gen), 0
        m.train()
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            xb, yb = d.x_train[idx], d.y_train[idx]
            for group in opt.param_groups:
                group["lr"] = lr_at(t)
            z = m(nfgsm(xb, yb) if method == "n-fgsm" else perturb(m, xb, yb, adv, agen))
            loss = F.cross_entropy(z, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            t += 1
            correct += int((z.argmax(1) == yb).sum())
        seconds = time.time() - t0
        m.eval()
        with torch.no_grad():
            clean = (m(d.x_test[:2000]).argmax(1) == d.y_test[:2000]).float().mean().item()
        row = dict(name=name, epoch=ep + 1, train_s=round(seconds, 1), train_adv_acc=round(correct / n, 4), clean=clean)
        row |= dict(pgd20_ce=pgd_eval(xe, ye, "ce"), pgd20_margin=pgd_eval(xe, ye, "margin"))
        print(json.dumps(row), flush=True)
    n_aa = int(os.environ.get("PROBE_AA", "0"))
    if n_aa:
        from pyautoattack import AutoAttack

        m.eval()
        aa = AutoAttack(m, eps=0.3, norm="Linf", seed=0, version="standard", device=torch.device("cpu"))
        aa.verbose = False
        t0 = time.time()
        x_adv, _ = aa.run_standard_evaluation(d.x_eval[:n_aa].contiguous(), d.y_eval[:n_aa].contiguous(), batch_size=250)
        with torch.no_grad():
            acc = (m(x_adv).argmax(1) == d.y_eval[:n_aa]).float().mean().item()
        print(json.dumps(dict(name=name, autoattack=acc, n=n_aa, seconds=round(time.time() - t0, 1))), flush=True)


if __name__ == "__main__":
    main()
