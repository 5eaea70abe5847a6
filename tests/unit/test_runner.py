"""The runner (bench.pipeline.runner): --prune's sweep of a run folder, and preparing the run folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import OutputError
from bench.pipeline.runner import prepare_run_dir, prune

PLANNED = {"a__clean.1111.csv", "a__pgd.1111.csv", "a.1111.csv"}  # what the last run planned: file names, as RunState.keep holds them
SHARDS = ["records/a__clean.1111.csv", "records/a__pgd.1111.csv", "records/a__pgd.0000.csv", "records/b__pgd.0000.csv"]
DIAGNOSTICS = ["diagnostics/a.1111.csv", "diagnostics/a.0000.csv"]


def side_files(rel: str) -> list[str]:
    """The files --prune removes with a shard: its provenance, examples and details."""
    name = Path(rel).name
    stem = Path(rel).stem
    return [f"provenance/{name}.json", f"examples/{stem}.npz", f"details/{stem}.npz"]


def run_folder(root: Path) -> Path:
    """A run folder holding the shards and diagnostics of two variants, each shard with its side files, and the run's other files."""
    run = root / "smoke"
    sides = [s for shard in SHARDS for s in side_files(shard)]
    for rel in [*SHARDS, *DIAGNOSTICS, *sides, "manifest.json", "summary.csv"]:
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_text(rel)
    (run / "costs").mkdir()
    (run / "costs" / "b.0000.json").write_text("{}")
    return run


def files(run: Path) -> set[str]:
    return {str(p.relative_to(run)) for p in run.rglob("*") if p.is_file()}


def test_prune_removes_unplanned_shards_with_their_side_files_and_keeps_the_planned_ones(tmp_path):
    run = run_folder(tmp_path)
    before = files(run)
    removed = prune(run, PLANNED)
    assert removed == ["records/a__pgd.0000.csv", "records/b__pgd.0000.csv", "diagnostics/a.0000.csv"]
    gone = {*removed, *(s for rel in removed for s in side_files(rel))}
    assert files(run) == before - gone
    for rel in ["records/a__clean.1111.csv", "records/a__pgd.1111.csv", "diagnostics/a.1111.csv"]:
        assert (run / rel).read_text() == rel, "a planned file is kept as it was"
    assert all((run / s).exists() for s in side_files("records/a__pgd.1111.csv")), "and so are its side files"
    assert prune(run, PLANNED) == [], "a second sweep finds nothing left to remove"


def test_prune_of_a_folder_without_diagnostics_or_side_files(tmp_path):
    run = tmp_path / "smoke"
    (run / "records").mkdir(parents=True)
    (run / "records" / "a__pgd.0000.csv").write_text("old")
    (run / "records" / "a__pgd.1111.csv").write_text("new")
    assert prune(run, {"a__pgd.1111.csv"}) == ["records/a__pgd.0000.csv"]
    assert files(run) == {"records/a__pgd.1111.csv"}


def test_prepare_run_dir_makes_the_records_folder_and_clears_what_a_killed_write_left(tmp_path):
    (tmp_path / "out" / "smoke" / "records").mkdir(parents=True)
    (tmp_path / "out" / "smoke" / "diagnostics").mkdir()
    stale = [
        tmp_path / "out" / "smoke" / "records" / ".a__pgd.1111.csv.x1.tmp",
        tmp_path / "out" / "smoke" / "diagnostics" / ".a.csv.x2.tmp",
    ]
    for path in stale:
        path.write_text("half")
    (tmp_path / "out" / "smoke" / "records" / "a__pgd.1111.csv").write_text("done")
    run = prepare_run_dir(tmp_path / "out", "smoke")
    assert run == tmp_path.resolve() / "out" / "smoke"
    assert files(run) == {"records/a__pgd.1111.csv"}, "the temporary files are gone, the probe too, the shard is kept"
    assert files(prepare_run_dir(tmp_path / "new", "smoke")) == set() and (tmp_path / "new" / "smoke" / "records").is_dir()


def test_a_run_folder_that_cannot_be_written_is_a_one_line_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    # A path under a regular file cannot be created, even by root (for whom chmod is no barrier).
    with pytest.raises(OutputError) as info:
        prepare_run_dir(blocker / "sub", "smoke")
    message = str(info.value)
    assert message.startswith(f"{blocker.resolve() / 'sub' / 'smoke'}: cannot write the run folder (") and "\n" not in message
