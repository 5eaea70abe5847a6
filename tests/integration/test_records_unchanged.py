"""The smoke suite's records, all but the ``seconds`` column, against records committed before the pipeline was reorganised.

A refactor must not move a number. ``tests/fixtures/smoke-records/`` holds the
records of a cold smoke run, made the way the shared smoke fixture runs it: in
process, torch on one thread. First recorded with the code of commit 3cacd74 (before
the modules moved into a folder per stage); re-recorded when training moved to the
channels-last layout and fused Adam (issue 27), which trains other float sums. Floats are compared as the text the shards hold.

The same code gives other float sums on another kind of CPU (another SIMD width),
and so may move a sample or two: where this CPU's capability differs from the
recording machine's, the records must still agree on at least 99% of the rows.
Re-record deliberately, after a change meant to move numbers:
``python tests/integration/test_records_unchanged.py RUN_DIR``.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import torch

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "smoke-records"


def canonical_lines(run_dir: Path) -> list[str]:
    """Every planned record shard's rows, less the last column (``seconds``), shards in name order, rows as written."""
    planned = set(json.loads((run_dir / "manifest.json").read_text())["outputs"])
    shards = sorted((p for p in (run_dir / "records").glob("*.csv") if p.name in planned), key=lambda p: p.name.split(".")[0])
    assert shards, f"no record shards in {run_dir}"
    lines: list[str] = []
    for i, shard in enumerate(shards):
        rows = shard.read_text().splitlines()
        assert rows[0].endswith(",seconds")
        lines += [row.rsplit(",", 1)[0] for row in (rows if i == 0 else rows[1:])]
    return lines


def recording_machine() -> dict[str, str]:
    return {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__, "threads": str(torch.get_num_threads())}


def without_later_columns(got: list[str], expected_header: str) -> list[str]:
    """``got`` without the columns added after the fixture was recorded (``draws_correct``), which must then hold
    what they hold for a deterministic model: 1 where the prediction is the label, else 0."""
    header = got[0].split(",")
    extra = [i for i, name in enumerate(header) if name not in expected_header.split(",")]
    if not extra:
        return got
    assert [header[i] for i in extra] == ["draws_correct"], header
    pred, label, right = header.index("adv_pred"), header.index("label"), extra[0]
    out = []
    for n, line in enumerate(got):
        cells = line.split(",")
        if n:
            assert float(cells[right]) == float(cells[pred] == cells[label]), line
        out.append(",".join(c for i, c in enumerate(cells) if i not in extra))
    return out


def test_smoke_records_are_those_committed_before_the_move(smoke_cold_run):
    expected = gzip.decompress((FIXTURE / "records.csv.gz").read_bytes()).decode().splitlines()
    recorded_on = json.loads((FIXTURE / "machine.json").read_text())
    got = without_later_columns(canonical_lines(smoke_cold_run.dir), expected[0])
    assert len(expected) > 1000 and got[0] == expected[0]
    if recorded_on == recording_machine():
        assert got == expected
    else:
        differ = sum(a != b for a, b in zip(got, expected, strict=True))
        assert differ <= len(expected) // 100, f"{differ} of {len(expected)} rows differ (recorded on {recorded_on})"


if __name__ == "__main__":
    FIXTURE.mkdir(parents=True, exist_ok=True)
    text = "\n".join(canonical_lines(Path(sys.argv[1]))) + "\n"
    (FIXTURE / "records.csv.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    (FIXTURE / "machine.json").write_text(json.dumps(recording_machine(), indent=2) + "\n")
