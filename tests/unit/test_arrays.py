"""Data without code: the `arrays` dataset reads an .npz, validates it array by array, and fingerprints it."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from helpers.arrays import arrays, save, suite_file

from bench.cli import cli
from bench.errors import DataError, SpecError
from bench.pipeline.data.bundle import load_data
from bench.spec.load import load_suite, parse_suite


def test_an_npz_loads_as_tensors_in_unit_range_with_its_own_shape_and_classes(tmp_path):
    data = arrays()
    data["y_train"][0] = 2  # three classes, inferred from the training labels
    path = save(tmp_path / "d.npz", **data)
    d = load_data("arrays", [], seed=0, train_size=None, eval_size=10, path=str(path))
    assert d.shape == (1, 8, 8) and d.n_classes == 3 and len(d.y_train) == 40 and len(d.y_eval) == 10
    assert np.allclose(d.x_test.numpy(), data["x_test"] / 255.0) and d.source == str(path)
    again = load_data("arrays", [], seed=0, train_size=None, eval_size=10, path=str(path))
    assert again.fingerprint == d.fingerprint, "the same file, the same fingerprint"
    data["x_test"][0, 0, 0, 0] ^= 1
    changed = load_data("arrays", [], seed=0, train_size=None, eval_size=20, path=str(save(tmp_path / "e.npz", **data)))
    assert changed.test_fingerprint != d.test_fingerprint and changed.train_fingerprint == d.train_fingerprint


def test_float_images_without_channels_and_a_stored_class_count(tmp_path):
    data = arrays()
    floats = {k: (v[:, 0] / 255.0 if k.startswith("x") else v) for k, v in data.items()}
    path = save(tmp_path / "f.npz", **floats, n_classes=np.int64(5))
    d = load_data("arrays", [], seed=0, train_size=None, eval_size=20, path=str(path))
    assert d.shape == (1, 8, 8) and d.n_classes == 5
    assert np.allclose(d.x_test.numpy(), data["x_test"] / 255.0, atol=1e-7)


BAD = [
    ("x_test", lambda a: a.update(x_test=a["x_test"] / 255.0 * 1.5), "x_test: values must be in [0, 1] (found min 0, max 1.5)"),
    ("x_train", lambda a: a.update(x_train=np.full((40, 1, 8, 8), np.nan)), "x_train: contains NaN or inf"),
    ("x_train", lambda a: a.update(x_train=a["x_train"].astype(np.int64)), "x_train: dtype int64; expected uint8 (0..255) or float (0..1)"),
    ("x_train", lambda a: a.update(x_train=np.zeros((40, 8, 8, 3), np.uint8)), "x_train: shape (40, 8, 8, 3) looks channels-last"),
    (
        "x_test",
        lambda a: a.update(x_test=np.zeros((20, 1, 6, 6), np.uint8)),
        "x_test: images of shape (1, 6, 6), but x_train's are (1, 8, 8)",
    ),
    ("x_test", lambda a: a.update(x_test=np.zeros((20, 64), np.uint8)), "x_test: shape (20, 64); expected (N, C, H, W)"),
    ("y_train", lambda a: a.update(y_train=a["y_train"].astype(np.float32)), "y_train: dtype float32; labels must be integers"),
    ("y_train", lambda a: a.update(y_train=a["y_train"][:-1]), "y_train: shape (39,); expected (40,), one label per image"),
    ("y_test", lambda a: a["y_test"].__setitem__(0, -1), "y_test: label -1 is negative"),
    ("y_test", lambda a: a["y_test"].__setitem__(0, 7), "y_test: label 7 is out of range for 3 classes (labels must be in [0, 3))"),
    ("n_classes", lambda a: a.update(n_classes=np.array([3, 4])), "n_classes: expected an integer scalar"),
    ("y_test", lambda a: a.pop("y_test"), "missing array 'y_test' (need x_train, y_train, x_test, y_test)"),
    ("X_train", lambda a: a.update(X_train=a["x_train"]), "unknown array 'X_train'; did you mean 'x_train'?"),
    (
        "x_test",
        lambda a: a.update(x_test=np.array([{"a": 1}] * 20, dtype=object)),
        "x_test: holds Python objects; bench never unpickles data",
    ),
]


@pytest.mark.parametrize("array, mutate, message", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_each_problem_is_one_line_naming_the_array(tmp_path, array, mutate, message):
    data = arrays()
    data["y_train"][0] = 2
    mutate(data)
    path = tmp_path / "bad.npz"
    np.savez(path, **data)
    with pytest.raises(DataError) as info:
        load_data("arrays", [], seed=0, train_size=None, eval_size=5, path=str(path))
    assert str(info.value).startswith(f"{path}: {message}"), str(info.value)
    assert "\n" not in str(info.value)


def test_not_an_npz(tmp_path):
    path = tmp_path / "d.npz"
    path.write_bytes(b"\x80\x04not numpy")
    with pytest.raises(DataError, match=r"d.npz: not a readable .npz file"):
        load_data("arrays", [], seed=0, train_size=None, eval_size=5, path=str(path))


def test_a_suite_names_the_file_relative_to_itself_and_validates_it(tmp_path):
    (tmp_path / "data").mkdir()
    data = arrays()
    save(tmp_path / "data" / "d.npz", **data)
    res = CliRunner().invoke(cli, ["validate", str(suite_file(tmp_path, "data/d.npz"))])
    assert res.exit_code == 0, res.output
    assert f"dataset: arrays from {tmp_path / 'data' / 'd.npz'}, eval 10 samples" in res.stdout
    save(tmp_path / "data" / "wide.npz", **(data | {"x_train": np.zeros((40, 1, 4, 4), np.uint8)}))
    with pytest.raises(SpecError, match=r"models\[a\].arch: 'papernot-mnist' does not fit 1x4x4 inputs of arrays"):
        load_suite(suite_file(tmp_path, "data/wide.npz", arch="papernot-mnist"))
    with pytest.raises(SpecError, match=r"dataset.path: no such file .*missing.npz"):
        load_suite(suite_file(tmp_path, "missing.npz"))
    with pytest.raises(SpecError, match=r"dataset.path: the arrays dataset reads one file"):
        parse_suite({"name": "x", "dataset": {"name": "arrays"}, "models": [{"id": "a", "kind": "baseline", "arch": "tiny-mlp"}]})
    with pytest.raises(SpecError, match=r"dataset.path: the digits dataset takes no path"):
        parse_suite(
            {"name": "x", "dataset": {"name": "digits", "path": "d.npz"}, "models": [{"id": "a", "kind": "baseline", "arch": "tiny-mlp"}]}
        )
