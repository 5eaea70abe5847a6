"""AutoAttack (bench.attacks.autoattack): which sub-attack broke each sample, and the breakdown it gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from bench.attacks.autoattack import SUBATTACKS
from bench.attacks.base import CraftingModel
from bench.attacks.views import make_view
from bench.catalogue.attacks import ATTACKS
from bench.reporting.report.audit import AA_SUBATTACKS
from bench.results.audit import autoattack_breakdown
from bench.results.details import Details


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


def test_the_cascade_breaks_exactly_the_samples_run_standard_evaluation_breaks(tiny_model, digits):
    # Same network, samples, seed and budgets: bench runs the official objects in the official order under the
    # official no-grad context, so every sub-attack draws the same random numbers and breaks the same samples.
    from pyautoattack import AutoAttack

    x, y = digits.x_eval[:40].contiguous(), digits.y_eval[:40].contiguous()
    target = CraftingModel(view=make_view(tiny_model, "logits"), n_classes=10, input_shape=(1, 8, 8), device=torch.device("cpu"))
    ours = ATTACKS.get("aa.standard")({"n_iter": 5, "n_queries": 30}, "linf", seed=7)(target, x, y, 0.1)
    aa = AutoAttack(tiny_model, norm="Linf", eps=0.1, version="standard", seed=7, device=torch.device("cpu"))
    aa.verbose = False
    aa.apgd.n_iter = aa.apgd_targeted.n_iter = aa.fab.n_iter = 5
    aa.square.n_queries = 30
    theirs, _ = aa.run_standard_evaluation(x, y, batch_size=250)
    with torch.no_grad():
        robust_ours = tiny_model(ours.x_adv).argmax(1) == y
        robust_theirs = tiny_model(theirs).argmax(1) == y
    assert 0 < int(robust_ours.sum()) < 40
    assert torch.equal(robust_ours, robust_theirs)
    assert torch.equal(ours.x_adv, theirs)
