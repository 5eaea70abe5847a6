"""The registry, cache keys and the model store, and the data layer."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from bench.catalogue.attacks import ATTACKS
from bench.errors import DataError, PluginError
from bench.pipeline.cells.keys import Runtime, model_key
from bench.pipeline.data.bundle import DataBundle, load_data
from bench.pipeline.models.store import ModelStore
from bench.registry import Registry, UnknownKeyError
from bench.spec.schema import ModelSpec, TrainSpec


def test_registry_is_lazy_and_suggests():
    reg: Registry[object] = Registry("thing")
    reg.register("a.json", "json:dumps")
    with pytest.raises(PluginError, match="duplicate thing key 'a.json'"):
        reg.register("a.json", "json:loads")
    assert reg.get("a.json").__name__ == "dumps"
    with pytest.raises(UnknownKeyError) as info:
        reg.get("a.jsno")
    assert str(info.value) == "unknown thing 'a.jsno'; did you mean 'a.json'?"
    assert "available: a.json" in str(UnknownKeyError("thing", "zzz", reg.keys()))


def test_importing_bench_and_listing_attacks_does_not_import_backends():
    import subprocess
    import sys

    code = "import sys, bench.spec, bench.attacks; bench.attacks.ATTACKS.keys(); print('art' in sys.modules, 'torchattacks' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_every_attack_declares_its_contract():
    for key in ATTACKS.keys():
        cls = ATTACKS.get(key)
        assert cls.kind in ("fixed_eps", "min_norm") and cls.norms and cls.default_tag in ("naive", "adaptive")
        assert cls.description
        cls.Params()  # defaults validate


def bundle(train: str = "t", ev: str = "e") -> DataBundle:
    z = torch.zeros(1)
    return DataBundle("d", z, z, z, z, np.zeros(1), z, z, 10, (1, 8, 8), train, ev, "x", "src")


def test_model_key_covers_what_determines_the_weights():
    m = ModelSpec(id="a", kind="baseline", arch="tiny-mlp")
    rt = Runtime((("torch", "2.14.1"),), "cpu")

    def key(spec=m, train="t", seed=0, teacher=None, runtime=rt, code="c"):
        return model_key(spec, train, seed, teacher, None, runtime, code)

    base = key()
    assert key(m.model_copy(update={"id": "renamed"})) == base, "the id is a name, not content"
    changed = [
        key(m.model_copy(update={"train": TrainSpec(epochs=4)})),
        key(m.model_copy(update={"arch": "small-cnn"})),
        key(train="t2"),
        key(seed=1),
        key(teacher="teacher-weights"),
        key(runtime=Runtime((("torch", "2.15.0"),), "cpu")),
        key(runtime=Runtime((("torch", "2.14.1"),), "cuda")),
        key(code="edited"),
    ]
    assert base not in changed and len(set(changed)) == len(changed)


def test_store_verifies_and_discards_corrupt_checkpoints(tmp_path):
    store = ModelStore(tmp_path)
    state = {"w": torch.arange(4.0)}
    store.save("k", state, {"id": "a"})
    loaded, meta = store.load("k")
    assert torch.equal(loaded["w"], state["w"]) and meta == {"id": "a"}
    ckpt = tmp_path / "k.pt"
    data = bytearray(ckpt.read_bytes())
    data[-20] ^= 0xFF
    ckpt.write_bytes(bytes(data))
    assert store.load("k") is None
    assert not ckpt.exists(), "a corrupt checkpoint is deleted so it is retrained"


def test_digits_subsets_are_seeded_and_fingerprinted():
    a = load_data("digits", [], seed=0, train_size=500, eval_size=100)
    b = load_data("digits", [], seed=0, train_size=500, eval_size=100)
    c = load_data("digits", [], seed=1, train_size=500, eval_size=100)
    assert np.array_equal(a.eval_index, b.eval_index) and a.fingerprint == b.fingerprint
    assert not np.array_equal(a.eval_index, c.eval_index) and a.fingerprint != c.fingerprint
    assert a.x_train.min() >= 0 and a.x_train.max() <= 1 and a.x_train.dtype == torch.float32
    assert len(a.y_test) == 360 and a.test_fingerprint == c.test_fingerprint


def write_idx(path, arr):
    header = b"\x00\x00\x08" + bytes([arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


def test_truncated_idx_file_is_a_data_error(tmp_path, monkeypatch):
    from bench.catalogue.datasets import Mnist

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    imgs = np.zeros((3, 28, 28))
    for name in Mnist.md5:
        write_idx(raw / name, imgs if "images" in name else np.zeros(3))
    # Contents that match their recorded md5 but are truncated must still be refused.
    monkeypatch.setattr(Mnist, "md5", {k: __import__("hashlib").md5(gzip.open(raw / k).read()).hexdigest() for k in Mnist.md5})
    with open(raw / "t10k-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(gzip.compress(b"\x00\x00\x08\x03" + (3).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\x00" * 10))
    monkeypatch.setitem(
        Mnist.md5, "t10k-images-idx3-ubyte.gz", __import__("hashlib").md5(gzip.open(raw / "t10k-images-idx3-ubyte.gz").read()).hexdigest()
    )
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz: truncated: expected 2352 bytes of data, found 10"):
        load_data("mnist", [tmp_path], 0, None, 2)


def test_fashion_mnist_is_found_where_debian_puts_it():
    from bench.catalogue.datasets import FashionMnist

    assert "/usr/share/datasets/fashion-mnist" in FashionMnist.extra_roots


def test_real_mnist_from_local_files():
    import os
    from pathlib import Path

    root = os.environ.get("BENCH_DATA_DIR")
    if not root or not (Path(root) / "MNIST" / "raw").is_dir():
        pytest.skip("MNIST not available under $BENCH_DATA_DIR")
    d = load_data("mnist", [Path(root)], seed=0, train_size=None, eval_size=500)
    assert (len(d.y_train), len(d.y_test), len(d.y_eval)) == (60000, 10000, 500)
    assert np.bincount(d.y_test.numpy()).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert d.x_train.shape == (60000, 1, 28, 28) and float(d.x_train.max()) == 1.0
