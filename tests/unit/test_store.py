"""The model store (bench.pipeline.models.store): a key is never overwritten, and a corrupt or half-published checkpoint is handled."""

from __future__ import annotations

from pathlib import Path

import torch

from bench.pipeline.models.store import ModelStore

ROOT = Path(__file__).resolve().parents[2]


def test_store_never_overwrites_a_key(tmp_path):
    store = ModelStore(tmp_path)
    first, second = {"w": torch.zeros(3)}, {"w": torch.ones(3)}
    assert store.save("k", first, {"by": "first"})
    assert not store.save("k", second, {"by": "second"})
    state, meta = store.load("k")
    assert torch.equal(state["w"], first["w"]) and meta == {"by": "first"}


def test_a_checkpoint_whose_digest_is_not_written_yet_is_loaded_not_deleted(tmp_path):
    # Between linking the checkpoint and writing its digest, a reader on another machine must not delete it.
    store = ModelStore(tmp_path)
    store.save("k", {"w": torch.arange(3.0)}, {})
    (tmp_path / "k.sha256").unlink()
    state, _ = store.load("k")
    assert torch.equal(state["w"], torch.arange(3.0))
    assert (tmp_path / "k.pt").exists()


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
