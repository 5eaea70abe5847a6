"""The audit checks on the smoke data: AutoAttack's model checks, backend disagreement, indicators, AutoAttack's breakdown."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bench.attacks.autoattack import SUBATTACKS
from bench.attacks.base import CraftingModel
from bench.attacks.views import make_view
from bench.catalogue.attacks import ATTACKS
from bench.pipeline.measure.diagnostics import diagnose
from bench.reporting.report.audit import AA_SUBATTACKS
from bench.results.audit import autoattack_breakdown, check_backend_disagreement, check_model_outputs, indicator_table
from bench.results.details import Details, load_details, save_details


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


def test_details_round_trip(tmp_path):
    path = tmp_path / "d.npz"
    save_details(path, {"model": "m", "attack": "a", "use": "aa.standard"}, [3, 4], [(0.1, {"x": np.array([1, 2])}), (None, {"x": [5, 6]})])
    got = load_details(path)
    assert [(d.eps, list(d.arrays["x"])) for d in got] == [(0.1, [1, 2]), (float("inf"), [5, 6])]
    assert list(got[0].sample) == [3, 4] and got[0].use == "aa.standard"


def test_autoattack_records_which_sub_attack_broke_each_sample(tiny_model, digits):
    assert SUBATTACKS == AA_SUBATTACKS
    x, y = digits.x_eval[:30], digits.y_eval[:30]
    target = CraftingModel(view=make_view(tiny_model, "logits"), n_classes=10, input_shape=(1, 8, 8), device=torch.device("cpu"))
    out = ATTACKS.get("aa.standard")({"n_iter": 10, "n_queries": 50}, "linf", seed=3)(target, x, y, 0.1)
    by = out.details["broken_by"]
    with torch.no_grad():
        clean_ok = (tiny_model(x).argmax(1) == y).numpy()
        adv_ok = (tiny_model(out.x_adv).argmax(1) == y).numpy()
    assert by.shape == (30,) and set(np.unique(by)) <= {-1, 0, 1, 2, 3}
    assert (by >= 0).any()
    # A sample a sub-attack broke is misclassified; a robust one was never broken.
    assert not adv_ok[by >= 0].any() and (by[adv_ok & clean_ok] == -1).all()
    records = pd.DataFrame(
        dict(
            model="m",
            attack="aa",
            eps=0.1,
            sample=np.arange(30),
            label=y.numpy(),
            clean_pred=tiny_model(x).argmax(1).numpy(),
            robust=adv_ok,
        )
    )
    table = autoattack_breakdown(records, [Details("m", "aa", "aa.standard", 0.1, np.arange(30), {"broken_by": by})], SUBATTACKS)
    steps = [table[f"after {s}"].iloc[0] for s in SUBATTACKS]
    assert steps == sorted(steps, reverse=True) and steps[-1] == pytest.approx(table["robust (bench)"].iloc[0])


def test_pgd_traces_show_a_naive_attack_stalling_on_a_saturated_model(tiny_model, digits):
    # Logits x1000: the float32 softmax saturates as on a distilled net, so cross-entropy has no gradient.
    hot = copy.deepcopy(tiny_model)
    with torch.no_grad():
        last = [m for m in hot.modules() if isinstance(m, nn.Linear)][-1]
        last.weight *= 1000
        last.bias *= 1000
    x, y = digits.x_eval[:40], digits.y_eval[:40]
    target = CraftingModel(view=make_view(hot, "logits"), n_classes=10, input_shape=(1, 8, 8), device=torch.device("cpu"))
    runs = {
        loss: ATTACKS.get("bench.pgd_margin")({"steps": 10, "loss": loss}, "linf", seed=0)(target, x, y, 0.2) for loss in ("ce", "margin")
    }
    for out in runs.values():
        assert out.details["margin_trace"].shape == (40, 10) and out.details["ever_adv"].shape == (40,)
    ce, mg = (runs[k].details["margin_trace"] for k in ("ce", "margin"))
    moved = lambda t: np.median(np.abs(t[:, -1] - t[:, 0]) / np.abs(t[:, 0]))  # noqa: E731
    assert moved(ce) < 0.05 < moved(mg)
    assert runs["margin"].details["ever_adv"].mean() > runs["ce"].details["ever_adv"].mean() + 0.3


def test_an_autoattack_suite_without_the_package_says_how_to_install_it(monkeypatch):
    import importlib.util

    from bench.errors import SpecError
    from bench.spec.load import parse_suite

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyautoattack" else real(name, *a))
    data = {
        "name": "s",
        "dataset": {"name": "digits"},
        "models": [{"id": "m", "kind": "baseline", "arch": "tiny-mlp"}],
        "attacks": [{"id": "aa", "use": "aa.standard", "eps": [0.1]}],
    }
    with pytest.raises(SpecError, match=r"attacks\[0\]\.use: 'aa.standard' needs the package pyautoattack.*bench\[autoattack\]"):
        parse_suite(data)


def test_partial_coverage_warns_when_a_subset_attack_breaks_what_others_missed():
    from bench.results.flags import check_partial_coverage

    def rows(attack, samples, broken):
        return pd.DataFrame(
            dict(
                model="m",
                attack=attack,
                use="x",
                source="",
                kind="fixed_eps",
                norm="linf",
                eps=0.3,
                sample=samples,
                label=0,
                clean_pred=0,
                adv_pred=np.where(broken, 1, 0),
                linf=0.3,
            )
        )

    pgd = rows("pgd", np.arange(100), np.arange(100) < 10)  # breaks 0-9 of 100
    strong = rows("aa", np.arange(20), np.arange(20) < 15)  # on its 20: breaks 0-14, 5 that pgd missed
    weak = rows("aa", np.arange(20), np.arange(20) < 10)  # breaks only what pgd broke
    (row,) = check_partial_coverage(pd.concat([pgd, strong]))
    assert (row["attack"], row["verdict"], row["value"]) == ("aa", "warn", 0.25)
    assert "85.0% over all 100 samples, 25.0% on its 20" in row["message"]
    assert [r["verdict"] for r in check_partial_coverage(pd.concat([pgd, weak]))] == ["pass"]
    assert list(check_partial_coverage(pgd)) == [], "an attack on every sample has nothing to warn about"
    square = strong.assign(use="aa.square")
    assert list(check_partial_coverage(pd.concat([pgd, square]))) == [], "a gradient-free attack is transfer-beats-whitebox's to judge"
