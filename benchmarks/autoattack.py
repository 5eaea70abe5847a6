"""AutoAttack through bench against the official ``run_standard_evaluation`` on the same model and samples.

bench's ``aa.standard`` runs the official sub-attacks itself, in the official order, so that
it can record which one broke each sample (``broken_by``). This measures what that costs:
a whole bench attack cell (``aa.standard``: the cascade, the judgement on the deployed model,
the shard and the details written) against ``AutoAttack(...).run_standard_evaluation`` called
directly on the same network, samples and eps, runs alternating, medians reported. Target:
bench <= 1.05x. The official call gets the seed bench derives for the attack, so both draw the
same random numbers, break the same samples and do the same work (``tests/unit/test_autoattack.py``
checks that their adversarial inputs are equal); the robust accuracies of both are printed.
``--seed`` is the run's seed.

The model is a suite's model from bench's store (trained on first use). The default, the
default suite's baseline at Linf 0.1, leaves many samples robust after APGD, so every
sub-attack (Square's 5000 queries too) does real work. The adversarially trained net:
``--suite mnist-defences.yaml --model adv-pgd --eps 0.3`` (trains for ~20 min on first use).
Run: python benchmarks/autoattack.py [--n 100] [--repeat 2]
"""

from __future__ import annotations

import argparse

import torch

from bench.pipeline.cells.build import attack_cell, eval_cell
from bench.pipeline.cells.execute import execute
from bench.pipeline.cells.values import attack_seed
from bench.results.records import read_shard
from common import alternate, attack_spec, mnist_models


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--suite", default="mnist.yaml")
    ap.add_argument("--model", default="baseline")
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from pyautoattack import AutoAttack

    models = mnist_models(args.suite, eval_size=args.n, only=(args.model,))
    ref, data = models.refs[args.model], models.data
    net = models.module(args.model)
    x, y = data.x_eval[: args.n].contiguous(), data.y_eval[: args.n].contiguous()
    evaluation = eval_cell(ref, models.data_ref, False, models.ws.runtime)
    execute(evaluation, models.ws)  # the clean shard an attack cell reads
    cell = attack_cell(attack_spec("aa.standard", {}, [args.eps]), ref, models.data_ref, args.seed, models.ws.runtime, evaluation, None)
    robust: dict[str, list[float]] = {"bench": [], "official": []}

    def bench_cell() -> None:
        execute(cell, models.ws)
        shard = read_shard(models.ws.paths.run_dir / cell.shard)
        robust["bench"].append(float((shard["adv_pred"] == shard["label"]).mean()))

    def official() -> None:
        seed = attack_seed(args.seed, cell.attack.id)  # the seed bench's cell gives its AutoAttack
        aa = AutoAttack(net, norm="Linf", eps=args.eps, version="standard", seed=seed, device=torch.device("cpu"))
        aa.verbose = False
        x_adv, _ = aa.run_standard_evaluation(x, y, batch_size=250)
        with torch.no_grad():
            robust["official"].append(float((net(x_adv).argmax(1) == y).float().mean()))

    tb, tp = alternate(bench_cell, official, args.repeat)
    print(f"model {args.model} of {args.suite}, {args.n} samples, Linf eps {args.eps}, torch threads {torch.get_num_threads()}")
    print(f"{'measurement':44s} {'bench s':>8s} {'official s':>10s} {'ratio':>7s}  target")
    print(f"{'aa.standard cell vs run_standard_evaluation':44s} {tb:8.2f} {tp:10.2f} {tb / tp:7.3f}  <= 1.05")
    for who, accs in robust.items():
        print(f"robust accuracy, {who}: {', '.join(f'{a:.0%}' for a in accs)}")


if __name__ == "__main__":
    main()
