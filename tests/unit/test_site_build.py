"""The site (bench.reporting.site.build): the leaderboard's groups and ranks, reported rows, claims, escaping, links, its folder."""

from __future__ import annotations

import html
import json
import re

import pytest
from helpers.leaderboard import OK, two_runs
from helpers.report_fixtures import clean, fixed, records, run_folder
from helpers.site import HOSTILE, broken_links, hostile_run, rb_entry

from bench.errors import BenchError
from bench.reporting.leaderboard.board import build_leaderboards, load_run
from bench.reporting.site.build import build_site


def rows(page: str, table_id: str) -> list[str]:
    """The rows of one table of a page, as HTML."""
    body = re.search(rf'<table class="board" id="{table_id}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, f"no table {table_id}"
    return re.findall(r"<tr[^>]*>.*?</tr>", body.group(1), re.S)


def text(row: str) -> list[str]:
    """Each cell's first word: its value, without the smaller second line."""
    return [
        html.unescape(re.sub(r"<[^>]+>", " ", c)).split()[0] if c.strip() else "" for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]


@pytest.fixture
def runs(tmp_path):
    one, two = two_runs(tmp_path)
    (one / "report.html").write_text("<!DOCTYPE html><title>report of one</title>")
    manifest = json.loads((one / "manifest.json").read_text())
    manifest["spec"]["models"][0]["claimed"] = {"robust_accuracy": 0.9, "norm": "linf", "eps": 0.3, "source": "Paper et al. 2026"}
    manifest["spec"]["models"][1]["claimed"] = {"robust_accuracy": 0.5, "norm": "l2", "eps": 1.0, "source": "Other 2025"}
    (one / "manifest.json").write_text(json.dumps(manifest))
    return one, two


def test_one_table_per_group_in_the_leaderboards_order_unreliable_rows_pinned_and_unranked(tmp_path, runs):
    build_site(list(runs), tmp_path / "site")
    page = (tmp_path / "site" / "index.html").read_text()
    (board,) = build_leaderboards([load_run(r) for r in runs])
    got = [text(r) for r in rows(page, "t1")]
    # The index shows the leaderboard's own frame: its order, its ranks (– for the unreliable b and c).
    assert [r[1] for r in got] == board.frame["model"].tolist() == ["d", "a", "b", "c"]
    assert [r[0] for r in got] == ["1", "1", "–", "–"]
    assert ["data-pin" in r for r in rows(page, "t1")] == [False, False, True, True]
    assert "digits: L∞ eps 0.3" in page and 'id="t2"' not in page


def test_a_claim_is_shown_beside_the_measured_number_with_its_source(tmp_path, runs):
    build_site(list(runs), tmp_path / "site")
    page = (tmp_path / "site" / "index.html").read_text()
    a = next(r for r in rows(page, "t1") if ">a</a>" in r)
    assert '<td class="num" data-v="0.9" title="Paper et al. 2026">90.0%</td>' in a
    b = next(r for r in rows(page, "t1") if ">b</a>" in r)  # claimed at another budget than the table's: it says which
    assert '<td class="num" data-v="0.5" title="Other 2025">50.0%<span class="sub">at L2 1</span></td>' in b
    (model,) = (tmp_path / "site" / "models").glob("one-*/a-*.html")
    claim = model.read_text()
    # a's worst case at linf 0.3 is 1/4 (margin PGD breaks sample 0, PGD samples 0-2): far below the claim.
    assert "Claimed: <b>90.0%</b> robust accuracy at L∞ eps 0.3 (Paper et al. 2026)" in claim
    assert "measured worst case at the same budget: 25.0% [4.6, 69.9] over 4 samples, -65.0 pts below the claim" in claim


def test_reported_rows_are_marked_listed_apart_and_never_ranked(tmp_path, runs):
    rb = tmp_path / "rb"
    rb_entry(rb, "digits", "Linf", "paper-model", reported="95.00")
    rb_entry(rb, "mnist", "L2", "other", eps="8/255", unreliable=True, footnote="masking fail")
    summary = build_site([*runs, rb], tmp_path / "site")
    page = (tmp_path / "site" / "index.html").read_text()
    assert summary.reported == 2
    assert all("paper-model" not in r and "other" not in r for r in rows(page, "t1"))
    (same,) = rows(page, "t1r")  # under the measured table of the same dataset, threat and eps, in a table of its own
    assert '<span class="badge">reported</span>' in same and text(same)[1:4] == ["98.4%", "91.2%", "95.0%"]
    assert "mnist: L2 eps 8/255: reported only" in page
    (other,) = rows(page, "r1")
    assert "data-pin" in other and "masking fail" in other and text(other)[4] == "no"


def test_every_page_opens_and_every_local_link_resolves_inside_the_folder(tmp_path, runs):
    summary = build_site([*runs, runs[0]], tmp_path / "site")  # a run given twice is shown once
    site = tmp_path / "site"
    assert summary.pages == 5 and len(list(site.glob("models/*/*.html"))) == 4
    assert broken_links(site) == []
    (one,) = site.glob("runs/one-*")
    assert (one / "report.html").read_text() == "<!DOCTYPE html><title>report of one</title>"
    assert sorted(p.name.split("-")[0] for p in one.glob("records/*.csv.gz")) == ["a", "b"]
    assert list(site.glob("runs/two-*/report.html")) == []  # run two has no report: its pages do not link one


def test_the_site_asks_for_nothing_outside_its_folder(tmp_path, runs):
    build_site(list(runs), tmp_path / "site")
    for page in (tmp_path / "site").glob("**/*.html"):
        body = page.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', body), page
        assert "<link" not in body and "@import" not in body and "url(" not in body and "@font-face" not in body


def test_every_user_string_is_escaped_on_every_page(tmp_path):
    run = hostile_run(tmp_path)
    rb_entry(tmp_path / "rb", "digits", "Linf", "rb", name=HOSTILE, footnote=HOSTILE, authors=HOSTILE, link="javascript:alert(1)")
    build_site([run, tmp_path / "rb"], tmp_path / "site")
    pages = [p for p in (tmp_path / "site").glob("**/*.html")]
    assert len(pages) == 2
    for page in pages:
        body = page.read_text()
        assert body.count("<script") == 1 and "javascript:" not in body, page  # the site's own script, and nothing else
        assert HOSTILE not in body and html.escape(HOSTILE) in body, page
    index = (tmp_path / "site" / "index.html").read_text()
    model = next(p for p in pages if p.name != "index.html").read_text()
    assert f'title="{html.escape(HOSTILE)}"' in index  # the claim's source
    assert f"{html.escape(HOSTILE)} (plugin {html.escape(HOSTILE)})" in model  # the plug-in and its origin


def test_the_output_folder_is_replaced_only_when_bench_wrote_it(tmp_path, runs):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(BenchError, match="exists and is not a site `bench site` wrote"):
        build_site(list(runs), mine)
    assert (mine / "notes.txt").read_text() == "keep" and not list(tmp_path.glob(".mine.*"))
    site = tmp_path / "site"
    build_site([runs[0]], site)
    build_site([runs[1]], site)  # an earlier site is replaced whole: run one's pages are gone
    assert [p.parent.name.split("-")[0] for p in site.glob("models/*/*.html")] == ["two", "two"]
    assert not list(tmp_path.glob(".site.*"))


def test_a_norm_the_leaderboard_refuses_becomes_a_note(tmp_path):
    from helpers.report_fixtures import clean, min_norm, records, run_folder

    recs = records(clean("m", [True] * 4), min_norm("m", "jsma", [True] * 4, [3.0, 5.0, 9.0, 2.0], use="art.jsma", norm="l0"))
    summary = build_site([run_folder(tmp_path, "l0run", recs)], tmp_path / "site")
    assert summary.groups == 0 and len(summary.notes) == 1 and summary.notes[0].startswith("l0: not ranked: ")
    assert html.escape(summary.notes[0]) in (tmp_path / "site" / "index.html").read_text()


def test_nothing_to_show(tmp_path):
    with pytest.raises(BenchError, match="no such file or folder"):
        build_site([tmp_path / "missing"], tmp_path / "site")


def test_a_publish_that_fails_leaves_the_earlier_site_in_place(tmp_path, monkeypatch):
    from pathlib import Path

    from bench.reporting.site import build

    out, tmp = tmp_path / "site", tmp_path / ".site.tmp"
    out.mkdir()
    (out / "index.html").write_text("earlier")
    tmp.mkdir()
    real = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if self == tmp:
            raise OSError(28, "No space left on device")
        return real(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError):
        build._publish(tmp, out)
    assert (out / "index.html").read_text() == "earlier"


def test_a_folder_of_run_folders_is_read_as_its_runs(tmp_path, runs):
    # `bench run --out results` leaves results/<suite>/ run folders: `bench site results` shows every one.
    build_site([runs[0].parent], tmp_path / "site")
    page = (tmp_path / "site" / "index.html").read_text()
    assert [text(r)[1] for r in rows(page, "t1")] == ["d", "a", "b", "c"], "both runs' models, none read as RobustBench"


def test_an_autoattack_number_on_fewer_samples_than_the_worst_case_says_how_many(tmp_path):
    recs = records(
        clean("m", OK),
        fixed("m", "pgd", OK, {0.3: [True, False, False, False]}),
        fixed("m", "aa", OK[:2], {0.3: [False, True]}, use="aa.standard", tag="adaptive"),
    )
    build_site([run_folder(tmp_path, "aa2", recs)], tmp_path / "site")
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert '<td class="num" data-v="0.5">50.0%<span class="sub">on 2 samples</span></td>' in page
