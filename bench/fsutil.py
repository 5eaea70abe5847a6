"""Atomic file writes and canonical hashing; torch-free, so light commands stay fast."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def canonical_hash(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj``."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename.

    A reader (or a resumed run after SIGKILL) sees either the old file, no file,
    or the complete new one; never a partial write.
    """
    tmp = _write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_temp(path: Path, data: bytes) -> Path:
    """``data`` in a new, synced hidden temporary file beside ``path``, with the mode ``open()`` would give it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        # mkstemp creates 0600 files; give the file the mode open() would (0666 less the umask),
        # so a shared model store or a served report stays readable by the group.
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def current_umask() -> int:
    """The process's umask: from /proc on Linux (no race), else by setting and restoring it."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of ``atomic_write_bytes`` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_temp_files(folder: Path) -> int:
    """Delete temporary files left by writes that were killed midway; return how many."""
    count = 0
    for tmp in folder.glob(".*.tmp") if folder.is_dir() else []:
        tmp.unlink(missing_ok=True)
        count += 1
    return count


def publish_once(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` unless it exists already; True when this call created it.

    First writer wins, without locks: the data go to a temporary file first, which
    is then hard-linked to ``path``. ``link`` fails when the name exists, atomically,
    also on NFS, so a published file is never overwritten or seen half-written.
    File systems without hard links fall back to an exclusive-create claim file.
    """
    tmp = _write_temp(path, data)
    try:
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        except OSError:
            return _publish_by_claim(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def unpublish(path: Path) -> None:
    """Remove a file ``publish_once`` created (and its claim), so the next writer may publish again."""
    path.unlink(missing_ok=True)
    _claim(path).unlink(missing_ok=True)


def _claim(path: Path) -> Path:
    return path.with_name(path.name + ".claim")


def _publish_by_claim(tmp: Path, path: Path) -> bool:
    claim = _claim(path)
    try:
        os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    if path.exists():
        return False
    os.replace(tmp, path)
    return True


def file_sha256(path: Path) -> str:
    """sha256 of a file's contents, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
