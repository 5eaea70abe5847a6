"""C&W L2: bench's batched implementation against ART's CarliniL2Method and torchattacks' CW.

Same MNIST test samples (default 100), same baseline and T=100 distilled model (those of
suites/mnist.yaml), untargeted, kappa 0, initial c 1e-3. For each model it prints the success
rate (over correctly classified samples), the median L2 of the successful examples, seconds,
and the speed ratio against ART, for bench at its defaults (9 x 200) and at ART's budget
(9 x --art-iters). Because median L2 over different sets of broken samples is not comparable,
it also prints the median L2 of bench and ART on the samples both broke.

Run: python benchmarks/cw.py [--n 100] [--art-iters 100]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from bench.attacks.art_backend import art_classifier
from bench.attacks.base import CraftingModel
from bench.attacks.views import make_view
from bench.catalogue.attacks import ATTACKS
from common import mnist_models, timed


def broken(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, x_adv: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(correct before, broken by the attack, L2 per sample)."""
    with torch.no_grad():
        ok = model(x).argmax(1) == y
        won = ok & (model(x_adv).argmax(1) != y)
    return ok, won, (x_adv - x).flatten(1).norm(dim=1)


def row(name: str, ok: torch.Tensor, won: torch.Tensor, l2: torch.Tensor, secs: float) -> tuple[str, float, float, float]:
    rate = won.sum().item() / max(ok.sum().item(), 1)
    med = float(l2[won].median()) if won.any() else float("nan")
    return name, rate, med, secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100, help="samples per model")
    ap.add_argument("--art-steps", type=int, default=9, help="ART binary-search steps")
    ap.add_argument("--art-iters", type=int, default=100, help="ART iterations per step")
    ap.add_argument("--art-lr", type=float, default=0.1, help="ART learning rate")
    ap.add_argument("--models", default="baseline,distilled")
    args = ap.parse_args()
    models = mnist_models()
    data = models.data
    x, y = data.x_eval[: args.n], data.y_eval[: args.n]
    print(f"{'model':10s} {'attack':52s} {'success':>8s} {'median L2':>10s} {'seconds':>8s} {'ART/this':>9s}")
    for mid in args.models.split(","):
        model = models.module(mid).eval()
        target = CraftingModel(view=make_view(model, "logits"), n_classes=10, input_shape=(1, 28, 28), device=torch.device("cpu"))
        cw = ATTACKS.get("bench.cw_l2")
        bench_default = cw({}, "l2", seed=0)
        out_d, t_d, _ = timed(lambda: bench_default(target, x, y).x_adv)
        budget = {"binary_search_steps": args.art_steps, "max_iter": args.art_iters, "lr": args.art_lr}
        bench_equal = cw(budget, "l2", seed=0)
        out_e, t_e, _ = timed(lambda: bench_equal(target, x, y).x_adv)

        from art.attacks.evasion import CarliniL2Method

        art = CarliniL2Method(
            art_classifier(target),
            confidence=0.0,
            learning_rate=args.art_lr,
            binary_search_steps=args.art_steps,
            max_iter=args.art_iters,
            initial_const=1e-3,
            batch_size=args.n,
            verbose=False,
        )
        onehot = np.eye(10, dtype=np.float32)[y.numpy()]
        out_a, t_a, _ = timed(lambda: torch.from_numpy(art.generate(x.numpy(), y=onehot)))

        import torchattacks

        ta = torchattacks.CW(target.view, c=1.0, kappa=0, steps=100, lr=0.01)
        out_t, t_t, _ = timed(lambda: ta(x, y))
        model.eval()  # torchattacks leaves the model as it found it; be explicit before judging

        ok, won_a, l2_a = broken(model, x, y, out_a)
        rows = [
            row(f"bench.cw_l2 defaults ({9}x200, lr 0.1)", *broken(model, x, y, out_d), t_d),
            row(f"bench.cw_l2 at ART's budget ({args.art_steps}x{args.art_iters}, lr {args.art_lr:g})", *broken(model, x, y, out_e), t_e),
            row(f"ART CarliniL2Method ({args.art_steps}x{args.art_iters}, lr {args.art_lr:g})", ok, won_a, l2_a, t_a),
            row("torchattacks CW (c=1, 100 steps, lr 0.01)", *broken(model, x, y, out_t), t_t),
        ]
        for name, rate, med, secs in rows:
            print(f"{mid:10s} {name:52s} {rate:8.1%} {med:10.3f} {secs:8.1f} {t_a / secs:8.1f}x")
        _, won_d, l2_d = broken(model, x, y, out_d)
        both = won_d & won_a
        if both.any():
            print(
                f"{mid:10s} median L2 on the {int(both.sum())} samples both broke: bench {float(l2_d[both].median()):.3f}, "
                f"ART {float(l2_a[both].median()):.3f} (ratio {float(l2_d[both].median()) / float(l2_a[both].median()):.3f})"
            )


if __name__ == "__main__":
    main()
