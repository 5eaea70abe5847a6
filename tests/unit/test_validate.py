"""bench validate (bench.commands.validate): the plan it prints, its warnings, and the checks it runs before anything costly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner
from helpers.cli import invoke
from helpers.suites import SMOKE, SUITES

from bench.cli import cli
from bench.commands.validate import fmt_eps, fmt_seconds, plan_warnings
from bench.pipeline.models.networks import build_model
from bench.spec.load import parse_suite

TINY = {
    "name": "tiny",
    "dataset": {"name": "digits", "eval_size": 100},
    "models": [{"id": "a", "kind": "baseline", "arch": "tiny-mlp"}],
    "attacks": [
        {"id": "fgsm", "use": "torchattacks.fgsm", "eps": ["8/255", 0.1]},
        {"id": "pgd", "use": "torchattacks.pgd", "eps": ["8/255", 0.1], "params": {"steps": 5}},
        {"id": "cw", "use": "bench.cw_l2", "n_samples": 50},
    ],
}


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_unknown_param_from_the_command_line_names_the_valid_ones(tmp_path):
    path = write(tmp_path, TINY)
    res = invoke("validate", path, "--set", "attacks.cw.params.confidence=1")
    assert res.exit_code == 2
    assert res.stderr.startswith("error: attacks[2].params.confidence: unknown field; did you mean 'kappa'? (valid: binary_search_steps,")


def test_validate_plan_shows_params_samples_targets_and_eps(tmp_path):
    res = invoke("validate", write(tmp_path, TINY))
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "eps 0.03137 (8/255), 0.1; on a; 100 samples" in out
    assert "params: steps=5, alpha=None, random_start=True" in out
    cw = out.split("attack cw:")[1]
    assert "eps none + unbounded; on a; 50 samples, batches of 100" in cw and "binary_search_steps=9" in cw
    assert "~0.0 min" not in out


def test_validate_warns_when_naive_vs_adaptive_would_be_empty(tmp_path):
    res = invoke("validate", write(tmp_path, TINY))
    assert res.exit_code == 0
    (warning,) = res.stderr.splitlines()
    assert warning.startswith("warning: on a, no norm has an iterative naive attack and an adaptive attack at a shared eps")
    assert "bench.pgd_margin, eps: [0.1]" in warning
    fixed = dict(TINY, attacks=[*TINY["attacks"], {"id": "pgdm", "use": "bench.pgd_margin", "eps": [0.1]}])
    assert plan_warnings(parse_suite(fixed)) == []
    fgsm_only = dict(TINY, attacks=[TINY["attacks"][0], {"id": "pgdm", "use": "bench.pgd_margin", "eps": [0.1]}])
    assert "iterative naive linf attack" in plan_warnings(parse_suite(fgsm_only))[0]


def test_validate_shows_each_defence_and_warns_when_a_randomized_one_is_judged_by_one_pass(tmp_path):
    models = [
        {"id": "a", "kind": "baseline", "arch": "tiny-mlp", "defence": [{"name": "jpeg"}, {"name": "gaussian-noise", "sigma": 0.1}]},
        {"id": "b", "kind": "baseline", "arch": "tiny-mlp", "defence": [{"name": "random-resize-pad"}], "eval_draws": 11},
    ]
    res = invoke("validate", write(tmp_path, dict(TINY, models=models)))
    assert res.exit_code == 0, res.output
    assert "model a: baseline tiny-mlp, T=1, 3 epochs; defence jpeg(quality=75) -> gaussian-noise(sigma=0.1)" in res.stdout
    assert "defence random-resize-pad(min_scale=0.8); majority vote of 11 draws" in res.stdout
    from bench.spec.plan import attack_plan, estimate_cost

    one = parse_suite(dict(TINY, models=models[:1]))
    both = parse_suite(dict(TINY, models=models))
    assert estimate_cost(both, [])[0] == estimate_cost(one, [])[0], "two defences on one network: one training"
    eot = parse_suite(dict(TINY, attacks=[{"id": "e", "use": "bench.pgd_margin", "eps": [0.1], "view": {"eot": 4}}]))
    plain = parse_suite(dict(TINY, attacks=[{"id": "e", "use": "bench.pgd_margin", "eps": [0.1]}]))
    assert estimate_cost(eot, attack_plan(eot))[1] == pytest.approx(4 * estimate_cost(plain, attack_plan(plain))[1])
    warnings = [w for w in res.stderr.splitlines() if "eval_draws" in w]
    assert warnings == [
        "warning: models[0].eval_draws: a's gaussian-noise draws afresh on every pass, and one pass judges each prediction; "
        "the randomized-model check will fail: set eval_draws (e.g. 11)"
    ]


def test_shipped_suites_validate_without_warnings():
    paths = sorted(SUITES.glob("*.yaml"))
    assert len(paths) >= 8, f"expected the shipped suites in {SUITES}"
    for path in paths:
        res = invoke("validate", path)
        assert res.exit_code == 0 and res.stderr == "", (path, res.stderr)


def test_validate_checks_sizes_against_the_dataset(tmp_path):
    res = invoke("validate", write(tmp_path, TINY), "--set", "dataset.eval_size=5000", "--set", "attacks.fgsm.eps=[8]")
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [
        "error: dataset.eval_size: 5000 is more than the 360 test samples of digits",
        "error: attacks[0].eps: 8 is more than 1 (linf), but inputs are in [0, 1]; "
        "budgets are on the [0, 1] scale: write 8/255 for 8 grey levels",
    ]


def test_validate_checks_that_checkpoints_exist_and_fit(tmp_path):
    spec = dict(TINY, models=[{"id": "a", "kind": "baseline", "arch": "tiny-mlp", "checkpoint": "w.pt"}])
    res = invoke("validate", write(tmp_path, spec))
    assert res.exit_code == 2 and res.stderr == f"error: models[0].checkpoint: no such file {tmp_path / 'w.pt'}\n"
    torch.save(build_model("tiny-mlp", (1, 28, 28), 10).state_dict(), tmp_path / "w.pt")  # trained for MNIST, not 8x8 digits
    res = invoke("validate", write(tmp_path, spec))
    assert res.exit_code == 2
    assert res.stderr == (
        f"error: models.a.checkpoint: {tmp_path / 'w.pt'}: weights do not fit tiny-mlp "
        "(net.1.weight is 32x784 in the file but 32x64 in tiny-mlp)\n"
    )
    torch.save(build_model("tiny-mlp", (1, 8, 8), 10).state_dict(), tmp_path / "w.pt")
    assert invoke("validate", write(tmp_path, spec)).exit_code == 0


@pytest.mark.parametrize(("eps", "text"), [(8 / 255, "0.03137 (8/255)"), (0.2, "0.2"), (0.3, "0.3"), (2.0, "2")])
def test_eps_display(eps, text):
    assert fmt_eps(eps) == text


@pytest.mark.parametrize(("seconds", "text"), [(0.2, "< 1 s"), (40, "~40 s"), (200, "~3.3 min"), (7200, "~2.0 h")])
def test_cost_display(seconds, text):
    assert fmt_seconds(seconds) == text


def test_the_cifar10_suite_validates_and_prints_its_cost():
    res = CliRunner().invoke(cli, ["validate", str(SUITES / "cifar10.yaml")])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "model distilled: student papernot-cifar, T=100, 50 epochs, augment crop_padding=4 flip=True, teacher teacher" in out
    assert "attack pgd-margin-l2: bench.pgd_margin (adaptive, fixed_eps, view logits, l2)\n  eps 0.5; on baseline, distilled" in out
    assert "attack pgd: torchattacks.pgd (naive, fixed_eps, view logits, linf)\n  eps 0.03137 (8/255); on baseline, distilled" in out
    assert re.search(r"rough cost on 2 CPU cores: training ~\d+\.\d (min|h), attacks ~\d+\.\d (min|h) \(cold\)", out)


def test_validate_prints_critical_path_and_ideal_wall_time():
    res = CliRunner().invoke(cli, ["validate", str(SUITES / "mnist-temperature.yaml"), "--workers", "8"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[-2].startswith("critical path (~") and "train teacher-t" in lines[-2] and " -> " in lines[-2]
    assert lines[-1].startswith("ideal wall time on 8 worker(s): ~")
    assert "critical path" not in CliRunner().invoke(cli, ["validate", str(SMOKE)]).output
