"""Check a bench site built from real run folders in headless Chromium, as issue 25's acceptance asks.

    python scripts/site_check.py RUN_DIR... [--keep DIR]

It runs ``bench site`` into a temporary folder, then moves the site to another folder (so a
link that leans on the build location, or on a file outside the site, breaks), and with
Chromium (Debian's ``chromium``; the network unreachable) checks:

* every table: a click on each column header sorts its rows by that column (the unpinned
  rows in order, empty cells last, unreliable rows below), a second click reverses it;
  typing a model's name in the filter leaves only the rows that contain it;
* every page opens, has a title, fits 1280 px, and each local link or image resolves to a
  file inside the site (and to the anchor it names);
* no request leaves the machine.

It prints one line per table and per page, and exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

from bench.cli import cli

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the DevTools driver the browser tests use

from helpers.browser import Browser, find_chromium, is_local  # noqa: E402
from helpers.site import page_problems  # noqa: E402

ROWS = "Array.from(document.getElementById({t}).tBodies[0].rows)"
CLEAR_FILTER = "(e => { e.value = ''; e.dispatchEvent(new Event('input')); })(document.getElementById('filter'))"
KEY = (
    "(c => { const v = c.getAttribute('data-v'); "
    "return v === null ? c.textContent.trim().toLowerCase() : (v === '' ? null : parseFloat(v)); })"
)


def column(b: Browser, rows: str, col: int) -> list[list[object]]:
    """Each of ``rows`` as [pinned, its sort key in column ``col`` as the site's script reads it]."""
    return b.js(f"{rows}.map(r => [r.hasAttribute('data-pin'), {KEY}(r.cells[{col}])])")


def in_order(rows: list[list[object]], ascending: bool) -> bool:
    """Pinned rows last; among the rest (and among the pinned) non-empty keys sorted, empty keys last."""
    pins = [p for p, _ in rows]
    if pins != sorted(pins):
        return False
    for group in (False, True):
        keys = [k for p, k in rows if p is group]
        full = [k for k in keys if k is not None]
        if keys != full + [None] * (len(keys) - len(full)):
            return False
        if full != sorted(full, reverse=not ascending):
            return False
    return True


def check_tables(b: Browser, index: Path) -> list[str]:
    """Sort every column of every table both ways, and filter by a model's name; the failures."""
    b.open(index.as_uri())
    failures = []
    tables = b.js(
        "Array.from(document.querySelectorAll('table.board')).map(t => [t.id, t.tHead.rows[0].cells.length, t.tBodies[0].rows.length])"
    )
    for table, cols, n in tables:
        rows = ROWS.format(t=json.dumps(table))
        bad = []
        for col in range(cols):
            header = f"#{table} thead th:nth-child({col + 1})"
            for ascending in (True, False):
                b.click(header)
                if not in_order(column(b, rows, col), ascending):
                    bad.append(f"column {col + 1} {'ascending' if ascending else 'descending'}")
        name = b.js(f"(r => (r.cells[1].querySelector('a') || r.cells[1]).textContent.trim())({rows}[0])")
        b.type("#filter", name)
        shown = b.js(f"{rows}.filter(r => !r.hidden).map(r => r.textContent.toLowerCase())")
        want = json.dumps(name.lower())
        hidden_ok = b.js(f"{rows}.every(r => r.hidden === (r.textContent.toLowerCase().indexOf({want}) < 0))")
        if not shown or not hidden_ok:
            bad.append(f"filter {name!r}")
        b.js(CLEAR_FILTER)
        verdict = "ok" if not bad else "FAIL " + ", ".join(bad)
        print(f"table {table}: {n} rows, {cols} columns sorted both ways, filter {name!r} left {len(shown)}: {verdict}")
        failures += [f"{table}: {x}" for x in bad]
    return failures


def check_pages(b: Browser, site: Path) -> list[str]:
    """Open every page (the browser tests' check): a title, 1280 px wide, every local link inside the site; the failures."""
    failures = []
    for page in sorted(site.glob("**/*.html")):
        bad = page_problems(b, page, site)
        rel = page.relative_to(site)
        print(f"page {rel}: {'ok' if not bad else 'FAIL ' + ', '.join(bad)}")
        failures += [f"{rel}: {x}" for x in bad]
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (and RobustBench entries) for `bench site`")
    parser.add_argument("--keep", type=Path, help="also leave the checked site here")
    ns = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        sys.exit("chromium not found: apt-get install chromium (or set BENCH_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="bench-site-check-") as tmp:
        res = CliRunner().invoke(cli, ["site", *map(str, ns.runs), "--out", f"{tmp}/built"])
        print(res.output.strip())
        if res.exit_code:
            sys.exit(f"bench site failed: {res.output.strip()}")
        site = Path(tmp) / "moved" / "site"
        site.parent.mkdir()
        shutil.move(f"{tmp}/built", site)  # built in one place, checked in another
        b = Browser(chromium)
        try:
            failures = check_tables(b, site / "index.html") + check_pages(b, site)
            remote = sorted({u for u in b.requests if not is_local(u)})
            print(f"requests: {len(b.requests)}, off the machine: {len(remote)}")
            failures += [f"request {u}" for u in remote]
        finally:
            b.close()
        if ns.keep:
            shutil.rmtree(ns.keep, ignore_errors=True)
            shutil.copytree(site, ns.keep)
    print("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
