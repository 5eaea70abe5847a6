"""Record shards (bench.results.records): the schema, and shards written before a column existed."""

from __future__ import annotations

from helpers.report_fixtures import fixed

from bench.results.records import COLUMNS, read_shard, write_shard


def test_a_shard_from_before_draws_correct_reads_as_one_draw_per_prediction(tmp_path):
    frame = fixed("m", "pgd", [True] * 4, {0.3: [True, False, False, False]})
    write_shard(tmp_path / "new.csv", frame)
    old = tmp_path / "old.csv"
    old.write_text(frame.drop(columns="draws_correct")[[c for c in COLUMNS if c != "draws_correct"]].to_csv(index=False))
    read = read_shard(old)
    assert list(read.columns) == list(COLUMNS)
    assert read["draws_correct"].tolist() == [0.0, 1.0, 1.0, 1.0], "1 where the prediction is the label"
    assert read.equals(read_shard(tmp_path / "new.csv"))
