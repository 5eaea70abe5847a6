"""The training loop (bench.pipeline.training.loop): the learning-rate schedule, and seeded augmentation."""

from __future__ import annotations

import pytest
import torch

from bench.pipeline.training.loop import augment_batch
from bench.spec.schema import AugmentSpec, TrainSpec


def test_cyclic_schedule_rises_to_lr_at_40_percent_then_falls_to_zero():
    from bench.pipeline.training.loop import scheduler

    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([param], lr=5e-3)
    sched = scheduler(opt, TrainSpec(lr=5e-3, schedule="cyclic"), total_steps=10)
    rates = []
    for _ in range(10):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    # Step i runs at the rate of its end, (i+1)/4 of the peak up to step 4, then down to 0 at step 10.
    assert rates == pytest.approx([1.25e-3, 2.5e-3, 3.75e-3, 5e-3, 5e-3 * 5 / 6, 5e-3 * 4 / 6, 5e-3 * 3 / 6, 5e-3 * 2 / 6, 5e-3 / 6, 0.0])
    assert scheduler(opt, TrainSpec(schedule="constant"), 10) is None


def test_augmentation_is_seeded_and_is_a_crop_and_a_flip():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6) + 1
    spec = AugmentSpec(crop_padding=2, flip=True)
    a = augment_batch(x, spec, torch.Generator().manual_seed(5))
    assert torch.equal(a, augment_batch(x, spec, torch.Generator().manual_seed(5))), "same seed, same crops and flips"
    assert not torch.equal(a, augment_batch(x, spec, torch.Generator().manual_seed(6)))
    for i in range(2):
        padded = torch.nn.functional.pad(x[i], (2, 2, 2, 2))
        windows = [padded[:, r : r + 6, c : c + 6] for r in range(5) for c in range(5)]
        assert any(torch.equal(a[i], w) or torch.equal(a[i], w.flip(2)) for w in windows), "a window of the padded image, maybe mirrored"
    assert torch.equal(augment_batch(x, AugmentSpec(), torch.Generator()), x)
