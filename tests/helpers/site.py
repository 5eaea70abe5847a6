"""Site test helpers: RobustBench entries on disk, hostile strings, and every link and source a built site's pages hold."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.leaderboard import model_records
from helpers.report_fixtures import records, run_folder

if TYPE_CHECKING:
    from helpers.browser import Browser

# Every character HTML (and LaTeX) treats specially, in one id: it must reach every page escaped.
HOSTILE = "<script>alert(1)<\\script>&%_\\"


def rb_entry(root: Path, dataset: str, threat: str, file: str, **fields: object) -> Path:
    """One RobustBench entry at ``root/model_info/<dataset>/<threat>/<file>.json`` in the agreed format, named ``file``."""
    body: dict[str, object] = {
        "link": "",
        "name": file,
        "authors": "",
        "additional_data": False,
        "number_forward_passes": 1,
        "dataset": dataset,
        "venue": "",
        "architecture": "small-cnn",
        "eps": "0.3",
        "clean_acc": "98.40",
        "reported": "",
        "autoattack_acc": "91.20",
        "external": "",
        "footnote": "bench's adaptive worst case over 4 samples",
        "unreliable": False,
    }
    body.update(fields)
    path = root / "model_info" / dataset / threat / f"{file}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def hostile_run(root: Path) -> Path:
    """A run folder whose model id, suite, claim source, plug-in name and check message are all ``HOSTILE``."""
    run = run_folder(root, "hostile", records(*model_records(HOSTILE, 1)))
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["spec"]["models"][0]["claimed"] = {"robust_accuracy": 0.9, "norm": "linf", "eps": 0.3, "source": HOSTILE}
    manifest["origins"] = {"attacks": {HOSTILE: f"plugin {HOSTILE}"}}
    manifest["suite"] = HOSTILE
    (run / "manifest.json").write_text(json.dumps(manifest))
    flags = "model,attack,check,category,verdict,value,threshold,message\n"
    flags += f'"{HOSTILE}",pgd,monotone,sanity,warn,0.1,,"{HOSTILE}"\n'
    (run / "flags.csv").write_text(flags)
    return run


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if k in ("href", "src") and v is not None:
                self.refs.append(v)
            if k == "id" and v is not None:
                self.ids.add(v)


def page_refs(page: Path) -> tuple[list[str], set[str]]:
    """Every ``href`` and ``src`` of a page, and the element ids it defines."""
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.refs, parser.ids


def broken_links(site: Path) -> list[str]:
    """Every local link of the site's own pages (not the copied run reports) that leads nowhere, or out of the folder."""
    bad = []
    for page in sorted(site.glob("**/*.html")):
        if page.name == "report.html":
            continue
        refs, ids = page_refs(page)
        for ref in refs:
            if ref.startswith(("http://", "https://", "data:")):
                continue
            target, _, anchor = ref.partition("#")
            dest = (page.parent / target).resolve() if target else page
            inside = dest == site.resolve() or site.resolve() in dest.parents
            ok = inside and dest.is_file() and (not anchor or anchor in (ids if not target else page_refs(dest)[1]))
            if not ok:
                bad.append(f"{page.relative_to(site)} -> {ref}")
    return bad


def page_problems(b: Browser, page: Path, site: Path) -> list[str]:
    """Open ``page`` in the browser: what is wrong with it (no title, wider than the window, a local link or image that
    is no file inside ``site``, an anchor its page lacks). A run's copied ``report.html`` keeps its own layout."""
    b.open(page.as_uri())
    bad = [] if b.js("document.title") else ["no title"]
    if page.name != "report.html" and not b.js("document.documentElement.scrollWidth <= document.documentElement.clientWidth"):
        bad.append("wider than the window")
    for url in b.js("Array.from(document.querySelectorAll('a[href], img[src]')).map(e => e.href || e.src)"):
        if not url.startswith("file://"):
            continue
        target, _, anchor = url.removeprefix("file://").partition("#")
        path = Path(target)
        if not path.is_file() or site not in path.parents:
            bad.append(f"link {url}")
        elif anchor and f'id="{anchor}"' not in path.read_text(encoding="utf-8"):
            bad.append(f"anchor {url}")
    return bad
