"""The site's stylesheet and its one script, inlined into every page: nothing is fetched, so file:// works offline.

The script is bench's own and small: a click (or Enter) on a column header sorts
that table by the column, a second click reverses it; the filter box hides every
row whose text does not contain what was typed. Cells sort by their ``data-v``
number when they carry one (a percentage's fraction, a parameter count), else by
their text; an empty ``data-v`` (not measured) sorts last either way. Rows with
``data-pin`` (unreliable models) stay below the others whatever the sort, as in
``bench leaderboard --sort``: their numbers are no evidence of robustness.
"""

from __future__ import annotations

from bench.reporting.html import CSS as REPORT_CSS

CSS = (
    REPORT_CSS
    + """
html { overflow-y: scroll; }
td, th { overflow-wrap: break-word; }
.sub, dl.kv dd { overflow-wrap: anywhere; }
table.board td:nth-child(2) a { overflow-wrap: normal; }
table.board { width: 100%; }
table.board th { cursor: pointer; user-select: none; white-space: nowrap; }
table.board th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 0.7em; }
table.board th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 0.7em; }
table.board td.num { text-align: right; white-space: nowrap; }
.sub { display: block; color: #666; font-size: 0.78rem; }
.badge { display: inline-block; font-size: 0.72rem; padding: 0 0.35rem; border-radius: 3px; background: #ddf4ff;
         color: #0550ae; border: 1px solid #54aeff; margin-left: 0.3rem; white-space: nowrap; }
.badge.unreliable { background: #ffebe9; color: #a40e26; border-color: #ff8182; }
.filter { margin: 1rem 0; } .filter input { font: inherit; padding: 0.3rem 0.5rem; width: 24rem; max-width: 100%; }
.count { color: #555; font-size: 0.85rem; margin-left: 0.6rem; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem; font-size: 0.9rem; }
dl.kv dt { color: #555; } dl.kv dd { margin: 0; overflow-wrap: anywhere; }
.claim { border-left: 4px solid #54aeff; padding: 0.3rem 0.8rem; background: #f6f8fa; }
"""
)

SCRIPT = """
(function () {
  "use strict";
  function key(cell) {
    var v = cell.getAttribute("data-v");
    if (v === null) { return cell.textContent.trim().toLowerCase(); }
    return v === "" ? null : parseFloat(v);
  }
  function sortBy(table, col, th) {
    var asc = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (r, i) { r._order = i; });
    rows.sort(function (a, b) {
      var pa = a.hasAttribute("data-pin") ? 1 : 0, pb = b.hasAttribute("data-pin") ? 1 : 0;
      if (pa !== pb) { return pa - pb; }
      var x = key(a.cells[col]), y = key(b.cells[col]);
      if (x === null || y === null) { return x === y ? a._order - b._order : (x === null ? 1 : -1); }
      var c = x < y ? -1 : (x > y ? 1 : 0);
      return (asc ? c : -c) || a._order - b._order;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.board"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      th.setAttribute("aria-sort", "none");
      th.title = "Sort by this column (again to reverse)";
      th.addEventListener("click", function () { sortBy(table, col, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, col, th); }
      });
    });
  });
  var box = document.getElementById("filter");
  if (!box) { return; }
  function filter() {
    var q = box.value.trim().toLowerCase();
    Array.prototype.forEach.call(document.querySelectorAll("table.board"), function (table) {
      var shown = 0, rows = table.tBodies[0].rows;
      Array.prototype.forEach.call(rows, function (r) {
        r.hidden = q !== "" && r.textContent.toLowerCase().indexOf(q) < 0;
        shown += r.hidden ? 0 : 1;
      });
      var count = document.getElementById(table.id + "-count");
      if (count) { count.textContent = q === "" ? "" : shown + " of " + rows.length + " rows match"; }
    });
  }
  box.addEventListener("input", filter);
  filter();
})();
"""
