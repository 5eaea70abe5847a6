"""Screenshot the index of a bench site built from real run folders: the README's picture (docs/img/site.png).

    python scripts/site_screenshot.py RUN_DIR... [--out docs/img/site.png] [--height 1000]

It runs ``bench site`` into a temporary folder, then has headless Chromium (Debian's
``chromium``) write a 1280-px-wide screenshot of its ``index.html`` from disk, with the
network unreachable, so the picture shows exactly what the offline site shows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

from bench.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def screenshot(page: Path, out: Path, width: int, height: int) -> None:
    """Chromium's own ``--screenshot`` of one page, with a throwaway profile and no network."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium not found: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="bench-shot-") as profile:
        args = [
            chromium,
            "--headless=new",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            page.as_uri(),
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium's sandbox refuses root
        subprocess.run(args, check=True, capture_output=True, timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (and RobustBench entries) for `bench site`")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "site.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1000)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        res = CliRunner().invoke(cli, ["site", *map(str, ns.runs), "--out", f"{tmp}/site", "-q"])
        if res.exit_code != 0:
            sys.exit(res.output)
        ns.out.parent.mkdir(parents=True, exist_ok=True)
        screenshot(Path(tmp) / "site" / "index.html", ns.out.resolve(), ns.width, ns.height)
    print(ns.out)


if __name__ == "__main__":
    main()
