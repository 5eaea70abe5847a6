"""``build_site``: a static site from run folders and RobustBench entries, written to one folder that needs nothing else.

The folder holds ``index.html``, ``models/<run>/<model>.html``, and under
``runs/<run>/`` a copy of each run's ``report.html``, each model's per-sample
records (``records/<model>.csv.gz``) and its defences figure. Links are relative,
so the folder works from ``file://``, from any web server, and after being moved.
It is built in a temporary folder beside the target and moved into place at the
end; an existing target is replaced only when it is a site bench wrote.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError, OutputError
from bench.fsutil import atomic_write_text
from bench.reporting.leaderboard.board import Leaderboard, RunData, build_leaderboards, comparable_key
from bench.reporting.site.index import index_page
from bench.reporting.site.model import ModelFiles, model_page
from bench.reporting.site.pages import MARKER, slug
from bench.reporting.site.reported import ReportedEntry, read_reported
from bench.reporting.site.runs import SiteRun, open_run
from bench.results.records import CLEAN
from bench.results.run_folder import RunFolder

log = logging.getLogger(__name__)
NORM_ORDER = ("linf", "l2", "l1", "l0")


@dataclass(frozen=True)
class SiteSummary:
    """What a build wrote: the folder, its pages, and what it could not rank (one line each)."""

    out: Path
    pages: int
    groups: int
    reported: int
    notes: tuple[str, ...]


def read_inputs(paths: list[Path]) -> tuple[list[SiteRun], list[ReportedEntry]]:
    """Run folders (or a folder of them, as ``bench run --out results`` leaves), and RobustBench JSON files or folders of
    them, told apart by whether they hold ``records/``."""
    runs, reported = [], []
    for p in paths:
        if not p.exists():
            raise BenchError(f"{p}: no such file or folder")
        inner = sorted(c for c in p.iterdir() if c.is_dir() and RunFolder.is_run_folder(c)) if p.is_dir() else []
        if RunFolder.is_run_folder(p):
            runs.append(open_run(p))
        elif inner:
            runs += [open_run(c) for c in inner]
        else:
            reported += read_reported(p)
    if not runs and not reported:
        raise BenchError("nothing to show: give at least one run folder or RobustBench entry")
    return runs, reported


def _attacked_at(data: RunData, norm: str) -> bool:
    r = data.records
    return bool(((r["attack"] != CLEAN) & (r["norm"] == norm)).any())


def _norms(runs: list[SiteRun]) -> list[str]:
    found = {str(n) for r in runs for n in r.data.records.loc[r.data.records["attack"] != CLEAN, "norm"].unique()}
    return [n for n in NORM_ORDER if n in found] + sorted(found - set(NORM_ORDER))


def boards_of(runs: list[SiteRun]) -> tuple[list[Leaderboard], list[str]]:
    """The leaderboard's groups at every norm the runs attacked; a group it refuses to rank becomes a note saying why.

    Each comparable group is built on its own, so one group without a common eps
    (say, a run with only unbounded attacks at a norm) does not hide the others.
    """
    boards, notes = [], []
    for norm in _norms(runs):
        groups: dict[tuple[str, str, tuple[str, ...]], list[RunData]] = {}
        for r in runs:
            groups.setdefault(comparable_key(r.data, norm), []).append(r.data)
        for group in groups.values():
            if not any(_attacked_at(d, norm) for d in group):
                continue  # runs that never attacked at this norm: nothing to rank, nothing to say
            try:
                boards += build_leaderboards(group, norm)
            except BenchError as exc:
                notes.append(f"{norm}: not ranked: {exc}")
    return boards, notes


def _prepare(out: Path) -> Path:
    """A fresh temporary folder beside ``out``; refuse an ``out`` that holds anything but a site bench wrote."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise OutputError(f"{out}: exists and is not a site `bench site` wrote (no {MARKER}); give a new or empty folder")
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write ({exc.strerror or exc})") from None
    return tmp


def _publish(tmp: Path, out: Path) -> None:
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        if old.exists():
            old.rename(out)  # a failed build leaves the earlier site where it was
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_run(tmp: Path, run: SiteRun, boards: list[Leaderboard]) -> int:
    """A run's copied report, its models' records, figures and pages; the number of pages written."""
    base = tmp / "runs" / run.slug
    base.mkdir(parents=True)
    if run.has_report:
        shutil.copyfile(run.data.run_dir / "report.html", base / "report.html")
    records = run.data.records
    n = 0
    for model in dict.fromkeys(str(m) for m in records["model"]):
        name = slug(model)
        (base / "records").mkdir(exist_ok=True)
        # mtime 0: the same records give the same bytes, so a republished site changes only where the results did.
        records[records["model"] == model].to_csv(
            base / "records" / f"{name}.csv.gz", index=False, compression={"method": "gzip", "mtime": 0}
        )
        up = f"../../runs/{run.slug}"
        files = ModelFiles(f"{up}/report.html" if run.has_report else "", f"{up}/records/{name}.csv.gz", f"{up}/plots/{name}-defences.png")
        html = model_page(run, model, boards, files, base / "plots", f"{name}-defences")
        atomic_write_text(tmp / run.model_href(model), html)
        n += 1
    return n


def build_site(paths: list[Path], out: Path, title: str = "bench leaderboard") -> SiteSummary:
    """Write the site for ``paths`` (run folders, RobustBench files or folders) to ``out``."""
    runs, reported = read_inputs(paths)
    by_slug: dict[str, SiteRun] = {}
    for run in runs:
        by_slug.setdefault(run.slug, run)  # a run folder given twice is shown once
    unique = list(by_slug.values())
    boards, notes = boards_of(unique) if unique else ([], [])
    for note in notes:
        log.warning("%s", note)
    out = out.expanduser().resolve()
    tmp = _prepare(out)
    try:
        pages = sum(_write_run(tmp, run, boards) for run in unique)
        atomic_write_text(tmp / "index.html", index_page(title, boards, unique, reported, notes))
        (tmp / MARKER).write_text("a site written by `bench site`; `bench site --out` may replace this folder\n", encoding="utf-8")
        _publish(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"{out}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SiteSummary(out, pages + 1, len(boards), len(reported), tuple(notes))
