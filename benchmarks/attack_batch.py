"""Attack batch size vs speed: seconds per 500 MNIST-sized inputs for PGD-40, at several batch sizes.

The attack base class's ``default_batch_size`` (128) comes from this script. A batch's
activations (the Papernot net's first conv layer: 32 x 26 x 26 floats per input, 86 KB)
outgrow the CPU's last-level cache past a few hundred inputs, and every one of the
attack's steps then streams them from memory. The script prints, per attack and batch
size, the seconds and the speed relative to batch 500 (bench's old default); ratios, not
absolute times, are what carry over between machines.

PGD runs all its steps whatever the model predicts, so an untrained net measures the same
work as a trained one. Two threads, as bench runs on the project's 2-core machine.

  python benchmarks/attack_batch.py [threads]
"""

from __future__ import annotations

import sys
import time

import torch

from bench.attacks.base import CraftingModel
from bench.catalogue.attacks import ATTACKS
from bench.pipeline.models.networks import PapernotMnist

SIZES = (500, 250, 128, 100, 64)
ATTACKS_TIMED = (("torchattacks.pgd", {"steps": 40}), ("bench.pgd_margin", {"steps": 40}))


def main() -> None:
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    torch.manual_seed(0)
    net = PapernotMnist((1, 28, 28), 10).eval()
    model = CraftingModel(view=net, n_classes=10, input_shape=(1, 28, 28), device=torch.device("cpu"))
    x, y = torch.rand(500, 1, 28, 28), torch.randint(0, 10, (500,))
    for key, params in ATTACKS_TIMED:
        cls = ATTACKS.get(key)
        cls(params, "linf", 0, batch_size=SIZES[0])(model, x[:64], y[:64], 0.3)  # warm-up
        base = None
        for size in SIZES:
            start = time.perf_counter()
            cls(params, "linf", 0, batch_size=size)(model, x, y, 0.3)
            seconds = time.perf_counter() - start
            base = base or seconds
            print(f"{key:18s} batch {size:4d}: {seconds:6.2f} s  speed x{base / seconds:.2f} vs batch {SIZES[0]}", flush=True)


if __name__ == "__main__":
    main()
