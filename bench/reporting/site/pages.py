"""The site's page shell and the few HTML pieces every page uses; every string that reaches a page is escaped here.

A page is one HTML file with the stylesheet and the script inline, so it opens
from ``file://`` and from any web server without fetching anything. Links are
relative; file names come from ``slug`` (a readable part and a digest, so two ids
that read alike never share a file).
"""

from __future__ import annotations

import hashlib
import html
import math
import re

from bench.reporting.site.assets import CSS, SCRIPT

MARKER = ".bench-site"  # a site folder bench wrote, and so may replace


def esc(value: object) -> str:
    """Text for an HTML element or a quoted attribute: ``<``, ``>``, ``&`` and both quotes escaped."""
    return html.escape(str(value), quote=True)


def slug(text: str, key: str | None = None) -> str:
    """A file-name-safe, collision-free name: ``text``'s safe characters and a digest of ``key`` (default ``text``)."""
    readable = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "x"
    return f"{readable}-{hashlib.sha256((text if key is None else key).encode('utf-8')).hexdigest()[:8]}"


def safe_url(url: str) -> str:
    """``url`` when it is an http(s) address, else "": a RobustBench entry's ``link`` must not become a script URL."""
    return url if re.match(r"^https?://", url.strip(), re.IGNORECASE) else ""


def link(href: str, text: object) -> str:
    """An ``<a>`` with both its address and its text escaped."""
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def cell(body: str, value: float | None = None, cls: str = "") -> str:
    """A table cell; ``value`` is its sort key (``data-v``), empty when not measured (NaN or None sorts last)."""
    attrs = f' class="{esc(cls)}"' if cls else ""
    if value is not None or cls == "num":
        v = "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))
        attrs += f' data-v="{v}"'
    return f"<td{attrs}>{body}</td>"


def sub(text: object) -> str:
    """A second, smaller line inside a cell."""
    return f'<span class="sub">{esc(text)}</span>'


def kv(items: list[tuple[str, object]]) -> str:
    """A definition list of ``(field, value)`` pairs; a missing value shows as –."""
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc('–' if v is None or v == '' else v)}</dd>" for k, v in items)
    return f'<dl class="kv">{rows}</dl>'


def page(title: str, subtitle: str, body: str, home: str = "") -> str:
    """A whole page: the head with the inline stylesheet, the body, the inline script; ``home`` links back to the index."""
    back = f"<nav>{link(home, '← all models')}</nav>" if home else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="bench site"><title>{esc(title)}</title><style>{CSS}</style></head>\n'
        f'<body>{back}<h1>{esc(title)}</h1><p class="subtitle">{esc(subtitle)}</p>\n{body}\n'
        f"<script>{SCRIPT}</script></body></html>\n"
    )
