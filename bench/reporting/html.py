"""The run report as one self-contained HTML file: inline CSS, figures as base64 PNG data URIs.

No scripts, fonts, stylesheets or images are fetched, so the file opens from
disk, offline, and can be mailed or attached to a paper's supplement as is.
"""

from __future__ import annotations

import base64
import html
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.reporting.doc import Plot, ReportDoc, Section, Table

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 1rem 2rem 4rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.2rem; }
.subtitle { color: #555; margin-top: 0; }
nav { background: #f6f8fa; padding: 0.5rem 1rem; border-radius: 6px; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.85rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.55rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; }
tr:nth-child(even) td { background: #fbfbfb; }
tr.fail td { background: #ffd7d5; } tr.fail td.verdict { color: #a40e26; font-weight: bold; }
tr.warn td { background: #fff3c4; } tr.warn td.verdict { color: #7a5a00; font-weight: bold; }
tr.pass td.verdict { color: #116329; }
tr.worst td { font-weight: 600; background: #eef2f7; }
figure { margin: 1.2rem 0 2rem; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9rem; max-width: 60rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85rem; }
pre { background: #f6f8fa; padding: 0.8rem; overflow-x: auto; }
.none { color: #777; font-style: italic; }
details > summary { cursor: pointer; color: #0550ae; margin: 0.4rem 0; }
h3 { font-size: 1rem; margin: 1rem 0 0.2rem; }
"""


def _text(s: str) -> str:
    # Escape first, then turn `code` spans into <code>: the only markup the section texts use.
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(s))


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def html_table(table: Table) -> str:
    """One table; rows carry their CSS class (``fail``/``warn``/``pass``) for highlighting."""
    frame = table.frame
    if not len(frame):
        return '<p class="none">(none)</p>'
    cols = list(frame.columns)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cls = table.row_classes[i] if i < len(table.row_classes) else ""
        cells = "".join(f'<td class="{html.escape(str(c))}">{html.escape(str(v))}</td>' for c, v in zip(cols, row, strict=True))
        body.append(f'<tr class="{html.escape(cls)}">{cells}</tr>' if cls else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _titled(table: Table) -> str:
    # A table with a caption, or folded away under a summary line.
    body = html_table(table)
    if table.title:
        body = f"<h3>{html.escape(table.title)}</h3>{body}"
    if table.collapsed:
        body = f"<details><summary>{html.escape(table.collapsed)}</summary>{body}</details>"
    return body


def html_figure(plot: Plot) -> str:
    """A figure with its PNG embedded as a data URI."""
    data = base64.b64encode(plot.png.read_bytes()).decode("ascii")
    return (
        f'<figure id="fig-{_anchor(plot.name)}"><img src="data:image/png;base64,{data}" alt="{html.escape(plot.title)}">'
        f"<figcaption><b>{html.escape(plot.title)}.</b> {html.escape(plot.caption)}</figcaption></figure>"
    )


def _section(sec: Section) -> str:
    parts = [f'<section id="{_anchor(sec.title)}"><h2>{html.escape(sec.title)}</h2>']
    if sec.text:
        parts.append(f"<p>{_text(sec.text)}</p>")
    parts += [_titled(t) for t in sec.tables]
    parts += [html_figure(p) for p in sec.plots]
    if sec.code:
        parts.append(f"<details><summary>{html.escape(sec.code_title)}</summary><pre>{html.escape(sec.code)}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def render_html(doc: ReportDoc) -> str:
    """The whole report as one HTML document."""
    nav = " ".join(f'<a href="#{_anchor(s.title)}">{html.escape(s.title)}</a>' for s in doc.sections)
    sections = "\n".join(_section(s) for s in doc.sections)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(doc.title)}</title><style>{CSS}</style></head>\n"
        f'<body><h1>{html.escape(doc.title)}</h1><p class="subtitle">{html.escape(doc.subtitle)}</p>'
        f"<nav>{nav}</nav>\n{sections}\n</body></html>\n"
    )
