"""Defence steps and the judging of randomized models (bench.pipeline.models.defences)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bench.pipeline.models.defences import Defended, Median, build_step, defend, judge
from bench.spec.schema import ModelSpec


def grad_of(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(module(x).sum(), x)
    return g


def spec(*steps: dict, draws: int = 1) -> ModelSpec:
    return ModelSpec(id="m", kind="baseline", arch="tiny-mlp", defence=list(steps), eval_draws=draws)


def test_bit_depth_rounds_to_its_levels_and_passes_back_an_exactly_zero_gradient():
    x = torch.rand(4, 1, 8, 8)
    step = build_step({"name": "bit-depth", "bits": 3})
    out = step(x)
    assert torch.allclose(out, torch.round(x * 7) / 7, atol=1e-6)
    assert out.dtype == torch.float32 and out.shape == x.shape
    assert torch.equal(grad_of(step, x), torch.zeros_like(x)), "autograd cannot follow ART's numpy step: zero, not an error"
    assert set(build_step({"name": "bit-depth", "bits": 1})(x).unique().tolist()) <= {0.0, 1.0}


def test_jpeg_is_a_real_lossy_round_trip_with_a_zero_gradient():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 28, 28)
    out = build_step({"name": "jpeg", "quality": 30})(x)
    assert out.shape == x.shape and 0 < (out - x).abs().max() < 1
    assert torch.equal(out, build_step({"name": "jpeg", "quality": 30})(x)), "deterministic"
    assert torch.equal(grad_of(build_step({"name": "jpeg", "quality": 30}), x), torch.zeros_like(x))


@pytest.mark.parametrize("size", [2, 3, 4])
def test_median_is_arts_median_filter_and_autograd_follows_it_to_the_median_pixel(size):
    from art.defences.preprocessor import SpatialSmoothing

    torch.manual_seed(0)
    x = torch.rand(2, 3, 7, 6)
    want, _ = SpatialSmoothing(window_size=size, channels_first=True, clip_values=(0.0, 1.0))(x.numpy())
    assert np.array_equal(Median(size)(x).numpy(), want), "scipy's window, edges and upper median, value for value"
    g = grad_of(Median(size), x)
    assert g.sum().item() == pytest.approx(x.numel()), "every output passes its gradient to exactly one input"


def test_randomized_steps_draw_afresh_on_every_pass_and_keep_the_shape():
    x = torch.rand(8, 1, 28, 28)
    for params in ({"name": "gaussian-noise", "sigma": 0.2}, {"name": "random-resize-pad", "min_scale": 0.7}):
        step = build_step(params)
        assert step.randomized
        torch.manual_seed(1)
        a = step(x)
        b = step(x)
        torch.manual_seed(1)
        assert not torch.equal(a, b) and torch.equal(a, step(x)), "fresh per pass, reproducible from the seed"
        assert a.shape == x.shape
        assert grad_of(step, x).abs().sum() > 0, "autograd follows the draw"


def test_random_resize_pad_keeps_the_content_inside_a_zero_border():
    torch.manual_seed(0)
    x = torch.ones(16, 1, 28, 28)
    out = build_step({"name": "random-resize-pad", "min_scale": 0.5})(x)
    kept = (out > 0).flatten(1).sum(1)
    assert (kept >= 14 * 14).all() and (kept <= 28 * 28).all()
    assert len(set(kept.tolist())) > 1, "sizes differ from input to input"


def test_defend_puts_the_steps_before_the_network_and_nothing_when_there_are_none():
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    assert defend(net, "") is net
    model = defend(net, spec({"name": "bit-depth", "bits": 1}).defence_json())
    assert isinstance(model, Defended) and model.network is net
    x = torch.rand(5, 1, 8, 8)
    assert torch.equal(model(x), net((x > 0.5).float()))


class Coin(nn.Module):
    """Class 0 or 1 at random per input: a model whose every prediction is a draw."""

    def __init__(self, p_one: float) -> None:
        super().__init__()
        self.p_one = p_one
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        one = (torch.rand(len(x)) < self.p_one).float()
        return torch.stack([1 - one, one, torch.zeros(len(x))], 1) + 0 * self.w


def test_judge_takes_the_majority_vote_of_seeded_draws_and_leaves_the_callers_generator_alone():
    x, y = torch.zeros(400, 1), torch.ones(400, dtype=torch.int64)
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    judged = judge(Coin(0.7), x, y, draws=15, seed=3, positions=np.arange(400))
    assert torch.rand(1) == before, "the draws come from a forked generator"
    assert (judged.pred == 1).mean() > 0.9, "a 70% coin wins most votes of 15"
    assert 0.6 < judged.draws_correct.mean() < 0.8 and judged.finite
    again = judge(Coin(0.7), x, y, draws=15, seed=3, positions=np.arange(400))
    assert np.array_equal(again.pred, judged.pred) and np.array_equal(again.draws_correct, judged.draws_correct)
    one = judge(Coin(0.7), x, y, draws=1, seed=3, positions=np.arange(400))
    assert set(np.unique(one.draws_correct)) <= {0.0, 1.0}


def test_a_tie_goes_to_the_class_the_draws_found_likeliest():
    class Alternate(nn.Module):
        """Class 2 with a wide margin, then class 1 with a narrow one, and so on."""

        def __init__(self) -> None:
            super().__init__()
            self.w, self.calls = nn.Parameter(torch.zeros(1)), 0

        def forward(self, x):
            self.calls += 1
            cls, margin = (2, 5.0) if self.calls % 2 else (1, 0.5)
            return margin * nn.functional.one_hot(torch.full((len(x),), cls), 3).float() + 0 * self.w

    judged = judge(Alternate(), torch.zeros(4, 1), torch.full((4,), 1), draws=2, seed=0, positions=np.arange(4))
    assert judged.pred.tolist() == [2] * 4 and judged.draws_correct.tolist() == [0.5] * 4, "not the lower class index"


def test_a_defended_input_gets_the_same_draws_at_its_position_in_any_batch():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    model = defend(net, spec({"name": "random-resize-pad", "min_scale": 0.5}, {"name": "gaussian-noise", "sigma": 0.4}).defence_json())
    x, y = torch.rand(30, 1, 8, 8), torch.randint(0, 10, (30,))
    whole = judge(model, x, y, draws=7, seed=11, positions=np.arange(30), batch_size=8)
    some = np.array([3, 17, 29])
    part = judge(model, x[some], y[some], draws=7, seed=11, positions=some, batch_size=2)
    assert np.array_equal(part.pred, whole.pred[some]) and np.array_equal(part.draws_correct, whole.draws_correct[some])
    assert len(set(whole.draws_correct.tolist())) > 2, "the draws do differ"
    other = judge(model, x, y, draws=7, seed=12, positions=np.arange(30))
    assert not np.array_equal(other.draws_correct, whole.draws_correct), "another seed, other draws"
