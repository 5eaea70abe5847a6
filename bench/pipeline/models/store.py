"""A content-addressed store for trained models, safe to share between processes.

``<root>/<key>.pt`` holds the state dict, ``<key>.sha256`` its digest and
``<key>.json`` its metadata. Every file is written to a temporary name and
renamed, so a reader sees either nothing or a complete file. A checkpoint whose
digest does not match is reported, deleted and retrained, never loaded.

Publishing is first-writer-wins: the checkpoint is hard-linked into place, which
fails when the key exists, so a key is never overwritten, even by two machines
racing on a network file system where the per-key file lock does not hold. The
same recipe trained at another thread count gives other weights; the first
published stands.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock

from bench.errors import CacheError
from bench.fsutil import atomic_write_text, publish_once, unpublish

log = logging.getLogger(__name__)


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Load a state dict with ``weights_only=True``; refuse anything that needs pickle code."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CacheError(f"{path}: refused, loading it would execute pickled code ({str(exc).splitlines()[0][:120]})") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CacheError(f"{path}: not a readable checkpoint ({str(exc).splitlines()[0][:120]})") from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CacheError(f"{path}: expected a state dict of tensors")
    return obj


class ModelStore:
    """Checkpoints keyed by the hash of everything that determines them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def paths(self, key: str) -> tuple[Path, Path, Path]:
        """The checkpoint, digest and metadata paths for ``key``."""
        return self.root / f"{key}.pt", self.root / f"{key}.sha256", self.root / f"{key}.json"

    def lock(self, key: str) -> FileLock:
        """A per-key lock so that two runs do not train the same model at once."""
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / f"{key}.lock"))

    def load(self, key: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
        """The verified state dict and metadata for ``key``, or None (missing or corrupt)."""
        ckpt, digest_path, meta_path = self.paths(key)
        if not ckpt.exists():
            return None
        data = ckpt.read_bytes()
        expected = digest_path.read_text().strip() if digest_path.exists() else None
        actual = hashlib.sha256(data).hexdigest()
        # No digest yet: its publisher is between linking the checkpoint and writing the digest (or died
        # there). A linked checkpoint is complete, so it is loaded below instead of deleted under its writer.
        if expected is not None and actual != expected:
            log.warning("checkpoint %s is corrupt (sha256 %s, expected %s); retraining", ckpt, actual[:12], expected[:12] or "none")
            self._discard(key)
            return None
        try:
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any load failure means the file cannot be used
            log.warning("checkpoint %s cannot be loaded (%s); retraining", ckpt, exc)
            self._discard(key)
            return None
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        return state, meta

    def save(self, key: str, state: dict[str, torch.Tensor], meta: dict[str, Any]) -> bool:
        """Publish a checkpoint unless ``key`` exists; False when another writer published it first.

        The checkpoint is the commit point; only its publisher then writes the digest and the metadata.
        """
        ckpt, digest_path, meta_path = self.paths(key)
        buf = io.BytesIO()
        torch.save({k: v.detach().cpu() for k, v in state.items()}, buf)
        data = buf.getvalue()
        if not publish_once(ckpt, data):
            log.info("model %s: another writer published it first; its weights stand", key[:12])
            return False
        atomic_write_text(digest_path, hashlib.sha256(data).hexdigest() + "\n")
        atomic_write_text(meta_path, json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return True

    def _discard(self, key: str) -> None:
        ckpt, digest_path, meta_path = self.paths(key)
        unpublish(ckpt)
        digest_path.unlink(missing_ok=True)
        meta_path.unlink(missing_ok=True)


def default_store_root() -> Path:
    """``$BENCH_CACHE_DIR`` or the user cache folder."""
    env = os.environ.get("BENCH_CACHE_DIR")
    if env:
        return Path(env).expanduser().resolve() / "models"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bench" / "models"
