"""`bench run` on data without code: an .npz of arrays, and a CIFAR-10 folder holding the 20 real test images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from click.testing import CliRunner
from helpers.arrays import arrays, save, suite_file
from helpers.cifar10 import real_images

from bench.cli import cli
from bench.pipeline.data.bundle import load_data

ROOT = Path(__file__).resolve().parents[2]


def test_out_of_range_values_stop_the_run_before_anything_is_written(tmp_path):
    data = arrays()
    data["x_train"] = data["x_train"] / 100.0
    save(tmp_path / "d.npz", **data)
    res = CliRunner().invoke(cli, ["run", str(suite_file(tmp_path, "d.npz")), "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 2
    # The plan's warnings come first; the error is one line, and the last.
    assert res.stderr.splitlines()[-1] == (
        f"error: {tmp_path / 'd.npz'}: x_train: values must be in [0, 1] (found min 0, max 2.55); scale them, or store uint8 0..255"
    )
    assert sum(line.startswith("error:") for line in res.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_run_on_arrays_is_fingerprinted_like_a_built_in_dataset(tmp_path):
    digits = load_data("digits", [], seed=0, train_size=None, eval_size=360)
    # The digits split as float arrays: the same pixels, so a model trained on it predicts what one trained on digits does.
    save(
        tmp_path / "d.npz",
        x_train=digits.x_train.numpy(),
        y_train=digits.y_train.numpy(),
        x_test=digits.x_test.numpy(),
        y_test=digits.y_test.numpy(),
    )
    res = CliRunner().invoke(
        cli, ["run", str(suite_file(tmp_path, "d.npz")), "--out", str(tmp_path / "out"), "-q"], env={"BENCH_CACHE_DIR": str(tmp_path / "c")}
    )
    assert res.exit_code == 0, res.output
    import json

    manifest = json.loads((tmp_path / "out" / "mine" / "manifest.json").read_text())
    assert manifest["data"]["source"] == str(tmp_path / "d.npz") and manifest["data"]["n_train"] == 1437
    assert manifest["data"]["eval_fingerprint"] == load_data("arrays", [], 0, None, 10, str(tmp_path / "d.npz")).eval_fingerprint
    assert manifest["origins"]["datasets"] == {"arrays": "bench"}


def test_a_tiny_cifar_suite_runs_end_to_end_on_the_real_images(tree, tmp_path):
    sets = [
        "dataset.eval_size=20",
        "models=[{id: net, kind: baseline, arch: papernot-cifar, train: {epochs: 1, batch_size: 8, augment: {crop_padding: 4, flip: 1}}}]",
        "attacks=[{id: fgsm, use: torchattacks.fgsm, eps: [0.0313725]}]",
    ]
    args = ["run", str(ROOT / "suites" / "cifar10.yaml"), "--data-dir", str(tree), "--out", str(tmp_path / "out"), "-q"]
    res = CliRunner().invoke(cli, args + [a for s in sets for a in ("--set", s)], env={"BENCH_CACHE_DIR": str(tmp_path / "c")})
    assert res.exit_code == 0, res.output
    from bench.pipeline.cells.evaluate import sample_hashes
    from bench.results.records import read_records

    rec = read_records(tmp_path / "out" / "cifar10")
    fgsm = rec[rec["attack"] == "fgsm"].sort_values("sample")
    images, labels = real_images()
    expected = sample_hashes(torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 255))
    assert fgsm["sample_hash"].tolist() == expected and fgsm["label"].tolist() == labels.tolist()
