"""Harness overhead and training throughput: bench against the libraries called directly.

* Attack cells: a bench attack cell (torchattacks PGD-40, ART FGSM; 500 MNIST samples, the
  baseline of suites/mnist.yaml), executed from its cell value and writing its shard, against
  the same library call in a plain script, including the plain script's own prediction on the
  adversarial inputs. Target: bench <= 1.05x.
* Training: bench's ``fit`` against a minimal plain PyTorch loop, one epoch of the Papernot
  net. Target: bench's throughput >= 1.0x. And what bench's epoch achieves: FLOP/s (forward
  and backward, counted by FlopCounterMode) against the machine's fp32 peak as torch reaches
  it, a 2048x2048 matrix product measured just before and after each epoch. Target: >= 50%.

Each measurement alternates bench and plain runs and reports medians. Run:
python benchmarks/overhead.py [--repeat 5] [--train-repeat 3] [--train-only] [--bf16]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
import torch.nn.functional as F

from bench.pipeline.cells.build import attack_cell, eval_cell
from bench.pipeline.cells.execute import execute
from bench.pipeline.models.networks import build_model
from bench.pipeline.training import fit
from bench.spec.schema import TrainSpec
from common import alternate, attack_spec, matmul_peak, mnist_models, timed, training_flops_per_sample


def plain_pgd(model, x, y):
    import torchattacks

    adv = torchattacks.PGD(model, eps=0.3, alpha=2.5 * 0.3 / 40, steps=40, random_start=True)(x, y)
    with torch.no_grad():
        return model(adv).argmax(1)


def plain_art_fgsm(clf, model, x, y):
    from art.attacks.evasion import FastGradientMethod

    adv = FastGradientMethod(clf, eps=0.3, eps_step=0.3, batch_size=len(x)).generate(x.numpy(), y=np.eye(10, dtype=np.float32)[y.numpy()])
    with torch.no_grad():
        return model(torch.from_numpy(adv)).argmax(1)


def plain_epoch(model, x, y, batch: int = 128, seed: int = 0) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    model.train()
    for i in range(0, len(x), batch):
        idx = perm[i : i + batch]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()


def attack_rows(models, repeat: int) -> list[tuple[str, float, float, float, str]]:
    """The attack-cell rows: each cell against the same library call in a plain script."""
    data, ref = models.data, models.refs["baseline"]
    model = models.module("baseline")
    x, y = data.x_eval, data.y_eval
    evaluation = eval_cell(ref, models.data_ref, False, models.ws.runtime)
    execute(evaluation, models.ws)  # the clean shard an attack cell reads
    rows = []
    for name, spec, plain in [
        ("torchattacks PGD-40, eps 0.3", attack_spec("torchattacks.pgd", {"steps": 40}, [0.3]), lambda: plain_pgd(model, x, y)),
        ("ART FGSM, eps 0.3", attack_spec("art.fgsm", {}, [0.3]), None),
    ]:
        if plain is None:
            from bench.attacks.art_backend import art_classifier

            clf = art_classifier(models.ws.crafting_model(ref, "logits", data))  # the same wrapper bench builds once per model
            plain = lambda: plain_art_fgsm(clf, model, x, y)  # noqa: E731
        cell = attack_cell(spec, ref, models.data_ref, 0, models.ws.runtime, evaluation, None)
        tb, tp = alternate(lambda: execute(cell, models.ws), plain, repeat)
        rows.append((f"attack cell: {name}, {len(x)} samples", tb, tp, tb / tp, "<= 1.05"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--train-repeat", type=int, default=3)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--train-only", action="store_true", help="Only the training rows (needs no trained model).")
    ap.add_argument("--bf16", action="store_true", help="Also time bench's epoch with train.precision: bf16 (opt-in mixed precision).")
    args = ap.parse_args()
    models = mnist_models(eval_size=args.n, only=() if args.train_only else None)
    rows = [] if args.train_only else attack_rows(models, args.repeat)
    data = models.data

    def bench_train(precision: str = "fp32"):
        torch.manual_seed(0)
        m = build_model("papernot-mnist", (1, 28, 28), 10)
        fit(m, data.x_train, data.y_train, TrainSpec(epochs=1, schedule="constant", precision=precision), seed=0)

    def plain_train():
        torch.manual_seed(0)
        plain_epoch(build_model("papernot-mnist", (1, 28, 28), 10), data.x_train, data.y_train)

    # Each bench epoch is bracketed by two peak measurements and judged against the higher: this VM's speed drifts
    # (its matmul peak has read 150 to 323 GFLOP/s on different minutes), so a peak from another minute says little.
    flops = training_flops_per_sample(build_model("papernot-mnist", (1, 28, 28), 10), data.x_train[:128], data.y_train[:128])
    tbs, tps, fractions, peaks, t16s, f16s = [], [], [], [], [], []
    for _ in range(args.train_repeat):
        before = matmul_peak(repeat=10)
        tbs.append(timed(bench_train)[1])
        after = matmul_peak(repeat=10)
        peak = max(before, after)
        if args.bf16:
            # The same FLOPs at another precision, judged against the same fp32 peak: how much faster than fp32 can be.
            t16s.append(timed(lambda: bench_train("bf16"))[1])
            f16s.append(flops * len(data.x_train) / t16s[-1] / max(after, matmul_peak(repeat=10)))
        tps.append(timed(plain_train)[1])
        fractions.append(flops * len(data.x_train) / tbs[-1] / peak)
        peaks.append(peak)
    tb, tp = statistics.median(tbs), statistics.median(tps)
    rows.append(("training: 1 epoch Papernot net, 60k images (throughput ratio)", tb, tp, tp / tb, ">= 1.0"))
    achieved = flops * len(data.x_train) / tb
    print(f"{'measurement':66s} {'bench s':>8s} {'plain s':>8s} {'ratio':>7s}  target")
    for name, tb, tp, ratio, goal in rows:
        print(f"{name:66s} {tb:8.2f} {tp:8.2f} {ratio:7.3f}  {goal}")
    print(
        f"training epoch: {flops / 1e6:.1f} MFLOP per sample, median {achieved / 1e9:.1f} GFLOP/s on {torch.get_num_threads()} threads; "
        f"each epoch against the fp32 matmul peak measured around it: "
        + ", ".join(f"{f:.2f} of {p / 1e9:.0f}" for f, p in zip(fractions, peaks, strict=True))
        + f"; median {statistics.median(fractions):.2f} of peak (target >= 0.50)"
    )
    if t16s:
        t16 = statistics.median(t16s)
        print(
            f"training epoch in bf16 (train.precision: bf16): median {t16:.2f} s, {tb / t16:.2f}x the fp32 epoch, "
            f"{flops * len(data.x_train) / t16 / 1e9:.1f} GFLOP/s; against the fp32 peak around it: "
            + ", ".join(f"{f:.2f}" for f in f16s)
            + f"; median {statistics.median(f16s):.2f}"
        )


if __name__ == "__main__":
    main()
