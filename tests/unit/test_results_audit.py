"""The audit checks (bench.results.audit): AutoAttack's model checks on the smoke data, backend disagreement, indicators."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from bench.pipeline.measure.diagnostics import diagnose
from bench.results.audit import check_backend_disagreement, check_indicators, check_model_outputs, indicator_table
from bench.results.details import Details


class Softmaxed(nn.Module):
    """A model that ends in a softmax: what foolbox #618 warns about."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x):
        return torch.softmax(self.model(x), dim=1)


class DropoutOn(nn.Module):
    """Dropout left on at inference: F.dropout with training=True ignores eval()."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(F.dropout(x, p=0.3, training=True))


class Dynamic(nn.Module):
    """Optimises its input at inference: calls autograd inside forward."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x):
        with torch.enable_grad():
            z = x.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(self.model(z).logsumexp(1).sum(), z)
        return self.model((x - 0.01 * g.sign()).clamp(0, 1))


def verdicts(model: nn.Module, digits) -> dict[str, str]:
    diag = diagnose("m", model, digits.x_eval[:50], digits.y_eval[:50], np.arange(50))
    return {r["check"]: r["verdict"] for r in check_model_outputs(diag)}


def test_probability_flag_fires_on_a_softmax_model_and_on_no_other(tiny_model, digits):
    assert verdicts(Softmaxed(tiny_model), digits)["probability-outputs"] == "fail"
    for other in (tiny_model, DropoutOn(tiny_model), Dynamic(tiny_model)):
        assert verdicts(other, digits)["probability-outputs"] == "pass", type(other).__name__


def test_randomized_flag_fires_on_dropout_left_on_and_on_no_other(tiny_model, digits):
    assert verdicts(DropoutOn(tiny_model), digits)["randomized-model"] == "fail"
    # A model with ordinary nn.Dropout, which eval() turns off, is not randomized.
    with_dropout = nn.Sequential(nn.Dropout(0.5), copy.deepcopy(tiny_model)).train()
    for other in (tiny_model, Softmaxed(tiny_model), Dynamic(tiny_model), with_dropout):
        assert verdicts(other, digits)["randomized-model"] == "pass", type(other).__name__
    assert with_dropout.training, "diagnose restores the model's mode"


def test_a_randomized_model_judged_by_a_vote_passes_and_one_judged_by_one_draw_is_told_what_to_set(tiny_model, digits):
    diag = diagnose("m", DropoutOn(tiny_model), digits.x_eval[:50], digits.y_eval[:50], np.arange(50), eval_draws=1)
    row = next(r for r in check_model_outputs(diag) if r["check"] == "randomized-model")
    assert row["verdict"] == "fail" and "set eval_draws (e.g. eval_draws: 11) on model m" in row["message"]
    voted = diagnose("m", DropoutOn(tiny_model), digits.x_eval[:50], digits.y_eval[:50], np.arange(50), eval_draws=9)
    row = next(r for r in check_model_outputs(voted) if r["check"] == "randomized-model")
    assert row["verdict"] == "pass" and "majority vote of 9 draws" in row["message"]
    assert (
        diag["grad_cosine"].median()
        < 0.99
        < diagnose("m", tiny_model, digits.x_eval[:50], digits.y_eval[:50], np.arange(50))["grad_cosine"].min()
    ), "two passes of a randomized model point elsewhere; a deterministic model's agree"


def test_dynamic_flag_fires_on_a_model_that_differentiates_at_inference(tiny_model, digits):
    assert verdicts(Dynamic(tiny_model), digits)["dynamic-model"] == "fail"
    assert verdicts(tiny_model, digits)["dynamic-model"] == "pass"


def _summary_row(use, attack, rate, lo, hi):
    return dict(
        model="m",
        attack=attack,
        use=use,
        view="logits",
        tag="naive",
        source="",
        norm="linf",
        eps=0.3,
        attack_success_rate=rate,
        attack_success_rate_lo=lo,
        attack_success_rate_hi=hi,
    )


def test_backend_disagreement_needs_disjoint_intervals():
    agree = pd.DataFrame([_summary_row("art.fgsm", "a", 0.50, 0.40, 0.60), _summary_row("torchattacks.fgsm", "t", 0.55, 0.45, 0.65)])
    differ = pd.DataFrame([_summary_row("art.pgd", "a", 0.20, 0.15, 0.26), _summary_row("torchattacks.pgd", "t", 0.90, 0.85, 0.94)])
    other = pd.DataFrame([_summary_row("art.pgd", "a", 0.20, 0.15, 0.26), _summary_row("bench.pgd_margin", "t", 0.90, 0.85, 0.94)])
    assert [r["verdict"] for r in check_backend_disagreement(agree)] == ["pass"]
    rows = list(check_backend_disagreement(differ))
    assert [r["verdict"] for r in rows] == ["warn"] and "20.0%" in rows[0]["message"] and "90.0%" in rows[0]["message"]
    assert list(check_backend_disagreement(other)) == [], "only the same attack in ART and torchattacks is compared"


def _records(success, eps=0.3):
    n = len(success)
    return pd.DataFrame(
        dict(model="m", attack="p", eps=eps, sample=np.arange(n), label=0, clean_pred=0, success=success, robust=~np.asarray(success))
    )


def test_indicators_from_a_trace():
    # Sample 0: broken. 1: adversarial on the path, lost at the end (silent). 2: failed, still falling (incomplete).
    # 3: failed and converged. 4: noisy margin (unstable).
    flat, falling = np.ones(20), np.linspace(1.0, 0.2, 20)
    trace = np.stack([np.linspace(1, -1, 20), np.r_[np.ones(10), -np.ones(5), np.ones(5)], falling, flat, flat])
    d = Details(
        "m",
        "p",
        "bench.pgd_margin",
        0.3,
        np.arange(5),
        {"margin_trace": trace, "ever_adv": np.array([1, 1, 0, 0, 0], bool), "noise_rel": np.array([0, 0, 0, 0, 0.5])},
    )
    table = indicator_table(_records(np.array([True, False, False, False, False])), [d]).set_index("sample")
    assert list(table["silent"]) == [False, True, False, False, False]
    assert list(table["incomplete"]) == [False, False, True, False, False]
    assert list(table["unstable"]) == [False, False, False, False, True]
    records = _records(np.array([True, False, False, False, False]))
    assert {r["check"] for r in check_indicators(records, [d])} == {"silent-success", "incomplete-optimisation", "unstable-predictions"}
    assert not list(check_indicators(records, [d], frozenset({"m"}))), "a randomized model's traces follow its draws: no verdict"


def test_the_obfuscation_checks_stay_quiet_on_a_plain_and_an_adversarially_trained_model(tiny_model, digits):
    from bench.pipeline.models.networks import build_model
    from bench.pipeline.training import fit
    from bench.results.flags import check_gradient_noise
    from bench.spec.schema import AdversarialSpec, TrainSpec

    torch.manual_seed(0)
    robust = build_model("tiny-mlp", digits.shape, digits.n_classes)
    fit(robust, digits.x_train, digits.y_train, TrainSpec(epochs=3, batch_size=64, lr=0.01, adversarial=AdversarialSpec(eps=0.1)), seed=0)
    for model in (tiny_model, robust.eval()):
        diag = diagnose("m", model, digits.x_eval[:50], digits.y_eval[:50], np.arange(50))
        assert diag["grad_cosine"].dropna().between(1 - 1e-9, 1 + 1e-9).all(), "two passes of a deterministic model agree"
        assert [r["verdict"] for r in check_gradient_noise(diag)] == ["pass"]
        assert verdicts(model, digits)["randomized-model"] == "pass"
