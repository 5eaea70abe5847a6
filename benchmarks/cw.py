"""C&W L2: bench's batched implementation against ART's CarliniL2Method and torchattacks' CW.

Same 100 MNIST test samples, same baseline and T=100 distilled model (those of
suites/mnist.yaml), untargeted, kappa 0. Prints success rate (over correctly
classified samples), median L2 of the successful examples, seconds, and the
speed ratio against ART. Run: python benchmarks/cw.py [--n 100] [--art-iters 100]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from common import mnist_models, success_and_median_l2, timed

from bench.attacks import ATTACKS
from bench.attacks.art_backend import art_classifier
from bench.attacks.base import Target
from bench.attacks.views import make_view


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100, help="samples per model")
    ap.add_argument("--art-steps", type=int, default=9, help="ART binary-search steps")
    ap.add_argument("--art-iters", type=int, default=100, help="ART iterations per step")
    ap.add_argument("--art-lr", type=float, default=0.1, help="ART learning rate")
    ap.add_argument("--models", default="baseline,distilled")
    args = ap.parse_args()
    models, data = mnist_models()
    x, y = data.x_eval[: args.n], data.y_eval[: args.n]
    rows = []
    for mid in args.models.split(","):
        model = models[mid].module.eval()
        target = Target(view=make_view(model, "logits"), n_classes=10, input_shape=(1, 28, 28), device=torch.device("cpu"))
        bench_cw = ATTACKS.get("bench.cw_l2")({}, "l2", seed=0, batch_size=args.n)
        out, t_bench, _ = timed(lambda: bench_cw(target, x, y).x_adv)
        rows.append((mid, "bench.cw_l2 (9x200, lr 0.1, c0 1e-3)", *success_and_median_l2(model, x, y, out), t_bench))

        from art.attacks.evasion import CarliniL2Method

        clf = art_classifier(target)
        art = CarliniL2Method(clf, confidence=0.0, learning_rate=args.art_lr, binary_search_steps=args.art_steps,
                              max_iter=args.art_iters, initial_const=1e-3, batch_size=args.n, verbose=False)
        onehot = np.eye(10, dtype=np.float32)[y.numpy()]
        out, t_art, _ = timed(lambda: torch.from_numpy(art.generate(x.numpy(), y=onehot)))
        rows.append((mid, f"ART CarliniL2Method ({args.art_steps}x{args.art_iters}, lr {args.art_lr:g}, c0 1e-3)",
                     *success_and_median_l2(model, x, y, out), t_art))

        import torchattacks

        ta = torchattacks.CW(target.view, c=1.0, kappa=0, steps=100, lr=0.01)
        out, t_ta, _ = timed(lambda: ta(x, y))
        rows.append((mid, "torchattacks CW (c=1, 100 steps, lr 0.01)", *success_and_median_l2(model, x, y, out), t_ta))
        rows.append((mid, "speed ratio ART / bench", float("nan"), float("nan"), 0, t_art / t_bench))
    print(f"{'model':10s} {'attack':48s} {'success':>8s} {'median L2':>10s} {'n ok':>5s} {'seconds':>9s}")
    for mid, name, rate, med, n_ok, secs in rows:
        if name.startswith("speed"):
            print(f"{mid:10s} {name:48s} {'':8s} {'':10s} {'':5s} {secs:8.1f}x")
        else:
            print(f"{mid:10s} {name:48s} {rate:8.1%} {med:10.3f} {n_ok:5d} {secs:9.1f}")


if __name__ == "__main__":
    main()
