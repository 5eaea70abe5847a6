"""The attack contract, asserted for every registered attack on a tiny model.

Shape kept, output in [0,1] and within eps, accuracy not increased, same
result under the same seed, and the model's train/eval mode untouched.

Every registered attack includes installed plug-ins. To run the contract on one
attack of your own (options from tests/conftest.py)::

    python -m pytest tests/contract --plugin my_project.bench_plugin --attack mylib.name \
        --attack-params 'mylib.name={"steps": 5}'

``--plugin`` is only needed when the attack is not installed with an entry point.
"""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from bench.attacks.base import Attack, AttackParams, CraftingModel
from bench.attacks.views import make_view
from bench.catalogue.attacks import ATTACKS

# Small budgets keep every attack in the millisecond-to-second range.
FAST = {
    "torchattacks.pgd": {"steps": 5},
    "torchattacks.pgdl2": {"steps": 5},
    "torchattacks.cw": {"steps": 20},
    "torchattacks.deepfool": {"steps": 10},
    "torchattacks.square": {"n_queries": 30},
    "art.pgd": {"max_iter": 5},
    "art.cw_l2": {"binary_search_steps": 2, "max_iter": 10},
    "art.deepfool": {"max_iter": 10},
    "bench.cw_l2": {"binary_search_steps": 5, "max_iter": 30},
    "bench.pgd_margin": {"steps": 10},
    "aa.standard": {"n_iter": 10, "n_queries": 100},
    "aa.apgd-ce": {"n_iter": 10},
    "aa.apgd-dlr": {"n_iter": 10},
    "aa.square": {"n_queries": 100},
    "art.hop_skip_jump": {"max_iter": 3, "max_eval": 200, "init_eval": 20},
}
EPS = {"linf": 0.2, "l2": 1.5, "l0": None}
N = 40


class ModeSpy(nn.Module):
    """Wraps a model and remembers whether any forward ran in training mode."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.saw_training = False

    def forward(self, x):
        self.saw_training |= self.training or self.model.training
        return self.model(x)


def test_a_view_does_not_change_the_mode_of_an_eval_model(tiny_model, digits):
    tiny_model.eval()
    target = CraftingModel(view=make_view(tiny_model, "logits"), n_classes=10, input_shape=(1, 8, 8), device=torch.device("cpu"))
    ATTACKS.get("torchattacks.fgsm")({}, "linf", seed=0)(target, digits.x_eval[:8], digits.y_eval[:8], 0.1)
    assert not tiny_model.training


def selected(config) -> list[str]:
    """The attacks under test: those named with --attack, else every registered one."""
    keys = config.getoption("attack") or ATTACKS.keys()
    for key in keys:
        if key not in ATTACKS:
            raise pytest.UsageError(f"--attack: attack '{key}' is not registered; is its package installed, or did you pass --plugin?")
    return keys


def fast_params(config) -> dict[str, dict]:
    """FAST, plus the parameters given with --attack-params KEY=JSON."""
    out = dict(FAST)
    for item in config.getoption("attack_params"):
        key, sep, raw = item.partition("=")
        if not sep:
            raise pytest.UsageError(f"--attack-params {item}: expected KEY=JSON")
        out[key] = json.loads(raw)
    return out


def pytest_generate_tests(metafunc):
    keys = selected(metafunc.config)
    if "norm" in metafunc.fixturenames:
        metafunc.parametrize("key,norm", [pytest.param(k, n, id=f"{k}-{n}") for k in keys for n in ATTACKS.get(k).norms])
    elif "key" in metafunc.fixturenames:
        metafunc.parametrize("key", [k for k in keys if ATTACKS.get(k).kind == "fixed_eps"])


@pytest.fixture
def fast(request):
    """Per-key parameters that keep each attack fast."""
    return fast_params(request.config)


def test_each_attack_follows_the_how_to_in_bench_attacks(request):
    names = {}
    for key in selected(request.config):
        cls = ATTACKS.get(key)
        assert issubclass(cls, Attack) and "__call__" not in vars(cls), f"{key}: only the base class defines __call__"
        assert "generate" not in getattr(cls, "__abstractmethods__", ()), f"{key}: implements generate"
        assert issubclass(cls.Params, AttackParams), f"{key}: Params subclass AttackParams"
        cost = cls.Params().cost()
        assert isinstance(cost, int) and cost >= 1, f"{key}: cost() is a positive pass count"
        assert cls.__name__ not in names, f"{key} and {names.get(cls.__name__)} share the class name {cls.__name__}"
        names[cls.__name__] = key


def test_an_attack_without_generate_cannot_be_built():
    class Lazy(Attack):
        description = "forgot generate"

    with pytest.raises(TypeError, match="abstract"):
        Lazy({}, "linf", seed=0)


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def run(key, norm, model, x, y, fast):
    cls = ATTACKS.get(key)
    attack = cls(fast.get(key, {}), norm, seed=123, batch_size=16)
    eps = EPS[norm] if cls.kind == "fixed_eps" else None
    target = CraftingModel(view=make_view(model, "logits"), n_classes=10, input_shape=(1, 8, 8), device=torch.device("cpu"))
    return attack(target, x, y, eps), eps


def test_contract(key, norm, fast, tiny_model, digits):
    x, y = digits.x_eval[:N], digits.y_eval[:N]
    for mode in (True, False):
        spy = ModeSpy(tiny_model)
        spy.train(mode)
        run(key, norm, spy, x, y, fast)
        assert not spy.saw_training, "attacks run in eval mode"
        assert spy.training is mode and tiny_model.training is mode, "the model's mode must be restored"
    tiny_model.eval()
    out, eps = run(key, norm, tiny_model, x, y, fast)
    adv = out.x_adv
    assert adv.shape == x.shape
    assert adv.dtype == x.dtype
    assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0
    if eps is not None:
        # The harness projects whatever a backend returns, so checking the output's norm would test the harness;
        # the contract asks a fixed-budget backend to stay within the ball itself, leaving nothing to correct.
        assert not out.projected.any(), f"{key} returned points outside the eps-ball or [0, 1]"
    assert accuracy(tiny_model, adv, y) <= accuracy(tiny_model, x, y) + 1e-9
    again, _ = run(key, norm, tiny_model, x, y, fast)
    assert torch.equal(again.x_adv, adv), "same seed, same result"
    assert out.projected.shape == (N,)


class Overshoots(Attack):
    """A backend that ignores its budget: the harness must project it and say so."""

    description = "steps 1.0 in every pixel"

    def generate(self, model, x, y, eps):
        return x + 1.0


def test_the_harness_projects_and_flags_a_backend_that_overshoots(tiny_model, digits):
    x, y = digits.x_eval[:8], digits.y_eval[:8]
    model = CraftingModel(view=make_view(tiny_model, "logits"), n_classes=10, input_shape=(1, 8, 8), device=torch.device("cpu"))
    out = Overshoots({}, "linf", seed=0)(model, x, y, 0.1)
    assert out.projected.all()
    assert float((out.x_adv - x).abs().max()) <= 0.1 + 1e-6 and float(out.x_adv.max()) <= 1.0


# Budgets at which each attack must break a clearly weak model (FAST is only for the contract's speed).
STRONG = {
    "art.cw_l2": {"binary_search_steps": 3, "max_iter": 30, "learning_rate": 0.1, "initial_const": 1.0},
    "torchattacks.cw": {"c": 10.0, "steps": 100, "lr": 0.1},
    "torchattacks.deepfool": {"steps": 50},
    "torchattacks.square": {"n_queries": 300},
}


def test_every_attack_actually_attacks(key, norm, fast, tiny_model, digits):
    # An adapter that returns x unchanged, or one that lost its gradient, fails here: the tiny MLP is
    # 80% accurate on these samples and every registered attack brings it to 50% or less.
    x, y = digits.x_eval[:N], digits.y_eval[:N]
    cls = ATTACKS.get(key)
    attack = cls(STRONG.get(key, fast.get(key, {})), norm, seed=123, batch_size=16)
    model = CraftingModel(view=make_view(tiny_model, "logits"), n_classes=10, input_shape=(1, 8, 8), device=torch.device("cpu"))
    out = attack(model, x, y, EPS[norm] if cls.kind == "fixed_eps" else None)
    before, after = accuracy(tiny_model, x, y), accuracy(tiny_model, out.x_adv, y)
    assert before >= 0.75 and after <= before - 0.3, f"{key} ({norm}): accuracy {before:.2f} -> {after:.2f}"


def test_zero_budget_returns_the_input(key, fast, tiny_model, digits):
    x, y = digits.x_eval[:8], digits.y_eval[:8]
    cls = ATTACKS.get(key)
    target = CraftingModel(view=make_view(tiny_model, "logits"), n_classes=10, input_shape=(1, 8, 8), device=torch.device("cpu"))
    out = cls(fast.get(key, {}), cls.norms[0], seed=0)(target, x, y, 0.0)
    assert torch.equal(out.x_adv, x)
