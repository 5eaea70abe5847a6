"""The map of bench's modules: one list, from which every package docstring's map and the docs' layout page are drawn.

Each module's line in a map is the first line of its own docstring, read from the
source (nothing is imported), so a module says what it is once, in its own file.
``tests/unit/test_layout.py`` fails when a module under ``bench/`` is missing here,
when this list names a module that does not exist, or when a package docstring's
map is out of date; ``python -m bench.layout`` rewrites those maps.
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent
BEGIN = "Modules:"  # a package's map starts at this line and runs to the docstring's end

# Packages in the order a newcomer reads them, each with its modules; "" is the package's own __init__.
PACKAGES: dict[str, tuple[str, ...]] = {
    "bench": ("__main__", "cli", "errors", "registry", "fsutil", "layout"),
    "bench.catalogue": ("attacks", "architectures", "datasets"),
    "bench.spec": ("schema", "load", "sweep", "plan"),
    "bench.attacks": (
        "base",
        "ops",
        "views",
        "losses",
        "indicators",
        "torchattacks_backend",
        "art_backend",
        "autoattack",
        "cw",
        "pgd_margin",
    ),
    "bench.pipeline": ("runner",),
    "bench.pipeline.data": ("bundle", "arrays", "cifar10"),
    "bench.pipeline.models": ("networks", "cifar", "external", "defences", "store", "preflight"),
    "bench.pipeline.training": ("loop", "plain", "adversarial"),
    "bench.pipeline.cells": ("values", "keys", "build", "execute", "train", "evaluate", "attack", "cost", "workspace", "provenance"),
    "bench.pipeline.measure": ("diagnostics", "costs", "binarization", "remeasure"),
    "bench.pipeline.executors": ("local", "dask", "dask_tasks", "slurm"),
    "bench.results": (
        "run_folder",
        "records",
        "metrics",
        "families",
        "flags",
        "audit",
        "seeds",
        "tables",
        "details",
        "examples",
        "costs",
    ),
    "bench.reporting": ("doc", "markdown", "html"),
    "bench.reporting.figures": ("plots", "examples", "reuse"),
    "bench.reporting.report": ("run_report", "defences", "claims", "audit", "costs"),
    "bench.reporting.leaderboard": ("board", "costs"),
    "bench.reporting.gate": ("compare", "output"),
    "bench.reporting.export": ("paper", "robustbench"),
    "bench.reporting.site": ("build", "runs", "index", "model", "reported", "pages", "assets"),
    "bench.commands": ("run", "validate", "describe", "ls", "publish", "leaderboard", "baseline", "check", "attack_test", "costs"),
}


def source_path(module: str) -> Path:
    """The file of a module or package named in ``PACKAGES`` (a package is its ``__init__.py``)."""
    rel = Path(*module.split(".")[1:])
    folder = ROOT / rel
    return folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")


def summary(module: str) -> str:
    """The first line of a module's docstring, read without importing it."""
    doc = ast.get_docstring(ast.parse(source_path(module).read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def listed_modules() -> set[str]:
    """Every module and package this list names."""
    out = set(PACKAGES)
    for package, modules in PACKAGES.items():
        out |= {f"{package}.{m}" for m in modules}
    return out


def modules_on_disk() -> set[str]:
    """Every module and package under ``bench/``."""
    out = set()
    for path in ROOT.rglob("*.py"):
        parts = ("bench", *path.relative_to(ROOT).with_suffix("").parts)
        out.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def subpackages(package: str) -> list[str]:
    """The packages directly inside ``package``, in list order."""
    return [p for p in PACKAGES if p.rsplit(".", 1)[0] == package and p != package]


def package_map(package: str) -> str:
    """The map a package's docstring ends with: its modules, then its sub-packages, one line each."""
    lines = [BEGIN, ""]
    lines += [f"* ``{m}``: {summary(f'{package}.{m}')}" for m in PACKAGES[package]]
    lines += [f"* ``{p.rsplit('.', 1)[1]}/``: {summary(p)}" for p in subpackages(package)]
    return "\n".join(lines)


def layout_markdown() -> str:
    """The docs' layout page: every package and module with its one-line summary, in reading order."""
    out = []
    for package, modules in PACKAGES.items():
        folder = "bench/" + "/".join(package.split(".")[1:])
        out += [f"## `{folder.rstrip('/')}/`", "", summary(package), ""]
        out += [f"- `{m}.py`: {summary(f'{package}.{m}')}" for m in modules]
        out.append("")
    return "\n".join(out)


def stale_maps() -> list[str]:
    """The packages whose docstring does not end with their current map."""
    return [p for p in PACKAGES if not _docstring(p).rstrip().endswith(package_map(p))]


def _docstring(package: str) -> str:
    return ast.get_docstring(ast.parse(source_path(package).read_text(encoding="utf-8")), clean=False) or ""


def write_maps() -> list[str]:
    """Rewrite each stale package docstring's map in place (everything above ``Modules:`` is kept); return them."""
    changed = stale_maps()
    for package in changed:
        path = source_path(package)
        text = path.read_text(encoding="utf-8")
        old = _docstring(package)
        intro = old.split("\n" + BEGIN + "\n")[0].rstrip() if ("\n" + BEGIN + "\n") in old else old.rstrip()
        new = f"{intro}\n\n{package_map(package)}\n"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return changed


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in write_maps():
        log.info("rewrote the map of %s", name)
