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


def test_a_conv_net_trains_in_channels_last_and_is_handed_back_in_the_default_layout():
    from bench.pipeline.models.networks import build_model
    from bench.pipeline.training import fit

    torch.manual_seed(0)
    model = build_model("small-cnn", (3, 8, 8), 10)  # 3 channels: with one, both layouts are the same memory
    seen: list[bool] = []
    model.register_forward_pre_hook(lambda m, args: seen.append(args[0].is_contiguous(memory_format=torch.channels_last)))
    x, y = torch.rand(64, 3, 8, 8), torch.randint(0, 10, (64,))
    fit(model, x, y, TrainSpec(epochs=1, batch_size=32), seed=0)
    assert seen == [True, True], "every training step runs on channels-last inputs"
    assert all(p.is_contiguous() for p in model.parameters()), "the checkpoint keeps the default layout"
    assert not model.net[2].weight.is_contiguous(memory_format=torch.channels_last)
    mlp = build_model("tiny-mlp", (3, 8, 8), 10)
    seen.clear()
    mlp.register_forward_pre_hook(
        lambda m, args: seen.append(args[0].is_contiguous() and not args[0].is_contiguous(memory_format=torch.channels_last))
    )
    fit(mlp, x, y, TrainSpec(epochs=1, batch_size=32), seed=0)
    assert seen == [True, True], "a network without convolutions keeps the default layout"


def test_bf16_runs_the_forward_pass_in_bfloat16_and_keeps_fp32_weights_and_accuracy(digits):
    from bench.pipeline.models.networks import build_model
    from bench.pipeline.training import fit
    from bench.pipeline.training.plain import predict_logits

    trained = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = build_model("small-cnn", digits.shape, digits.n_classes)
        dtypes: list[torch.dtype] = []
        model.net[-1].register_forward_hook(lambda m, args, out, seen=dtypes: seen.append(out.dtype))
        fit(model, digits.x_train, digits.y_train, TrainSpec(epochs=5, batch_size=64, lr=0.01, precision=precision), seed=0)
        assert set(dtypes) == {torch.bfloat16 if precision == "bf16" else torch.float32}, "every training step's forward pass"
        assert all(p.dtype == torch.float32 for p in model.parameters()), "weights, and so the checkpoint, stay fp32"
        acc = float((predict_logits(model, digits.x_eval).argmax(1) == digits.y_eval).float().mean())
        trained[precision] = (acc, model.state_dict())
    assert trained["bf16"][0] > 0.8 and abs(trained["bf16"][0] - trained["fp32"][0]) < 0.06
    assert not torch.equal(trained["bf16"][1]["net.0.weight"], trained["fp32"][1]["net.0.weight"]), "bf16 really trained differently"


def test_bf16_on_a_cpu_without_it_trains_and_says_it_is_emulated(digits, monkeypatch, caplog):
    from bench.pipeline.models.networks import build_model
    from bench.pipeline.training import fit, loop

    monkeypatch.setattr(loop, "native_bf16", lambda: False)
    caplog.set_level("WARNING")
    fit(build_model("tiny-mlp", digits.shape, digits.n_classes), digits.x_train, digits.y_train, TrainSpec(epochs=1, precision="bf16"), 0)
    assert "no native bf16 (AVX512-BF16 or AMX): bf16 training is emulated, slower than fp32" in caplog.text
