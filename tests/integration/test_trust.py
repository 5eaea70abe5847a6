"""Numbers you can trust: keys that change when the result can, and no stale or half-judged numbers."""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bench.catalogue.architectures import ARCHITECTURES, ArchitectureCard
from bench.catalogue.attacks import ATTACKS
from bench.cli import cli
from bench.commands.run import run_and_report
from bench.errors import RunFailed
from bench.pipeline.cells import attack as attack_module
from bench.pipeline.cells import keys as fingerprint
from bench.pipeline.runner import RunOptions
from bench.results.records import NORM_TOL, read_records
from bench.spec.load import parse_suite

NET = """
from torch import nn


class EditNet(nn.Module):
    def __init__(self, shape, n_classes):
        super().__init__()
        c, h, w = shape
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, 32), {act}, nn.Linear(32, n_classes))

    def forward(self, x):
        return self.net(x)
"""

ATTACK = '''
from bench.attacks.base import Attack


class EditFgsm(Attack):
    """One signed-gradient step of the margin, for the key-invalidation test."""

    description = "test attack"

    def generate(self, model, x, y, eps):
        import torch

        from bench.attacks.losses import margin

        x = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(-margin(model.view(x), y).sum(), x)
        return (x + {scale} * eps * grad.sign()).clamp(0, 1).detach()
'''

SUITE = {
    "name": "trust",
    "dataset": {"name": "digits", "eval_size": 60},
    "models": [
        {"id": "edited", "kind": "baseline", "arch": "test-edit-net", "train": {"epochs": 3, "batch_size": 64, "lr": 0.01}},
        {"id": "other", "kind": "baseline", "arch": "tiny-mlp", "train": {"epochs": 3, "batch_size": 64, "lr": 0.01}},
    ],
    "attacks": [
        {"id": "fgsm", "use": "torchattacks.fgsm", "eps": [0.2]},
        {"id": "art-fgsm", "use": "art.fgsm", "eps": [0.2]},
        {"id": "mine", "use": "test.edit_fgsm", "eps": [0.2]},
        {"id": "cw", "use": "bench.cw_l2", "params": {"binary_search_steps": 4, "max_iter": 40}, "eps": [0.5, 1.0, 2.0], "n_samples": 30},
    ],
}


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """An architecture and an attack whose source files the tests edit."""
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "trust_net.py").write_text(NET.format(act="nn.ReLU()"))
    (tmp_path / "trust_attack.py").write_text(ATTACK.format(scale="1.0"))
    ARCHITECTURES.register("test-edit-net", ArchitectureCard("trust_net:EditNet", "test net", passes_per_second=5e5))
    ATTACKS.register("test.edit_fgsm", "trust_attack:EditFgsm")
    yield tmp_path
    ARCHITECTURES.unregister("test-edit-net")
    ATTACKS.unregister("test.edit_fgsm")
    for name in ("trust_net", "trust_attack"):
        sys.modules.pop(name, None)
    _forget_code()


def _forget_code() -> None:
    # A process computes each digest once; a test that edits code mid-process must let it look again.
    for fn in (fingerprint.architecture_code, fingerprint.train_code, fingerprint.evaluate_code, fingerprint.attack_code):
        fn.cache_clear()


def _edit(path: Path, old: str, new: str, module: str) -> None:
    path.write_text(path.read_text().replace(old, new))
    importlib.reload(sys.modules[module])
    _forget_code()


def run(tmp_path: Path) -> dict[str, str]:
    """Run the suite into one folder with one store; return each cell's origin."""
    run_dir = run_and_report(parse_suite(SUITE), RunOptions(out=tmp_path / "out", store_root=tmp_path / "store"))
    cells = json.loads((run_dir / "manifest.json").read_text())["cells"]
    return {name: entry["origin"] for name, entry in cells.items()}


def test_editing_code_or_faking_a_library_version_recomputes_exactly_the_affected_cells(plugins, tmp_path, monkeypatch):
    first = run(tmp_path)
    assert set(first.values()) == {"trained", "ran"}
    again = run(tmp_path)
    assert {v for k, v in again.items() if k.startswith("train")} == {"cache"}
    assert {v for k, v in again.items() if not k.startswith("train")} == {"done"}

    # ReLU -> Sigmoid in the architecture's class: that model retrains and everything computed from it reruns.
    _edit(plugins / "trust_net.py", "nn.ReLU()", "nn.Sigmoid()", "trust_net")
    edited = run(tmp_path)
    assert {k for k, v in edited.items() if v in ("trained", "ran")} == {
        "train edited",
        "evaluate edited",
        "fgsm on edited",
        "art-fgsm on edited",
        "mine on edited",
        "cw on edited",
    }
    assert edited["train other"] == "cache"

    # An edit to one attack's module recomputes that attack, on every model, and nothing else.
    _edit(plugins / "trust_attack.py", "1.0 * eps", "0.5 * eps", "trust_attack")
    assert {k for k, v in run(tmp_path).items() if v == "ran"} == {"mine on edited", "mine on other"}

    # Another ART: only the cells that use ART. Another torch: everything, models included.
    real = fingerprint.package_version
    monkeypatch.setattr(fingerprint, "package_version", lambda n: "9.9" if n == "adversarial-robustness-toolbox" else real(n))
    assert {k for k, v in run(tmp_path).items() if v in ("ran", "trained")} == {"art-fgsm on edited", "art-fgsm on other"}
    monkeypatch.setattr(fingerprint, "package_version", lambda n: "9.9" if n == "torch" else real(n))
    assert {v for k, v in run(tmp_path).items() if k.startswith("train")} == {"trained"}


def test_minimum_norm_rows_per_eps_come_from_the_unbounded_result(plugins, tmp_path):
    run(tmp_path)
    rec = read_records(tmp_path / "out" / "trust")
    cw = rec[(rec["attack"] == "cw") & (rec["model"] == "other")]
    unbounded = cw[np.isinf(cw["eps"])].set_index("sample")
    assert unbounded["success"].mean() > 0.5
    for eps in (0.5, 1.0, 2.0):
        at = cw[cw["eps"] == eps].set_index("sample")
        within = unbounded["success"] & (unbounded["l2"] <= eps + NORM_TOL)
        assert (at["success"] == within).all(), eps
        assert (at.loc[~within, "adv_pred"] == at.loc[~within, "clean_pred"]).all(), "outside the budget: the clean prediction"
        assert (at.loc[~within, "l2"] == 0).all() and (at.loc[within, "l2"] == unbounded.loc[within, "l2"]).all()
    rates = [cw[cw["eps"] == e]["success"].mean() for e in (0.5, 1.0, 2.0, math.inf)]
    assert rates == sorted(rates), "a larger budget never breaks fewer samples"


def test_a_failed_cell_is_reported_missing_not_with_its_old_numbers(plugins, tmp_path, monkeypatch):
    run(tmp_path)
    run_dir = tmp_path / "out" / "trust"
    assert CliRunner().invoke(cli, ["baseline", str(run_dir), "-o", str(tmp_path / "base.json")]).exit_code == 0
    old = sorted(p.name for p in (run_dir / "records").glob("other__fgsm.*.csv"))

    # The attack is edited (another key) and its new version fails on one model.
    edited = json.loads(json.dumps(SUITE))
    edited["attacks"][0]["eps"] = [0.25]
    real = attack_module.attack

    def flaky(cell, ws):
        if cell.name == "fgsm on other":
            raise RuntimeError("out of memory (simulated)")
        return real(cell, ws)

    monkeypatch.setattr(attack_module, "attack", flaky)
    with pytest.raises(RunFailed):
        run_and_report(parse_suite(edited), RunOptions(out=tmp_path / "out", store_root=tmp_path / "store"))
    assert sorted(p.name for p in (run_dir / "records").glob("other__fgsm.*.csv")) == old, "the old shard is kept on disk"
    summary = pd.read_csv(run_dir / "summary.csv")
    assert summary.query("model == 'other' and attack == 'fgsm'").empty, "but it is not reported"
    assert not summary.query("model == 'edited' and attack == 'fgsm'").empty
    res = CliRunner().invoke(cli, ["check", str(run_dir), "--baseline", str(tmp_path / "base.json"), "--allow-spec-change"])
    assert res.exit_code == 1 and "missing: " in res.output and "robust_accuracy/other/fgsm/linf/0.2" in res.output
