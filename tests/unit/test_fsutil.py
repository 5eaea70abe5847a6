"""File writes (bench.fsutil): whole files only, the mode open() would give (the umask, not 0600), and first-writer-wins publishing."""

from __future__ import annotations

import os
import stat

import pytest

from bench.fsutil import atomic_write_bytes, atomic_write_text, current_umask, publish_once


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_atomic_writes_respect_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    assert current_umask() == mask
    atomic_write_text(tmp_path / "a" / "t.txt", "x")
    atomic_write_bytes(tmp_path / "b.bin", b"\0")
    for path in (tmp_path / "a" / "t.txt", tmp_path / "b.bin"):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_an_overwrite_replaces_the_file_whole(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"], "no temporary file is left behind"


def test_publish_once_keeps_the_first_file(tmp_path):
    path = tmp_path / "a" / "k.pt"
    assert publish_once(path, b"first")
    assert not publish_once(path, b"second")
    assert path.read_bytes() == b"first"
    assert [p.name for p in path.parent.iterdir()] == ["k.pt"], "no temporary files left behind"
