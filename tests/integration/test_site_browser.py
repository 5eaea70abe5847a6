"""bench site in a real browser: headless Chromium sorts, filters, opens every page, fits 1280 px, fetches nothing remote.

The site is built from a real smoke run, two hand-built runs (another evaluation set, so
another group) and a RobustBench entry. Chromium is driven over the DevTools protocol
(``helpers.browser``): clicks and typing are real input events, and every request the pages
make is recorded. The tests skip, saying why, where Chromium is not installed.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from helpers.browser import Browser, find_chromium, is_local
from helpers.leaderboard import two_runs
from helpers.site import page_problems, rb_entry

from bench.reporting.site.build import build_site

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not found (apt-get install chromium, or set BENCH_CHROMIUM): the site's browser tests need it"
)
ROWS = "Array.from(document.querySelectorAll('#{t} tbody tr'))"


@pytest.fixture(scope="module")
def site(smoke_cold_run, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("site")
    one, two = two_runs(base)
    rb_entry(base / "rb", "digits", "Linf", "paper-model", reported="95.00")
    out = base / "site"
    build_site([smoke_cold_run.dir, one, two, base / "rb"], out)
    return out


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("websocket", reason="websocket-client (the test extra) drives Chromium")
    b = Browser(CHROMIUM)  # type: ignore[arg-type]
    yield b
    b.close()


def table_of(b: Browser, model: str) -> str:
    """The id of the first measured table with a row for ``model``."""
    return b.js(
        f"Array.from(document.querySelectorAll('table.board:not([id$=r])')).find(t => Array.from(t.tBodies[0].rows)"
        f".some(r => r.cells[1].querySelector('a').textContent === {model!r})).id"
    )


def column(b: Browser, table: str, col: int) -> list[list[object]]:
    """Each row of a table as (pinned, the column's sort value, its model)."""
    return b.js(
        f"{ROWS.format(t=table)}.map(r => [r.hasAttribute('data-pin'), "
        f"r.cells[{col}].hasAttribute('data-v') ? r.cells[{col}].getAttribute('data-v') : r.cells[{col}].textContent.trim(), "
        "r.cells[1].querySelector('a') ? r.cells[1].querySelector('a').textContent : ''])"
    )


def test_a_click_on_a_column_header_sorts_it_and_a_second_click_reverses(site, browser):
    browser.open((site / "index.html").as_uri())
    table = table_of(browser, "d")  # the hand-built group: d 50%, a 25% reliable; b and c unreliable
    worst = browser.js(f"Array.from(document.querySelectorAll('#{table} thead th')).findIndex(h => h.textContent === 'worst case')")
    assert [m for _, _, m in column(browser, table, worst)] == ["d", "a", "b", "c"]
    browser.click(f"#{table} thead th:nth-child({worst + 1})")
    got = column(browser, table, worst)
    assert [m for _, _, m in got] == ["a", "d", "b", "c"] and [float(v) for _, v, _ in got[:2]] == [0.25, 0.5]
    assert browser.js(f"document.querySelector('#{table} thead th:nth-child({worst + 1})').getAttribute('aria-sort')") == "ascending"
    browser.click(f"#{table} thead th:nth-child({worst + 1})")
    assert [m for _, _, m in column(browser, table, worst)] == ["d", "a", "b", "c"]  # descending; unreliable rows stay last
    browser.click(f"#{table} thead th:nth-child(2)")  # a text column
    assert [m for _, _, m in column(browser, table, 1)] == ["a", "d", "b", "c"]


def test_the_filter_hides_the_rows_that_do_not_match(site, browser):
    browser.open((site / "index.html").as_uri())
    smoke = table_of(browser, "distilled")
    hand = table_of(browser, "d")
    assert smoke != hand
    browser.type("#filter", "distilled")
    shown = browser.js(f"{ROWS.format(t=smoke)}.filter(r => !r.hidden).map(r => r.cells[1].querySelector('a').textContent)")
    assert shown == ["distilled"]
    assert browser.js(f"{ROWS.format(t=hand)}.every(r => r.hidden && r.offsetHeight === 0)")
    assert browser.js(f"document.getElementById('{smoke}-count').textContent") == "1 of 2 rows match"


def test_every_page_opens_fits_1280_px_and_every_local_link_resolves(site, browser):
    pages = sorted(site.glob("**/*.html"))
    own = [p for p in pages if p.name != "report.html"]
    assert len(own) == 1 + 3 + 4 and len(pages) == len(own) + 1  # index, smoke's 3 models, 4 hand-built; smoke's report
    for page in pages:
        assert page_problems(browser, page, site) == [], page


def test_no_request_leaves_the_machine(site, browser):
    for page in sorted(site.glob("**/*.html")):
        browser.open(page.as_uri())
    remote = [u for u in browser.requests if not is_local(u)]
    assert len(browser.requests) >= 9 and remote == []


def test_the_same_site_works_from_a_web_server(site, browser):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        browser.open(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        table = table_of(browser, "d")
        browser.click(f"#{table} thead th:nth-child(2)")
        assert [m for _, _, m in column(browser, table, 1)] == ["a", "d", "b", "c"]
        href = browser.js(f"document.querySelector('#{table} tbody a').href")
        browser.open(href)
        assert browser.js("document.querySelector('h1').textContent") == "a"
    finally:
        server.shutdown()
        server.server_close()
    assert all(is_local(u) for u in browser.requests)
