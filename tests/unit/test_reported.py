"""RobustBench entries as reported rows (bench.reporting.site.reported): the agreed format, and one-line errors."""

from __future__ import annotations

import json
import math

import pytest
from helpers.site import rb_entry

from bench.errors import BenchError
from bench.reporting.site.reported import parse_eps, read_entry, read_reported


def test_an_entry_in_the_agreed_format_is_read_with_its_threat_from_its_folder(tmp_path):
    path = rb_entry(tmp_path, "mnist", "Linf", "distilled", eps="8/255", reported="99.00", unreliable=True)
    e = read_entry(path)
    assert (e.name, e.dataset, e.norm, e.eps_text) == ("distilled", "mnist", "linf", "8/255")
    assert e.eps == pytest.approx(8 / 255) and e.clean == pytest.approx(0.984) and e.robust == pytest.approx(0.912)
    assert e.claimed == pytest.approx(0.99) and e.unreliable


def test_empty_numbers_are_not_reported_and_a_folder_is_read_whole(tmp_path):
    rb_entry(tmp_path, "mnist", "L2", "a", autoattack_acc="", reported="")
    rb_entry(tmp_path, "cifar10", "Linf", "b", eps=0.031)
    entries = read_reported(tmp_path)
    assert [(e.name, e.dataset, e.norm) for e in entries] == [("b", "cifar10", "linf"), ("a", "mnist", "l2")]
    assert math.isnan(entries[1].robust) and math.isnan(entries[1].claimed)


def test_robustbench_files_without_a_dataset_key_take_it_from_the_folder(tmp_path):
    path = rb_entry(tmp_path, "cifar10", "L2", "x")
    body = json.loads(path.read_text())
    del body["dataset"]
    path.write_text(json.dumps(body))
    assert read_entry(path).dataset == "cifar10"


@pytest.mark.parametrize(
    ("threat", "fields", "message"),
    [
        ("Linf", {"clean_acc": "high"}, "clean_acc is 'high', not a percentage"),
        ("Linf", {"autoattack_acc": "120"}, "autoattack_acc is '120', outside 0 to 100"),
        ("Linf", {"eps": "8/0"}, "eps is '8/0', not a number or a fraction such as 8/255"),
        ("Linf", {"unreliable": "maybe"}, "unreliable is 'maybe', not true or false"),
        ("corruptions", {}, "cannot tell its threat model"),
    ],
)
def test_bad_entries_fail_with_one_line_naming_the_file_and_field(tmp_path, threat, fields, message):
    path = rb_entry(tmp_path, "mnist", threat, "m", **fields)
    with pytest.raises(BenchError) as exc:
        read_entry(path)
    assert str(exc.value).startswith(f"{path}: ") and message in str(exc.value) and "\n" not in str(exc.value)


def test_a_file_that_is_no_entry_and_a_folder_without_any(tmp_path):
    bad = tmp_path / "model_info" / "mnist" / "Linf" / "x.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"name": "x"}')
    with pytest.raises(BenchError, match=r"not a RobustBench entry \(no eps, clean_acc, autoattack_acc\)"):
        read_entry(bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchError, match="neither a bench run folder"):
        read_reported(tmp_path / "empty")


def test_eps_is_read_as_papers_write_it(tmp_path):
    assert parse_eps(tmp_path, "8/255") == 8 / 255 and parse_eps(tmp_path, 0.3) == 0.3 and parse_eps(tmp_path, " 2 ") == 2.0


def test_a_robustbench_checkout_keeps_its_lp_entries_and_says_how_many_corruption_entries_it_left_out(tmp_path, caplog):
    rb_entry(tmp_path, "cifar10", "Linf", "a", eps="8/255")
    corrupt = rb_entry(tmp_path, "cifar10", "corruptions", "b", eps=None)
    body = json.loads(corrupt.read_text())
    del body["autoattack_acc"]  # as in RobustBench's model_info/<dataset>/corruptions/: corruptions_acc instead
    corrupt.write_text(json.dumps({**body, "corruptions_acc": "76.78"}))
    rb_entry(tmp_path, "imagenet", "corruptions", "c")
    with caplog.at_level("WARNING"):
        assert [e.name for e in read_reported(tmp_path / "model_info")] == ["a"]
    assert "left out 2 RobustBench entries of threat models bench does not measure (corruptions: 2)" in caplog.text
    with pytest.raises(BenchError, match="no RobustBench entry under a Linf, L2 or L1 folder"):
        read_reported(tmp_path / "model_info" / "imagenet")
